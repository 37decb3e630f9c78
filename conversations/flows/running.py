"""Coordinators run the scheme in chat: groups, the waiting list, people, hand-made pairs,
coordinators, announcements and reading answers (issue 13)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conversations.core.interactions import CloseForm, FormErrors, Outcome, ShowForm
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, Match, MatchStatus, Participant, Status, TaskDefinition
from conversations.core.profiles import describe
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command, form
from conversations.core.views import (
    Actions,
    Block,
    Button,
    Context,
    Form,
    Header,
    LongText,
    Message,
    Option,
    Section,
    Select,
    ShortText,
)
from conversations.delivery.outbox import queue, to_user
from conversations.flows.assignments import complete_for, to_members
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, id_number, target
from conversations.flows.matchmaking import (
    MATCHABLE,
    _matchable,
    _named,
    _new_match,
    _role_plural,
    candidate,
    end_match_for_departure,
    rematch,
    rules_for,
)
from conversations.matching import best_partners, explain_group
from conversations.ports.store import GroupActivity, PersonRow

PAGE = 15  # groups per page: two blocks each keeps a page within Slack's 50 blocks and a Teams card
FILTERS = ("all", "quiet", "waiting")


# ---- targets ----------------------------------------------------------------------------------


@target("group")
def _group(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """An active group of a cohort in the actor's workspace (the route checks they coordinate it)."""
    number = id_number(value)
    match = ctx.uow.matches.get(number) if number is not None else None
    cohort = ctx.uow.cohorts.get(match.cohort_id) if match else None
    if match is None or cohort is None or not in_workspace(cohort, user):
        raise Refusal("That group no longer exists.")
    if match.status != MatchStatus.ACTIVE:
        raise Refusal("That group has already ended or been re-matched.")
    return match, cohort


