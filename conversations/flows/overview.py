"""What a person sees about themselves: status, the home view, help and the community page."""

from __future__ import annotations

from typing import Any

from conversations.core.interactions import (
    Actor,
    ChatKind,
    HomeOpened,
    Installed,
    NoReply,
    Outcome,
    Reply,
    ShowHome,
)
from conversations.core.markup import escape
from conversations.core.model import Participant, Status
from conversations.core.refs import UserRef
from conversations.core.routes import CommandRoute, Handler, Lane, Unknown, Who, button, command, on
from conversations.core.views import Actions, Block, Button, Context, Divider, Header, Home, Message, Section
from conversations.flows import inbox
from conversations.flows.assignments import current_assignment, interrupted_send, open_tasks
from conversations.flows.context import Ctx
from conversations.flows.coordination import figures
from conversations.flows.lookup import Call


def participant_blocks(ctx: Ctx, p: Participant) -> list[Block]:
    cohort = ctx.uow.cohorts.get(p.cohort_id)
    assert cohort is not None
    blocks: list[Block] = [Section(f"**{escape(cohort.name)}**: you're {p.status}.")]
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        buddies = [m for m in ctx.uow.matches.members(match.id) if m.id != p.id]
        names = " and ".join(f"**{escape(b.display_name)}**" for b in buddies)
        blocks.append(Section(f"Your buddy: {names}"))
        waiting = open_tasks(ctx, p)  # every open task, so a newer one never hides an older one
        for open_assignment, open_task in waiting if len(waiting) > 1 else []:
            mine = [r for r in ctx.uow.responses.for_assignment(open_assignment.id) if r.author_id == p.id]
            state = f"you've sent {len(mine)} of {len(open_task.phases)} parts" if mine else "not started"
            blocks.append(Section(f"Open task: _{escape(open_task.title)}_, due "
                                  f"{open_assignment.due_at:%a %-d %b} ({state})."))  # fmt: skip
            blocks.append(Actions((Button(f"Respond: {open_task.title}"[:75], "respond", str(open_assignment.id),
                                          style="primary", opens_form=True),)))  # fmt: skip
        assignment = current_assignment(ctx, p)
        task = ctx.uow.tasks.get(assignment.task_key) if assignment else None
        if assignment is not None and task is not None and len(waiting) <= 1:
            mine = [r for r in ctx.uow.responses.for_assignment(assignment.id) if r.author_id == p.id]
            state = f"you've sent {len(mine)} of {len(task.phases)} parts" if mine else "not started"
            blocks.append(
                Section(f"Current task: _{escape(task.title)}_, due {assignment.due_at:%a %-d %b} ({state}).")
            )
            blocks.append(
                Actions((Button("Respond", "respond", str(assignment.id), style="primary", opens_form=True),))
            )
    elif p.status == "waiting":
        blocks.append(Section("You're on the waiting list: I'll introduce you as soon as someone fits."))
    return blocks


def status_message(ctx: Ctx, user: UserRef) -> Message:
    p = ctx.participant(user)
    coordinated = _coordinated(ctx, user)
    blocks: list[Block] = participant_blocks(ctx, p) if p else []
    if p is None and not coordinated:
        blocks.append(Section("You're not in a buddy scheme yet: use `join` to sign up."))
    for cohort in coordinated:
        interrupted = interrupted_send(ctx, cohort)
        blocks += [Divider(), Header(f"{cohort.name} (you coordinate)"[:150]),
                   *([Section(f"⚠️ {interrupted}")] if interrupted else []),
                   Section("", fields=tuple(figures(ctx, cohort))),
                   Actions((Button("Import registrations", "cohort_import", str(cohort.id), opens_form=True),
                            Button("Match preview", "match_preview", str(cohort.id)),
                            Button("Export", "cohort_export", str(cohort.id)),
                            Button("Spreadsheet", "cohort_export_xlsx", str(cohort.id)),
                            Button("Chart", "status_chart", str(cohort.id))))]  # fmt: skip
    return Message("Your buddy scheme status", tuple(blocks))


def home(ctx: Ctx, user: UserRef) -> Home:
    message = status_message(ctx, user)
    me = ctx.participant(user)
    paused = me is not None and me.status == Status.PAUSED
    buttons: tuple[Any, ...] = (
        Button("Edit profile", "profile", "", opens_form=True),
        Button("Resume", "resume", "") if paused else Button("Pause", "pause", ""),
        Button("Community", "community", ""),
    )
    if me is None:
        buttons = (
            Button("Join the scheme", "join", "", style="primary", opens_form=True),
            Button("Community", "community", ""),
        )
    return Home((Header("Buddy"), *message.blocks, Divider(), Actions(buttons)))


def _coordinated(ctx: Ctx, user: UserRef) -> list[Any]:
    return ctx.coordinated(user)


def may_run(ctx: Ctx, user: UserRef) -> list[CommandRoute]:
    """The commands this person may run, in the table's order."""
    if ctx.routes is None:
        return []
    audiences = {Who.ANYONE, Who.MEMBER}
    if ctx.coordinated(user):
        audiences.add(Who.COORDINATOR)
    if ctx.is_admin(user):
        audiences.add(Who.ADMIN)
    if ctx.is_organiser(user):
        audiences.add(Who.ORGANISER)
    return ctx.routes.command_routes(lambda r: r.who in audiences)


