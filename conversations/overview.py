"""What a person sees about themselves: status, the home view, help and the community page."""

from __future__ import annotations

from typing import Any

from conversations.assignments import current_assignment, interrupted_send
from conversations.commands import SPECS
from conversations.context import Ctx
from conversations.coordination import figures
from conversations.markup import escape
from conversations.model import Participant, Status
from conversations.refs import UserRef
from conversations.views import Actions, Block, Button, Context, Divider, Header, Home, Message, Section


def participant_blocks(ctx: Ctx, p: Participant) -> list[Block]:
    cohort = ctx.uow.cohorts.get(p.cohort_id)
    assert cohort is not None
    blocks: list[Block] = [Section(f"**{escape(cohort.name)}**: you're {p.status}.")]
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        buddies = [m for m in ctx.uow.matches.members(match.id) if m.id != p.id]
        names = " and ".join(f"**{escape(b.display_name)}**" for b in buddies)
        blocks.append(Section(f"Your buddy: {names}"))
        assignment = current_assignment(ctx, p)
        task = ctx.uow.tasks.get(assignment.task_key) if assignment else None
        if assignment is not None and task is not None:
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
                            Button("Export", "cohort_export", str(cohort.id))))]  # fmt: skip
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
    if ctx.is_admin(user):
        return [
            c for c in ctx.uow.cohorts.all() if c.platform == user.platform and c.workspace == user.workspace
        ]
    return ctx.uow.cohorts.coordinated_by(user)


def help_message(ctx: Ctx, user: UserRef, intro: str = "") -> Message:
    coordinator = bool(_coordinated(ctx, user)) or ctx.is_admin(user)
    lines = [f"`{s.usage}`: {s.summary}" for s in SPECS if not s.coordinator]
    blocks: list[Block] = []
    if intro:
        blocks.append(Section(intro))
    blocks.append(Section("**What I can do**\n" + "\n".join(lines)))
    if coordinator:
        lines = [f"`{s.usage}`: {s.summary}" for s in SPECS if s.coordinator]
        blocks.append(Section("**For coordinators**\n" + "\n".join(lines)))
    how = {"slack": "Type `/buddy <command>`, or just the command in your DM with me.",
           "teams": "Send the command in a chat with me (in a group chat, @mention me first)."}  # fmt: skip
    blocks.append(Context(how.get(user.platform, "Send me the command in a chat.")))
    return Message("Buddy help", tuple(blocks))


def community(ctx: Ctx, user: UserRef) -> Message:
    """Community channels and events configured per cohort (``settings.community``, ``settings.events``)."""
    channels: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    for cohort in ctx.uow.cohorts.all():
        if cohort.platform == user.platform and cohort.workspace == user.workspace:
            channels += (cohort.settings or {}).get("community", [])
            events += (cohort.settings or {}).get("events", [])
    blocks: list[Block] = [Header("The network")]
    if not channels and not events:
        blocks.append(Section("No community channels or events have been listed yet; coordinators add them."))
    for ch in channels:
        text = f"**{escape(ch.get('name', ''))}**: {escape(ch.get('description', ''))}"
        blocks.append(Section(text))
        if ch.get("url", "").startswith("https://"):
            blocks.append(
                Actions((Button(f"Open {ch.get('name', 'channel')}"[:75], "open_channel", url=ch["url"]),))
            )
    for number, ev in enumerate(events, start=1):
        blocks.append(Section(f"{number}. 📅 **{escape(ev.get('title', ''))}**, {escape(ev.get('when', ''))}: "
                              f"{escape(ev.get('description', ''))}"))  # fmt: skip
    return Message("Community channels and events", tuple(blocks))