@target("person")
def _person(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    number = id_number(value)
    person = ctx.uow.participants.get(number) if number is not None else None
    cohort = ctx.uow.cohorts.get(person.cohort_id) if person else None
    if person is None or cohort is None or not in_workspace(cohort, user) or person.status == Status.LEFT:
        raise Refusal("That person is no longer in the scheme.")  # left, or erased: nothing to act on
    return person, cohort


@target("groups_page")
def _groups_page(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``COHORT:FILTER:PAGE``: a page of a cohort's groups."""
    parts = value.split(":")
    number = id_number(parts[0]) if len(parts) == 3 else None
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    page = id_number(parts[2]) if len(parts) == 3 else None
    if cohort is None or not in_workspace(cohort, user) or parts[1] not in FILTERS or not page:
        raise Refusal("That list is out of date: type `groups` again.")
    return (parts[1], page), cohort


@target("pairing")
def _pairing(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``COHORT:A-B[-C]``: people of one cohort a coordinator is pairing by hand."""
    cohort_id, _, ids = value.partition(":")
    number = id_number(cohort_id)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    wanted = [id_number(i) for i in ids.split("-")]
    if cohort is None or not in_workspace(cohort, user) or not 2 <= len(wanted) <= 3 or None in wanted:
        raise Refusal("That pairing is out of date: type `pair` again.")
    people = ctx.uow.participants.many([i for i in wanted if i is not None])
    if len(people) != len(wanted) or any(p.cohort_id != cohort.id for p in people):
        raise Refusal("That pairing is out of date: type `pair` again.")
    return people, cohort


@target("announcement")
def _announcement(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``COHORT:DRAFT``: the announcement draft a coordinator previewed."""
    cohort_id, _, draft = value.partition(":")
    number = id_number(cohort_id)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    if cohort is None or not in_workspace(cohort, user):
        raise Refusal("That announcement is out of date: type `announce` again.")
    current = (cohort.settings or {}).get("announcement")
    if not current or str(current.get("draft")) != draft:
        raise Refusal(
            "That announcement has already been sent or replaced: type `announce` to write another."
        )
    return current, cohort


# ---- groups -----------------------------------------------------------------------------------


@dataclass
class GroupRow:
    group: GroupActivity
    members: list[PersonRow]
    last_active: datetime | None
    task: str
    progress: str
    quiet: bool
    waiting_on: list[PersonRow]  # members the others are waiting for


def group_state(g: GroupActivity, tasks: dict[str, TaskDefinition], now: datetime,
                quiet_after: timedelta) -> tuple[datetime | None, str, str, bool, list[int]]:  # fmt: skip
    """A group's last activity, current task title, progress, whether it is quiet, and the members
    the others are waiting for (their ids)."""
    ids = [pid for pid, _, _ in g.members]
    task = tasks.get(g.task_key) if g.assignment_id is not None else None
    times = [seen for _, _, seen in g.members if seen] + [s.submitted_at for s in g.said]
    last = max(times) if times else None
    title, progress, waiting_on = "", "no task yet", []
    if task is not None:
        title = task.title
        authors = {s.author_id for s in g.said}
        done = complete_for(task, g.said, ids)
        progress = "done" if done else f"{len(authors & set(ids))} of {len(ids)} have written"
        if authors and not done:
            waiting_on = [
                pid for pid, status, _ in g.members if pid not in authors and status == Status.MATCHED
            ]
    since = last or (g.posted_at if g.assignment_id is not None else g.created_at)
    quiet = since is not None and now - since >= quiet_after and progress != "done"
    return last, title, progress, quiet, waiting_on


def group_rows(ctx: Ctx, cohort: Cohort, ids: Sequence[int] | None = None, people: dict[int, PersonRow] | None = None,
               activity: Sequence[GroupActivity] | None = None) -> list[GroupRow]:  # fmt: skip
    """Every active group (of ``ids``, when given) with its activity and current task, in a
    handful of queries whatever the cohort's size (``people``, ``activity``: the cohort's, when
    already read)."""
    if activity is None:
        activity = ctx.uow.matches.activity(cohort.id, ctx.now, ids)
    if people is None:
        wanted = {pid for g in activity for pid, _, _ in g.members}
        people = {p.id: p for p in ctx.uow.participants.listing(cohort.id, wanted)}
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    quiet_after = timedelta(days=cohort.nudge_pair_days)
    rows = []
    for g in activity:
        members = [people[pid] for pid, _, _ in g.members if pid in people]
        last, title, progress, quiet, waiting = group_state(g, tasks, ctx.now, quiet_after)
        rows.append(GroupRow(g, members, last, title, progress, quiet,
                             [people[pid] for pid in waiting if pid in people]))  # fmt: skip
    return rows


def groups_page(ctx: Ctx, cohort: Cohort, which: str, page: int) -> Message:
    if which == "all":  # only the page's groups are read: the same cost at 10 or 10,000 groups
        ids = sorted(ctx.uow.matches.active_ids(cohort.id))
    else:  # plain rows for every group, then the page's members
        tasks = {t.key: t for t in ctx.uow.tasks.all()}
        quiet_after = timedelta(days=cohort.nudge_pair_days)
        ids = []
        for g in ctx.uow.matches.activity(cohort.id, ctx.now):
            _, _, _, quiet, waiting_on = group_state(g, tasks, ctx.now, quiet_after)
            if quiet if which == "quiet" else waiting_on:
                ids.append(g.match_id)
    total = len(ids)
    shown = group_rows(ctx, cohort, ids[(page - 1) * PAGE : page * PAGE]) if ids else []
    pages = max(1, -(-total // PAGE))
    if page > pages:
        raise Refusal(f"There are only {pages} pages of groups: try `groups {which} page={pages}`.")
    label = {"all": "groups", "quiet": "quiet groups", "waiting": "groups where someone is waiting"}[which]
    blocks: list[Block] = [Header(f"{cohort.name}: {label}"[:150])]
    if not total:
        blocks.append(Section(f"There are no {label} in **{escape(cohort.name)}** at the moment."))
    for row in shown:
        names = " and ".join(f"**{escape(p.display_name)}**" + ("" if p.status == Status.MATCHED
                             else f" ({p.status})") for p in row.members)  # fmt: skip
        seen = f"last active {row.last_active:%a %-d %b}" if row.last_active else "no activity yet"
        task = f"_{escape(row.task)}_: {row.progress}" if row.task else row.progress
        extra = ""
        if row.waiting_on:
            extra = " · waiting on " + " and ".join(escape(p.display_name) for p in row.waiting_on)
        if row.quiet:
            extra += " · quiet"
        value = str(row.group.match_id)
        blocks.append(Section(f"{names}\nRound {row.group.round} · {seen} · {task}{extra}"))
        blocks.append(Actions((Button("Message group", "group_message", value, opens_form=True),
                               Button("Re-match", "group_rematch", value),
                               Button("End group", "group_end", value, style="danger"))))  # fmt: skip
    nav = []
    if page > 1:
        nav.append(Button("Previous page", "groups_page", f"{cohort.id}:{which}:{page - 1}"))
    if page < pages:
        nav.append(Button("Next page", "groups_page", f"{cohort.id}:{which}:{page + 1}"))
    blocks.append(Context(f"Page {page} of {pages} · {total} {label}"))
    if nav:
        blocks.append(Actions(tuple(nav)))
    return Message(f"{cohort.name}: {total} {label}", tuple(blocks), carries_user_text=True)


def _groups(call: Call) -> Message:
    which = call.args[0].lower() if call.args else "all"
    if which not in FILTERS:
        raise Refusal(
            f"“{escape(call.args[0])}” isn't a list I keep: use `groups`, `groups quiet` or `groups waiting`."
        )
    raw = call.options.get("page", "1")
    page = id_number(raw)
    if not page:
        raise Refusal(f"page= takes a page number, e.g. `groups {which} page=2`.")
    return groups_page(call.ctx, call.the_cohort, which, page)


def _groups_button(call: Call) -> Message:
    which, page = call.target
    return groups_page(call.ctx, call.the_cohort, which, page)


def _message_form(call: Call) -> Outcome:
    match: Match = call.target
    names = " and ".join(p.display_name for p in call.ctx.uow.matches.members(match.id))
    return ShowForm(Form("group_message", "Message the group",
                         (LongText("text", f"Your message to {names}"[:150], max_chars=2000),),
                         submit_label="Send", state=str(match.id)))  # fmt: skip


def _message_send(call: Call) -> Outcome:
    match: Match = call.target
    raw = call.values.get("text")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FormErrors({"text": "Please write your message to the group before sending."})
    if len(text) > 2000:
        return FormErrors({"text": f"Your message is {len(text)} characters; the limit is 2,000."})
    ctx = call.ctx
    members = ctx.uow.matches.members(match.id)
    body = f"**A message from your coordinator:**\n{escape(text)}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]  # the same message twice at once is sent once
    to_members(ctx, match, members, f"coordinator-message:{match.id}:{ctx.now.isoformat()}:{digest}",
               Message("A message from your coordinator", (Section(body),), carries_user_text=True))  # fmt: skip
    ctx.audit(call.the_cohort, call.user, "group_message", match=match.id)
    names = " and ".join(escape(p.display_name) for p in members)
    return CloseForm(Message.simple(f"Sent your message to {names}."))


def end_group(ctx: Ctx, cohort: Cohort, match: Match, actor: UserRef, why: str = "") -> list[Participant]:
    """End a group: its members go to the top of the waiting list, and hear so."""
    match.status, match.ended_at = MatchStatus.ENDED, ctx.now
    moved = []
    for p in ctx.uow.matches.members(match.id):
        if p.status in (Status.MATCHED, Status.REGISTERED):
            p.status = Status.WAITING
            moved.append(p)
            queue(ctx.uow, f"group-ended:{match.id}:{p.id}", to_user(p.ref), Message.simple(
                f"Hello {escape(p.display_name)}: your coordinator has closed your buddy group in "
                f"**{escape(cohort.name)}**{why}. You're on the waiting list and I'll introduce you to someone "
                "new as soon as I can."), ctx.now)  # fmt: skip
    ctx.audit(cohort, actor, "group_end", match=match.id)
    return moved


def rematch_group(ctx: Ctx, cohort: Cohort, match: Match, actor: UserRef) -> list[str]:
    """End a group and find each member someone new (never a former buddy), or the waiting list."""
    people = end_group(ctx, cohort, match, actor, why=" so that you can meet someone new")
    outcomes = []
    for person in people:
        if person.status != Status.WAITING:  # already re-matched with someone earlier in this loop
            continue
        available = [p for p in _matchable(ctx, cohort) if p.id != person.id]
        rules = rules_for(ctx, cohort, [person, *available])
        group = best_partners(candidate(person), [candidate(p) for p in available], rules, seed=ctx.seed)
        if group is None:
            outcomes.append(f"{person.display_name} is on the waiting list")
            continue
        members = ctx.uow.participants.many(group.members)
        new = _new_match(ctx, cohort, members, group.score, list(group.reasons),
                         note="Your coordinator has found you someone new.")  # fmt: skip
        outcomes.append(f"{person.display_name} has a new group with "
                        + " and ".join(p.display_name for p in members if p.id != person.id))  # fmt: skip
        del new
    return outcomes


def _group_end(call: Call) -> Message:
    moved = end_group(call.ctx, call.the_cohort, call.target, call.user)
    names = " and ".join(escape(p.display_name) for p in moved) or "Nobody"
    return Message.simple(
        f"Ended the group. {names} {'is' if len(moved) == 1 else 'are'} now on the waiting list."
    )


def _group_rematch(call: Call) -> Message:
    outcomes = rematch_group(call.ctx, call.the_cohort, call.target, call.user)
    return Message.simple(
        "Re-matched: " + ("; ".join(escape(o) for o in outcomes) or "nobody to re-match") + "."
    )


# ---- the waiting list ---------------------------------------------------------------------------


def waiting_list(ctx: Ctx, cohort: Cohort) -> Message:
    waiting = ctx.uow.participants.in_cohort(cohort.id, (Status.WAITING,))
    registered = ctx.uow.participants.in_cohort(cohort.id, (Status.REGISTERED,))
    people = waiting + registered
    if not people:
        return Message.simple(
            f"Nobody is waiting in **{escape(cohort.name)}**: everyone is matched, paused or gone."
        )
    before = {key for pair in ctx.uow.matches.past_pairs(p.ref for p in people) for key in pair}
    lines = []
    for position, p in enumerate(people, start=1):
        if not p.consent_data:
            why = "hasn't agreed to the data use statement, so can't be matched"
        elif p.unreachable:
            why = "I can't reach them in chat"
        elif p.ref.key in before and p.status == Status.WAITING:
            why = "their group ended or their buddy stepped away"
        elif p.status == Status.WAITING:
            why = f"round {cohort.current_round} had more {_role_plural(p.role)} than partners"
        else:
            why = "registered since the last round: matched at the next one"
        since = f", since {p.registered_at:%-d %b}" if p.registered_at else ""
        lines.append(f"{position}. **{escape(p.display_name)}** ({escape(describe(p))}{since}): {why}")
    blocks: list[Block] = [Header(f"{cohort.name}: waiting list"[:150])]
    for start in range(0, min(len(lines), 400), 40):  # sections stay under each platform's text limit
        blocks.append(Section("\n".join(lines[start : start + 40])))
    if len(lines) > 400:
        blocks.append(Context(f"…and {len(lines) - 400} more: `export` has everyone."))
    blocks.append(
        Context("`match preview` proposes groups for everyone waiting; `pair @a @b` pairs people by hand.")
    )
    return Message(f"{cohort.name}: {len(people)} waiting", tuple(blocks), carries_user_text=True)


# ---- a person -------------------------------------------------------------------------------------


def person_card(ctx: Ctx, cohort: Cohort, p: Participant) -> Message:
    blocks: list[Block] = [Header(p.display_name[:150]),
                           Section(f"{escape(describe(p))} · {escape(cohort.name)} · **{p.status}**",
                                   fields=(("Email", escape(p.email) or "none"),
                                           ("Registered", f"{p.registered_at:%-d %b %Y}" if p.registered_at else "–"),
                                           ("Last active", f"{p.last_active_at:%-d %b}" if p.last_active_at
                                            else "not yet"),
                                           ("Quotable in digests", "yes" if p.consent_share else "no")))]  # fmt: skip
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        others = [m for m in ctx.uow.matches.members(match.id) if m.id != p.id]
        tasks = ctx.uow.assignments.for_match(match.id)
        written = [r for r in ctx.uow.responses.for_assignments(a.id for a in tasks) if r.author_id == p.id]
        blocks.append(Section(f"**Group** (round {match.round}): with "
                              + " and ".join(escape(o.display_name) for o in others)
                              + f"; {counted(len(tasks), 'task')} posted, {counted(len(written), 'answer')} written."))  # fmt: skip
    past = {key for pair in ctx.uow.matches.past_pairs([p.ref]) for key in pair if key != p.ref.key}
    if past:
        by_key = {q.ref.key: q for q in ctx.uow.participants.in_cohort(cohort.id)}
        names = sorted(
            escape(by_key[k].display_name) if k in by_key else "someone who has left" for k in past
        )
        blocks.append(Section("**History:** buddies with " + ", ".join(names)))
    threads = [m for m in ctx.uow.inbox.for_participants([p.id]) if m.thread_id is None]
    if threads:
        blocks.append(
            Context(
                f"{len(threads)} messages to coordinators, {sum(1 for t in threads if t.resolved_at is None)} open"
            )
        )
    value = str(p.id)
    buttons = []
    if p.status == Status.PAUSED:
        buttons.append(Button("Resume", "person_resume", value))
    elif p.status != Status.LEFT:
        buttons.append(Button("Pause", "person_pause", value))
    if p.status in (Status.MATCHED, Status.REGISTERED, Status.PAUSED):
        buttons.append(Button("Move to waiting list", "person_wait", value))
    if p.status != Status.LEFT:
        buttons.append(Button("Remove from scheme", "person_remove", value, style="danger"))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    return Message(f"{p.display_name}: {p.status}", tuple(blocks), carries_user_text=True)


def _show_person(call: Call) -> Message:
    (p,) = call.people(1, example="person @asha")
    return person_card(call.ctx, call.the_cohort, p)


def _person_pause(call: Call) -> Message:
    p: Participant = call.target
    if p.status == Status.PAUSED:
        raise Refusal(f"{escape(p.display_name)} is already paused.")
    p.status = Status.PAUSED
    queue(call.ctx.uow, f"coordinator-pause:{p.id}:{call.ctx.now.isoformat()}", to_user(p.ref), Message.simple(
        "Your coordinator has paused your place in the buddy scheme: no tasks or reminders until you `resume`."),
        call.ctx.now)  # fmt: skip
    call.ctx.audit(call.the_cohort, call.user, "person_pause", participant=p.id)
    return person_card(call.ctx, call.the_cohort, p)


def _person_resume(call: Call) -> Message:
    p: Participant = call.target
    if p.status != Status.PAUSED:
        raise Refusal(f"{escape(p.display_name)} isn't paused, so there's nothing to resume.")
    p.status = Status.MATCHED if call.ctx.uow.matches.active_for(p.id) else Status.REGISTERED
    call.ctx.audit(call.the_cohort, call.user, "person_resume", participant=p.id)
    return person_card(call.ctx, call.the_cohort, p)


def _person_wait(call: Call) -> Message:
    p: Participant = call.target
    ctx = call.ctx
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        rematch(ctx, match, [p], leaving=True)  # the rest of the group go on, or find someone new
    p.status = Status.WAITING
    queue(ctx.uow, f"coordinator-wait:{p.id}:{ctx.now.isoformat()}", to_user(p.ref), Message.simple(
        f"Hello {escape(p.display_name)}: your coordinator has put you on the waiting list of "
        f"**{escape(call.the_cohort.name)}**; I'll introduce you to someone new as soon as I can."), ctx.now)  # fmt: skip
    ctx.audit(call.the_cohort, call.user, "person_wait", participant=p.id)
    return person_card(ctx, call.the_cohort, p)


def _person_remove(call: Call) -> Message:
    p: Participant = call.target
    ctx = call.ctx
    if p.status == Status.LEFT:
        raise Refusal(f"{escape(p.display_name)} has already left the scheme.")
    p.status = Status.LEFT
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        end_match_for_departure(ctx, match, p)
    queue(ctx.uow, f"coordinator-remove:{p.id}", to_user(p.ref), Message.simple(
        f"Your coordinator has removed you from **{escape(call.the_cohort.name)}**. If that's a surprise, "
        "please reply here and I'll pass it on."), ctx.now)  # fmt: skip
    ctx.audit(call.the_cohort, call.user, "person_remove", participant=p.id)
    return person_card(ctx, call.the_cohort, p)


# ---- pairing by hand --------------------------------------------------------------------------------


def _pair(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    if not 2 <= len(call.mentions) <= 3:
        raise Refusal("Mention two or three people, e.g. `pair @asha @ben` or `pair @asha @ben @cara`.")
    people = call.people()
    if len({p.id for p in people}) != len(people):
        raise Refusal("Mention each person once.")
    blocks: list[Block] = [Header("Pair by hand"),
                           Section(" and ".join(f"**{escape(p.display_name)}** ({escape(describe(p))})"
                                                for p in people))]  # fmt: skip
    problems = []
    for p in people:
        if p.status not in MATCHABLE:
            problems.append(
                f"{escape(p.display_name)} is {p.status}"
                + (": confirming takes them out of their current group" if p.status == Status.MATCHED else "")
            )
    try:
        group = explain_group([candidate(p) for p in people], rules_for(ctx, cohort, people))
        why = "; ".join(escape(r) for r in group.reasons) or "no particular reasons"
        blocks.append(Section(f"**The matcher's view:** score {group.score:.2f}; {why}."))
    except ValueError as broken:
        problems.append(_named(ctx, str(broken)))
    if problems:
        blocks.append(Section("**Rules this breaks:**\n" + "\n".join(f"- {p}" for p in problems)))
    value = f"{cohort.id}:" + "-".join(str(p.id) for p in people)
    label = "Pair them anyway" if problems else "Pair them"
    blocks.append(Actions((Button(label, "pair_confirm", value, style="danger" if problems else "primary"),)))
    return Message("Pair by hand: check and confirm", tuple(blocks), carries_user_text=True)


def _pair_confirm(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    people: list[Participant] = call.target
    gone = [p for p in people if p.status == Status.LEFT]
    if gone:
        raise Refusal(f"{escape(gone[0].display_name)} has left the scheme, so I can't pair them.")
    for p in people:
        current = ctx.uow.matches.active_for(p.id)
        if current is not None:
            rematch(ctx, current, [p], leaving=True)
    try:
        group = explain_group([candidate(p) for p in people], rules_for(ctx, cohort, people))
        score, reasons = group.score, list(group.reasons)
    except ValueError:
        score, reasons = 0.0, []
    match = _new_match(ctx, cohort, people, score, reasons, note="Your coordinator paired you by hand.")
    ctx.audit(cohort, call.user, "pair", match=match.id, people=[p.id for p in people])
    return Message.simple("Paired " + " and ".join(escape(p.display_name) for p in people)
                          + ": I've introduced them.")  # fmt: skip


# ---- coordinators --------------------------------------------------------------------------------


def _coordinator_remove(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    if len(call.mentions) != 1:
        raise Refusal("Mention one person: `coordinator remove @name`.")
    who = call.mentions[0]
    rows = ctx.uow.cohorts.coordinators(cohort.id)
    row = next((c for c in rows if (c.platform, c.workspace, c.user_id) == (who.platform, who.workspace, who.user_id)),
               None)  # fmt: skip
    if row is None:
        raise Refusal(f"{{@{escape(who.user_id)}}} doesn't coordinate **{escape(cohort.name)}**.")
    if len(rows) == 1:
        raise Refusal(f"{{@{escape(who.user_id)}}} is the only coordinator of **{escape(cohort.name)}**: "
                      "add another with `coordinator add @name` first.")  # fmt: skip
    ctx.uow.cohorts.delete_coordinator(row)
    ctx.audit(cohort, call.user, "coordinator_remove", user_id=who.user_id)
    return Message.simple(f"{{@{escape(who.user_id)}}} no longer coordinates **{escape(cohort.name)}**.")


# ---- announcements ---------------------------------------------------------------------------------

AUDIENCES = (("everyone", "Everyone taking part"), ("matched", "People in a group"),
             ("waiting", "People on the waiting list"), ("round", "One round's groups"))  # fmt: skip


def announce_form(cohort: Cohort, draft: dict[str, Any] | None = None) -> Form:
    draft = draft or {}
    return Form("announce", "Announcement", (
        LongText("text", f"Your message to {cohort.name}"[:150], max_chars=2000, initial=draft.get("text", "")),
        Select("audience", "Who gets it", tuple(Option(v, label) for v, label in AUDIENCES),
               initial=draft.get("audience", "everyone")),
        ShortText("round", "Round (only for “One round's groups”)", required=False, max_chars=4,
                  initial=str(draft.get("round", "")) if draft.get("round") else ""),
    ), submit_label="Preview", state=str(cohort.id))  # fmt: skip


def audience(ctx: Ctx, cohort: Cohort, who: str, round_: int = 0) -> list[Participant]:
    """Who an announcement reaches: never paused, departed or unreachable people."""
    if who == "matched":
        people = ctx.uow.participants.in_cohort(cohort.id, (Status.MATCHED,))
    elif who == "waiting":
        people = ctx.uow.participants.in_cohort(cohort.id, (Status.WAITING, Status.REGISTERED))
    elif who == "round":
        in_round = [m.id for m in ctx.uow.matches.active_in(cohort.id) if m.round == round_]
        ids = {r.participant_id for r in ctx.uow.matches.member_rows(in_round)}
        people = [p for p in ctx.uow.participants.in_cohort(cohort.id, (Status.MATCHED,)) if p.id in ids]
    else:
        people = ctx.uow.participants.in_cohort(
            cohort.id, (Status.REGISTERED, Status.WAITING, Status.MATCHED)
        )
    return [p for p in people if not p.unreachable]


def _announce(call: Call) -> Outcome:
    return ShowForm(announce_form(call.the_cohort))


def _announce_edit(call: Call) -> Outcome:
    return ShowForm(announce_form(call.the_cohort, call.target))


def _announce_preview(call: Call) -> Outcome:
    ctx, cohort = call.ctx, call.the_cohort
    raw, who, raw_round = call.values.get("text"), call.values.get("audience"), call.values.get("round")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FormErrors({"text": "Please write the announcement."})
    if len(text) > 2000:
        return FormErrors({"text": f"The announcement is {len(text)} characters; the limit is 2,000."})
    if who not in {v for v, _ in AUDIENCES}:
        return FormErrors({"audience": "Please choose who gets it."})
    round_ = 0
    if who == "round":
        round_ = id_number(raw_round.strip()) or 0 if isinstance(raw_round, str) else 0
        if not 1 <= round_ <= max(cohort.current_round, 0):
            return FormErrors({"round": f"Please give a round from 1 to {cohort.current_round}, e.g. 1."
                               if cohort.current_round else "No round has been matched yet: choose another audience."})  # fmt: skip
    people = audience(ctx, cohort, str(who), round_)
    number = int((cohort.settings or {}).get("announcement_drafts", 0)) + 1  # each preview its own button
    draft = {"draft": number, "text": text, "audience": who, "round": round_, "by": call.user.key}
    cohort.settings = {**(cohort.settings or {}), "announcement": draft, "announcement_drafts": number}
    label = dict(AUDIENCES)[str(who)] + (f" {round_}" if round_ else "")
    value = f"{cohort.id}:{number}"
    return CloseForm(Message("Announcement preview", (
        Header("Preview"), Section(f"**From your coordinator:**\n{escape(text)}"),
        Context(f"To: {escape(label)}, {counted(len(people), 'person')} (paused and departed people are left out)."),
        Actions((Button(f"Send to {counted(len(people), 'person')}", "announce_send", value, style="primary"),
                 Button("Edit", "announce_edit", value, opens_form=True))),
    ), carries_user_text=True))  # fmt: skip


def _announce_send(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    draft: dict[str, Any] = call.target
    people = audience(ctx, cohort, draft["audience"], int(draft.get("round") or 0))
    body = f"**From your coordinator:**\n{escape(draft['text'])}"
    message = Message(f"An announcement from {cohort.name}", (Section(body),), carries_user_text=True)
    sent = sum(queue(ctx.uow, f"announce:{cohort.id}:{draft['draft']}:{p.id}", to_user(p.ref), message, ctx.now)
               for p in people)  # fmt: skip
    cohort.settings = {k: val for k, val in (cohort.settings or {}).items() if k != "announcement"}
    ctx.audit(cohort, call.user, "announce", audience=draft["audience"], recipients=sent)
    return Message.simple(f"Sent your announcement to {counted(sent, 'person')}.")


# ---- answers ------------------------------------------------------------------------------------------


def answers(ctx: Ctx, cohort: Cohort, task_key: str | None, person: Participant | None) -> Message:
    """Coordinators read answers of people who agreed to the data use statement."""
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    if task_key is not None and task_key not in tasks:
        raise Refusal(f"There's no task “{escape(task_key)}”. Tasks: {', '.join(f'`{k}`' for k in tasks)}.")
    if person is not None:
        match = ctx.uow.matches.active_for(person.id)
        if match is None:
            raise Refusal(f"{escape(person.display_name)} isn't in a group at the moment.")
        matches = [match]
    else:
        matches = ctx.uow.matches.active_in(cohort.id)
    assignments = [a for a in ctx.uow.assignments.for_matches(m.id for m in matches)
                   if task_key is None or a.task_key == task_key]  # fmt: skip
    people = {p.id: p for p in ctx.uow.participants.in_cohort(cohort.id)}
    members: dict[int, list[int]] = defaultdict(list)
    for row in ctx.uow.matches.member_rows(m.id for m in matches):
        members[row.match_id].append(row.participant_id)
    by_assignment = {a.id: a for a in assignments}
    lines, hidden = [], 0
    for r in ctx.uow.responses.for_assignments(by_assignment):
        a = by_assignment[r.assignment_id]
        owners = members[a.match_id] if r.owner_id == 0 else [r.author_id]
        if not all(
            people.get(o) and people[o].consent_data and people[o].status != Status.LEFT for o in owners
        ):
            hidden += 1
            continue
        task = tasks.get(a.task_key)
        phase = next((p.label for p in task.phases if p.key == r.phase), r.phase) if task else r.phase
        who = "joint answer of " + " and ".join(people[o].display_name for o in owners) if r.owner_id == 0 \
            else people[r.author_id].display_name  # fmt: skip
        snippet = r.text if len(r.text) <= 400 else r.text[:399] + "…"
        lines.append(f"**{escape(who)}**, _{escape(task.title if task else a.task_key)}_, {escape(phase)}:\n"
                     f"{escape(snippet)}")  # fmt: skip
    if not lines:
        raise Refusal(
            "There are no answers to show yet" + (f" ({hidden} held back: no consent)." if hidden else ".")
        )
    shown = lines[:30]
    blocks: list[Block] = [Header(f"Answers: {cohort.name}"[:150])]
    blocks += [Section(line) for line in shown]
    notes = []
    if len(lines) > len(shown):
        notes.append(
            f"{len(lines) - len(shown)} more: narrow it with `answers TASK @person`, or `export xlsx`"
        )
    if hidden:
        notes.append(
            f"{counted(hidden, 'answer')} held back: their authors haven't agreed to coordinators using their details"
        )
    if notes:
        blocks.append(Context("; ".join(notes) + "."))
    return Message(f"Answers in {cohort.name}", tuple(blocks), carries_user_text=True)


def _answers(call: Call) -> Message:
    words = [a for a in call.args if not a.startswith("@")]
    if len(words) > 1 or len(call.mentions) > 1:
        raise Refusal("Use `answers`, `answers TASK` or `answers TASK @person`.")
    person = call.people()[0] if call.mentions else None
    return answers(call.ctx, call.the_cohort, words[0] if words else None, person)


def _waiting(call: Call) -> Message:
    return waiting_list(call.ctx, call.the_cohort)


C = Who.COORDINATOR
ROUTES = (
    command("groups [quiet|waiting|all] [page=N]", "list the groups, with buttons to message, re-match or end one",
            _groups, who=C),
    command("person @x", "one person's card: profile, group, history; pause, resume, remove", _show_person,
            who=C),
    command("pair @a @b [@c]", "pair people by hand (shows the matcher's view first)", _pair, who=C),
    command("coordinator remove @person", "stop someone coordinating", _coordinator_remove, who=C),
    command("announce", "write an announcement, preview it and choose who gets it", _announce, who=C),
    command("answers [TASK] [@person]", "read the answers (of people who agreed)", _answers, who=C),
    button("groups_page", _groups_button, who=C, target="groups_page"),
    button("group_message", _message_form, who=C, target="group"),
    button("group_rematch", _group_rematch, who=C, target="group"),
    button("group_end", _group_end, who=C, target="group"),
    button("person_pause", _person_pause, who=C, target="person"),
    button("person_resume", _person_resume, who=C, target="person"),
    button("person_wait", _person_wait, who=C, target="person"),
    button("person_remove", _person_remove, who=C, target="person"),
    button("pair_confirm", _pair_confirm, who=C, target="pairing"),
    button("announce_send", _announce_send, who=C, target="announcement"),
    button("announce_edit", _announce_edit, who=C, target="announcement"),
    form("group_message", _message_send, who=C, target="group", error_field="text"),
    form("announce", _announce_preview, who=C, target="cohort", error_field="text"),
)  # fmt: skip