def help_message(ctx: Ctx, user: UserRef, intro: str = "") -> Message:
    routes = may_run(ctx, user)
    blocks: list[Block] = []
    if intro:
        blocks.append(Section(intro))
    blocks.append(
        Section("**What I can do**\n" + "\n".join(r.help_line for r in routes if r.who in EVERYONE))
    )
    running = [r for r in routes if r.who in (Who.COORDINATOR, Who.ADMIN)]
    if running:
        blocks.append(Section("**For coordinators**\n" + "\n".join(r.help_line for r in running)))
    organising = [r for r in routes if r.who is Who.ORGANISER]
    if organising:
        blocks.append(Section("**For network organisers**\n" + "\n".join(r.help_line for r in organising)))
    how = {"slack": "Type `/buddy <command>`, or just the command in your DM with me.",
           "teams": "Send the command in a chat with me (in a group chat, @mention me first)."}  # fmt: skip
    blocks.append(Context(how.get(user.platform, "Send me the command in a chat.")))
    return Message("Buddy help", tuple(blocks))


def unknown(ctx: Ctx, actor: Actor, typed: Unknown, chat: ChatKind = ChatKind.DIRECT) -> Outcome:
    """Words Buddy doesn't know: the nearest commands this person may run, or, for a sentence
    (someone writing to a person, not a bot), how to reach their coordinator. Never a wall of help.
    Only a sentence in the 1:1 chat goes to the coordinators: in a group chat it was said in front
    of others (the buddy, often) and the coordinators' reply could not come back there."""
    user = actor.ref
    routes = may_run(ctx, user)
    near = ctx.routes.closest(typed.words, routes) if ctx.routes else []
    if _sentence(typed.words) and not (near and len(typed.words) <= 2):
        member = ctx.participant(user)
        if chat != ChatKind.DIRECT:
            return Reply(Message.simple(
                "I haven't passed that on: I only take messages for your coordinators in our 1:1 chat, where "
                "nobody else sees them. Write to me there, or use `contact` to send them one privately."
                if member is not None else _reach_coordinator(ctx, user)))  # fmt: skip
        if member is not None:  # a buddy writing to a person: it goes to their coordinators' inbox
            return Reply(inbox.receive(ctx, member, typed.text))
        return Reply(Message.simple(_reach_coordinator(ctx, user)))
    if near:
        lines = "\n".join(r.help_line for r in near)
        return Reply(Message.simple(f"{escape(typed.reason)} Did you mean:\n{lines}"))
    mine = "\n".join(r.help_line for r in routes if r.who in EVERYONE)
    return Reply(Message.simple(f"{escape(typed.reason)} Here's what you can ask me:\n{mine}\n"
                                "Coordinators: `help` lists your commands too."))  # fmt: skip


def _sentence(words: tuple[str, ...]) -> bool:
    """Free text rather than a mistyped command: several words, or punctuation after the first."""
    return len(words) >= 3 or any(w[-1:] in ",.?!" for w in words[:2])


def _reach_coordinator(ctx: Ctx, user: UserRef) -> str:
    me = ctx.participant(user)
    cohort = ctx.uow.cohorts.get(me.cohort_id) if me else None
    if cohort is None:
        return ("I only understand commands, so I haven't passed that on to anyone. To join a buddy scheme "
                "type `join`; `help` lists everything I can do.")  # fmt: skip
    people = ", ".join(f"{{@{c.user_id}}}" for c in ctx.uow.cohorts.coordinators(cohort.id)[:3])
    return (
        f"I only understand commands, so I haven't passed that on. For anything about your buddy or "
        f"the scheme, please message your coordinator directly: {people}. `help` lists what I can do."
    )


def installed(ctx: Ctx, actor: Actor) -> Outcome:
    intro = ("Hello! I'm Buddy: I pair clinicians with managers so each learns how the other side "
             "works, with a short task each week. Here's what I can do:")  # fmt: skip
    return Reply(help_message(ctx, actor.ref, intro=intro))


EVERYONE = (Who.ANYONE, Who.MEMBER)
_ignore: Handler = lambda call: NoReply()  # noqa: E731 - link buttons: the platform opens the link


def _status(call: Call) -> Message:
    return status_message(call.ctx, call.user)


def _help(call: Call) -> Message:
    return help_message(call.ctx, call.user)


ROUTES = (
    command("help", "show what I can do", _help, who=Who.ANYONE),
    command("status", "your buddy and task (coordinators: the cohort's figures)", _status, who=Who.ANYONE,
            admin_lane=Lane.COORDINATOR),
    button("help", _help, who=Who.ANYONE),
    button("status", _status, who=Who.ANYONE, admin_lane=Lane.COORDINATOR),
    button("open_channel", _ignore, who=Who.ANYONE),
    button("open_group_chat", _ignore, who=Who.ANYONE),
    on(HomeOpened, lambda call: ShowHome(home(call.ctx, call.user)), admin_lane=Lane.COORDINATOR),
    on(Installed, lambda call: installed(call.ctx, call.actor)),
)  # fmt: skip
