"""Posting tasks to buddy groups and collecting their responses, phase by phase."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from conversations.core import patient_data
from conversations.core.cadence import Cadence
from conversations.core.interactions import CloseForm, FormErrors, Outcome, Reply, ShowForm
from conversations.core.markup import counted, escape
from conversations.core.model import (
    Assignment,
    AuditEntry,
    Cohort,
    Match,
    Participant,
    Response,
    Status,
    TaskDefinition,
)
from conversations.core.phases import Phase
from conversations.core.refs import ConversationRef
from conversations.core.routes import InSlices, Who, button, command, form
from conversations.core.views import (
    Actions,
    Button,
    Context,
    DateField,
    Form,
    FormField,
    Header,
    LongText,
    Message,
    Note,
    Option,
    Section,
    Select,
)
from conversations.delivery.outbox import queue, to_conversation, to_group, to_user
from conversations.flows.authoring import bank_for, task_in_bank
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.flows.feedback import ask_rating
from conversations.flows.lookup import Call
from conversations.ports.store import Answer, Said

FORM_ID = "respond"
JOINT = 0
_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


# ---- posting ----------------------------------------------------------------------------------


def check_bank(ctx: Ctx, task_key: str | None) -> None:
    """Refuse when there is nothing to send: an empty bank, or no task called ``task_key``."""
    bank = ctx.uow.tasks.all()
    if not bank:
        raise Refusal("The task bank is empty: load tasks with `buddybot tasks load FILE`.")
    if task_key is not None and ctx.uow.tasks.get(task_key) is None:
        keys = ", ".join(f"`{t.key}`" for t in bank)
        raise Refusal(f"There's no task “{escape(task_key)}” in the bank. Tasks: {keys}.")


def send_tasks(
    ctx: Ctx, cohort: Cohort, task_key: str | None = None, matches: Collection[int] | None = None
) -> list[Assignment]:
    """Post the next task (or ``task_key``) to every active group (of ``matches``, when given)
    that hasn't had it.

    Without a key, a group that has had a task posted in the cohort's current period (see
    :class:`~conversations.core.cadence.Cadence`) is left alone: repeating a ``task send`` that was
    interrupted half-way finishes it, and never posts a second task to the groups that already
    had one. A named task goes to every group that lacks it, whenever it is sent."""
    check_bank(ctx, task_key)
    bank = bank_for(ctx, cohort)  # the cohort's own bank, in its order
    chosen = task_in_bank(ctx, cohort, task_key) if task_key else None
    since = None if task_key else _period_start(ctx, cohort)
    posted = []
    for match in ctx.uow.matches.active_in(cohort.id, matches):
        history = ctx.uow.assignments.for_match(match.id)
        if since is not None and any(a.posted_at >= since for a in history):
            continue  # this period's task is there already
        done = {a.task_key for a in history}
        task = chosen if chosen else next((t for t in bank if t.key not in done), None)
        if task is None or task.key in done:
            continue
        posted.append(post_task(ctx, match, task, sequence=len(done) + 1))
    # each slice notes its progress; the engine's closing ``task_send`` entry says the send finished
    ctx.audit(cohort, OPERATOR, SLICE_AUDIT, task=task_key or "next", groups=len(posted))
    return posted


SLICE_AUDIT = "task_send_slice"


def interrupted_send(ctx: Ctx, cohort: Cohort) -> str | None:
    """What a coordinator should hear when the last ``task send`` never finished (the process was
    stopped half-way, so its report never reached them); None when it did finish."""
    entries = [e for e in ctx.uow.audit.for_cohort(cohort.id) if e.action in (SLICE_AUDIT, "task_send")]
    since_last: list[AuditEntry] = []
    for entry in entries:
        since_last = [] if entry.action == "task_send" else [*since_last, entry]
    if not since_last:
        return None
    groups = sum(int(e.detail.get("groups", 0)) for e in since_last)
    return (f"The last `task send` was interrupted on {since_last[-1].at:%a %d %b at %H:%M} after posting the task "
            f"to {counted(groups, 'group')}; the others didn't get it. Send `task send` again to finish: nobody gets it twice.")  # fmt: skip


def _period_start(ctx: Ctx, cohort: Cohort) -> datetime:
    """When the cohort's current task period began (before its first slot: one period ago)."""
    cadence = Cadence.of(cohort)
    return cadence.current(ctx.now) or ctx.now - timedelta(weeks=cadence.every_weeks)


def post_task(ctx: Ctx, match: Match, task: TaskDefinition, sequence: int) -> Assignment:
    assignment = ctx.uow.assignments.add(
        Assignment(
            match_id=match.id,
            task_key=task.key,
            sequence=sequence,
            posted_at=ctx.now,
            due_at=ctx.now + timedelta(days=task.due_days),
        )  # fmt: skip
    )
    members = ctx.uow.matches.members(match.id)
    frameworks = " · ".join(f"{c['framework']}: {c['domain']}" for c in task.competencies)
    taking_part = ", ".join(escape(p.display_name) for p in present(members))
    away = [p for p in members if not is_present(p)]
    away_note = (" (" + ", ".join(f"{escape(p.display_name)} is {'paused' if p.status == Status.PAUSED else 'away'}"
                                  for p in away) + ": you can finish without them)") if away else ""  # fmt: skip
    message = Message(
        f"New buddy task: {task.title}",
        (
            Header(f"Task {sequence}: {task.title}"[:150]),
            Section(
                f"{escape(task.summary)}\n_About {task.minutes} minutes · due {_day(assignment.due_at.date())}_"
            ),
            Section(escape(task.instructions)),
            Context(f"Taking part: {taking_part}{away_note}"),
            Context(f"For your portfolio: {escape(frameworks)}"),
            Actions((Button("Respond", "respond", str(assignment.id), style="primary", opens_form=True),)),
        ),
    )
    to_members(ctx, match, members, f"task:{assignment.id}", message)
    return assignment


def to_members(ctx: Ctx, match: Match, members: Sequence[Participant], key: str, message: Message) -> None:
    """Post to the group's shared conversation, or to each member where there is none."""
    active = [p for p in members if p.status not in (Status.PAUSED, Status.LEFT) and not p.unreachable]
    if match.conversation:
        ref = ConversationRef(**match.conversation)
        queue(ctx.uow, key, to_conversation(ref), message, ctx.now, match_id=match.id)
        return
    caps = ctx.caps(members[0].platform)
    if caps.group_dm and 2 <= len(members) <= caps.max_group_size:
        queue(ctx.uow, key, to_group([p.ref for p in members]), message, ctx.now, match_id=match.id)
        return
    for p in active:
        queue(ctx.uow, f"{key}:{p.id}", to_user(p.ref), message, ctx.now)


def _day(d: date) -> str:
    return d.strftime("%a %-d %b")


def is_present(p: Participant) -> bool:
    """Taking part now: a member who has paused or left never holds the others up."""
    return p.status not in (Status.PAUSED, Status.LEFT)


def present(members: Sequence[Participant]) -> list[Participant]:
    return [p for p in members if is_present(p)]


# ---- responding -------------------------------------------------------------------------------


def _task_of(ctx: Ctx, assignment: Assignment) -> TaskDefinition:
    task = ctx.uow.tasks.get(assignment.task_key)
    if task is None:
        raise Refusal("That task has been removed from the task bank; ask your coordinator.")
    return task


def current_assignment(ctx: Ctx, participant: Participant) -> Assignment | None:
    match = ctx.uow.matches.active_for(participant.id)
    return ctx.uow.assignments.latest(match.id) if match else None


def _done(responses: Sequence[Response], phase: Phase, owner: int) -> Response | None:
    owner = JOINT if phase.mode == "joint" else owner
    return next((r for r in responses if r.phase == phase.key and r.owner_id == owner), None)


def open_form(
    ctx: Ctx, participant: Participant, assignment: Assignment, match: Match, wanted: str = ""
) -> Outcome:
    """The answer form for ``assignment`` (a task of the participant's own group; ``wanted``: a phase)."""
    task = _task_of(ctx, assignment)
    responses = ctx.uow.responses.for_assignment(assignment.id)
    pid = participant.id
    assert pid is not None
    phases = task.phases
    if wanted:
        phase = next((p for p in phases if p.key == wanted), None)
        if phase is None:
            raise Refusal("That part of the task no longer exists.")
    else:
        phase = next((p for p in phases if _done(responses, p, pid) is None), phases[-1])
    members = ctx.uow.matches.members(match.id)
    if phase.after and not _partner_ready(responses, _phase(task, phase.after), members, pid):
        waiting_for = [m for m in present(members) if m.id != pid] or [m for m in members if m.id != pid]
        names = " or ".join(escape(m.display_name) for m in waiting_for) or "Your buddy"
        verb = "haven't" if len(waiting_for) > 1 else "hasn't"
        return Reply(Message.simple(
            f"{names} {verb} sent their {_phase(task, phase.after).label.lower()} yet. "
            "This part opens as soon as one of them arrives; I'll let you know."))  # fmt: skip
    existing = _done(responses, phase, pid)
    if existing is not None and ctx.now > assignment.due_at:
        return Reply(Message.simple(
            f"_{escape(task.title)}_ was due {_day(assignment.due_at.date())}, so your "
            f"{escape(phase.label.lower())} can no longer be changed. `portfolio` sends you everything you wrote."))  # fmt: skip
    return ShowForm(response_form(task, phase, assignment, members, responses, pid, existing))


def _partner_ready(responses: Sequence[Response], after: Phase, members: Sequence[Participant],
                   pid: int) -> bool:  # fmt: skip
    """A phase that follows another opens once any partner has done that one (for a joint phase:
    once it is done at all), so one quiet member never holds up the rest."""
    if after.mode == "joint":
        return _done(responses, after, JOINT) is not None
    return any(_done(responses, after, m.id) is not None for m in members if m.id != pid)


def _phase(task: TaskDefinition, key: str) -> Phase:
    return next(p for p in task.phases if p.key == key)


def response_form(
    task: TaskDefinition,
    phase: Phase,
    assignment: Assignment,
    members: Sequence[Participant],
    responses: Sequence[Response],
    pid: int,
    existing: Response | None,
) -> Form:
    fields: list[FormField] = [Note(f"**{escape(task.title)}: {escape(phase.label)}**")]
    if phase.shows:
        shown = _phase(task, phase.shows)
        for m in members:
            if phase.mode == "individual" and m.id == pid:
                continue
            r = _done(responses, shown, m.id)
            if r is not None:
                fields.append(
                    Note(f"**{escape(m.display_name)}'s {escape(shown.label.lower())}:**\n{escape(r.text)}")
                )
    initial = existing.text if existing else ""
    if phase.input == "date":
        start, end = assignment.posted_at.date(), assignment.due_at.date()
        hint = f"A day between {_day(start)} and {_day(end)}."
        fields.append(DateField("answer", phase.prompt or phase.label, initial=initial, hint=hint))
    elif phase.input == "choice":
        options = tuple(Option(o.value, o.label) for o in phase.options)
        fields.append(Select("answer", phase.prompt or phase.label, options, initial=initial))
    else:
        limit = phase.word_limit
        hint = f"Up to {limit} words." if limit else ""
        if phase.mode == "joint":
            hint += " This is a joint answer: either of you can write or edit it."
        fields.append(LongText("answer", phase.prompt or phase.label, word_limit=limit,
                               max_chars=max(500, min(3000, limit * 12)) if limit else 3000,
                               initial=initial, hint=hint.strip()))  # fmt: skip
    title = task.title if len(task.title) <= 24 else task.title[:23] + "…"
    return Form(FORM_ID, title, tuple(fields), submit_label="Save" if existing else "Send",
                state=f"{assignment.id}:{phase.key}")  # fmt: skip


def submit(
    ctx: Ctx,
    participant: Participant,
    assignment: Assignment,
    match: Match,
    phase_key: str,
    values: Mapping[str, object],
) -> Outcome:
    """An answer to one phase of a task of the participant's own group."""
    try:
        task = _task_of(ctx, assignment)
        phase = _phase(task, phase_key)
    except (Refusal, StopIteration):
        return FormErrors({"answer": "This task is no longer open to you."})
    raw = values.get("answer")
    text = raw.strip() if isinstance(raw, str) else ""
    error = _check(phase, text, assignment)
    if not error and phase.input == "text":
        cohort = ctx.uow.cohorts.get(match.cohort_id)
        level = (cohort.settings or {}).get("patient_guard", patient_data.DEFAULT_LEVEL) if cohort else ""
        error = patient_data.check(text, level, f"your {phase.label.lower()}")
    if error:
        return FormErrors({"answer": error})
    pid = participant.id
    assert pid is not None
    owner = JOINT if phase.mode == "joint" else pid
    existing = ctx.uow.responses.find(assignment.id, phase_key, owner)
    if existing is not None and ctx.now > assignment.due_at:
        return FormErrors({"answer": f"This task was due {_day(assignment.due_at.date())}, so answers can no longer "
                                     "be changed."})  # fmt: skip
    if phase.after and not _partner_ready(
        ctx.uow.responses.for_assignment(assignment.id),
        _phase(task, phase.after),
        ctx.uow.matches.members(match.id),
        pid,
    ):
        return FormErrors({"answer": f"This part opens once a partner's {_phase(task, phase.after).label.lower()} "
                                     "is in."})  # fmt: skip
    if existing is None:
        ctx.uow.responses.add(Response(assignment_id=assignment.id, phase=phase_key, owner_id=owner,
                                       author_id=pid, text=text, submitted_at=ctx.now))  # fmt: skip
    else:
        existing.text, existing.author_id, existing.edited_at = text, pid, ctx.now
    participant.last_active_at = ctx.now
    _tell_partners(ctx, participant, assignment, match, task, phase, owner)
    words = f" ({word_count(text)} words)" if phase.input == "text" else ""
    verb = "updated" if existing else "saved"
    return CloseForm(Message.simple(f"Thanks, {verb} your {escape(phase.label.lower())}{words}."))


def _check(phase: Phase, text: str, assignment: Assignment) -> str:
    label = phase.label.lower()
    if not text:
        return f"Please fill in your {label} before sending."
    if phase.input == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return "Please pick a date (YYYY-MM-DD)."
        start, end = assignment.posted_at.date(), assignment.due_at.date()
        if not start <= day <= end:
            return f"Please choose a day between {_day(start)} and {_day(end)}."
        return ""
    if phase.input == "choice":
        allowed = {o.value for o in phase.options}
        return "" if text in allowed else "Please choose one of the options."
    limit = phase.word_limit
    count = word_count(text)
    if limit and count > limit:
        return f"Your {label} is {count} words; the limit is {limit}. Please cut {count - limit} words."
    if len(text) > 3000:
        return f"Your {label} is {len(text)} characters; the limit is 3,000."
    return ""


def _tell_partners(ctx: Ctx, author: Participant, assignment: Assignment, match: Match, task: TaskDefinition,
                   phase: Phase, owner: int) -> None:  # fmt: skip
    members = ctx.uow.matches.members(match.id)
    responses = ctx.uow.responses.for_assignment(assignment.id)
    for m in members:
        if m.id == author.id or m.status in (Status.PAUSED, Status.LEFT):
            continue
        pending = any(_done(responses, p, m.id) is None for p in task.phases)
        button = (
            (Actions((Button("Respond", "respond", str(assignment.id), style="primary", opens_form=True),)),)
            if pending
            else ()
        )
        text = f"**{escape(author.display_name)}** sent their {escape(phase.label.lower())} for _{escape(task.title)}_."
        queue(ctx.uow, f"submitted:{assignment.id}:{phase.key}:{owner}:{m.id}", to_user(m.ref),
              Message(text, (Section(text), *button)), ctx.now)  # fmt: skip
    _if_complete(ctx, assignment, match, task, members, responses)


def _if_complete(ctx: Ctx, assignment: Assignment, match: Match, task: TaskDefinition,
                 members: Sequence[Participant], responses: Sequence[Response]) -> None:  # fmt: skip
    """Congratulate the group once, and ask for ratings, when everyone taking part has finished."""
    if is_complete(task, responses, members):
        to_members(ctx, match, members, f"complete:{assignment.id}", Message.simple(
            f"Well done: you've completed _{escape(task.title)}_. Your answers are saved for your portfolios "
            "(`portfolio` sends them to you); coordinators will share learning points across the cohort."))  # fmt: skip
        ask_rating(ctx, assignment, task, present(members))


def recheck(ctx: Ctx, match: Match) -> None:
    """A member paused or left: the others may have finished the open task already."""
    assignment = ctx.uow.assignments.latest(match.id)
    task = ctx.uow.tasks.get(assignment.task_key) if assignment else None
    if assignment is not None and task is not None and ctx.now <= assignment.due_at:
        _if_complete(ctx, assignment, match, task, ctx.uow.matches.members(match.id),
                     ctx.uow.responses.for_assignment(assignment.id))  # fmt: skip


def is_complete(task: TaskDefinition, responses: Sequence[Response], members: Sequence[Participant]) -> bool:
    """Done by everyone taking part: members who paused or left don't count (a trio's two present
    members can finish), but a group with nobody present is not complete."""
    here = [m.id for m in present(members) if m.id is not None]
    return bool(here) and complete_for(task, responses, here)


def complete_for(
    task: TaskDefinition, responses: Sequence[Response | Said | Answer], member_ids: Sequence[int]
) -> bool:
    """Every phase answered: by each member, or once by the group for joint phases."""
    answered = {(r.phase, r.owner_id) for r in responses}
    return all((p.key, JOINT if p.mode == "joint" else member) in answered
               for p in task.phases for member in member_ids)  # fmt: skip


def quiet_members(responses: Sequence[Response], members: Sequence[Participant]) -> list[Participant]:
    """Members who have written nothing for this assignment."""
    authors = {r.author_id for r in responses}
    return [m for m in members if m.id not in authors]


# ---- routes -------------------------------------------------------------------------------------

NOT_MEMBER = "You're not registered in this scheme any more."


def open_tasks(ctx: Ctx, participant: Participant) -> list[tuple[Assignment, TaskDefinition]]:
    """Every task of the participant's group they have not finished, oldest first."""
    match = ctx.uow.matches.active_for(participant.id)
    if match is None or participant.id is None:
        return []
    found = []
    assignments = ctx.uow.assignments.for_match(match.id)
    responses = ctx.uow.responses.for_assignments(a.id for a in assignments)
    for a in sorted(assignments, key=lambda a: (a.posted_at, a.id)):
        task = ctx.uow.tasks.get(a.task_key)
        mine = [r for r in responses if r.assignment_id == a.id]
        if task is not None and not all(_done(mine, p, participant.id) is not None for p in task.phases):
            found.append((a, task))
    return found


def _current(call: Call) -> Outcome:
    participant = call.the_member
    match = call.ctx.uow.matches.active_for(participant.id)
    assignment = call.ctx.uow.assignments.latest(match.id) if match else None
    if match is None or assignment is None:
        raise Refusal("You don't have a task yet: it arrives once you've been matched.")
    waiting = open_tasks(call.ctx, participant)
    if len(waiting) > 1:  # several open: each with its own button, so none hides another
        blocks: list[Any] = [Section(f"You have {counted(len(waiting), 'task')} open:")]
        for a, task in waiting:
            blocks += [Section(f"_{escape(task.title)}_, due {_day(a.due_at.date())}"),
                       Actions((Button(f"Respond: {task.title}"[:75], "respond", str(a.id), style="primary",
                                       opens_form=True),))]  # fmt: skip
        return Reply(Message("Your open tasks", tuple(blocks)))
    if waiting:
        assignment = waiting[0][0]
    return open_form(call.ctx, participant, assignment, match)


def _respond(call: Call) -> Outcome:
    assignment, match, phase = call.target
    return open_form(call.ctx, call.the_member, assignment, match, phase)


def _answer(call: Call) -> Outcome:
    assignment, match, phase = call.target
    return submit(call.ctx, call.the_member, assignment, match, phase, call.values)


def task_list(call: Call) -> Message:
    lines = [f"- `{t.key}`: **{escape(t.title)}** ({t.minutes} min, due in {t.due_days} days)"
             for t in bank_for(call.ctx, call.the_cohort)]  # fmt: skip
    return Message("Task bank", (Section("**Task bank**\n" + "\n".join(lines)),))


def still_open(ctx: Ctx, cohort: Cohort, task_key: str | None) -> int:
    """How many active groups that would get a task now still have one open (not finished, not due)
    by the members taking part: paused and departed members are not waited for, and a group with
    nobody present has nobody to wait for."""
    latest = [a for a in ctx.uow.assignments.open_since(cohort.id, ctx.now) if a.due_at > ctx.now]
    had: dict[int, set[str]] = {}
    for a in ctx.uow.assignments.for_matches(a.match_id for a in latest):
        had.setdefault(a.match_id, set()).add(a.task_key)
    bank = {t.key for t in bank_for(ctx, cohort)}
    latest = [a for a in latest if (task_key not in had[a.match_id] if task_key else bank - had[a.match_id])]
    if not task_key:  # without a key, a group that has this period's task gets nothing now (send_tasks)
        since = _period_start(ctx, cohort)
        latest = [a for a in latest if a.posted_at < since]
    responses: dict[int, list[Response]] = {}
    for r in ctx.uow.responses.for_assignments(a.id for a in latest):
        responses.setdefault(r.assignment_id, []).append(r)
    rows = ctx.uow.matches.member_rows(a.match_id for a in latest)
    here = {p.id for p in present(ctx.uow.participants.many({row.participant_id for row in rows}))}
    members: dict[int, list[int]] = {}
    for row in rows:  # a member who has paused or left never holds the others up
        if row.participant_id in here:
            members.setdefault(row.match_id, []).append(row.participant_id)
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    return sum(1 for a in latest if a.task_key in tasks and members.get(a.match_id)
               and not complete_for(tasks[a.task_key], responses.get(a.id, []), members[a.match_id]))  # fmt: skip


def task_send(call: Call) -> InSlices | Message:
    """``task send [KEY]``: the task to every active group, a slice of groups per transaction; when
    groups still have a task open, a warning first (``Send anyway`` goes on)."""
    task_key = call.args[0] if call.args else None
    if isinstance(call.target, TaskDefinition):
        task_key = call.target.key
    cohort_id = call.the_cohort.id
    user = call.user
    check_bank(call.ctx, task_key)
    if task_key:
        task_in_bank(call.ctx, call.the_cohort, task_key)
    busy = still_open(call.ctx, call.the_cohort, task_key) if call.route.name != "task_send_anyway" else 0
    if busy:
        value = f"{cohort_id}:{task_key}" if task_key else str(cohort_id)
        text = (f"{counted(busy, 'group')} still {'has' if busy == 1 else 'have'} a task open. If I send another now "
                "they will have two at once "
                "(buddies see both in `task`). Send it anyway?")  # fmt: skip
        return Message(text, (Section(text), Actions((Button("Send anyway", "task_send_anyway", value,
                                                             style="danger"),))))  # fmt: skip

    interrupted = interrupted_send(call.ctx, call.the_cohort)  # before this send closes the record
    before = f"{interrupted}\n\n" if interrupted else ""
    since = None if task_key else _period_start(call.ctx, call.the_cohort)
    had_one = since is not None and any(
        a.posted_at >= since
        for a in call.ctx.uow.assignments.open_since(cohort_id, call.ctx.now + timedelta(seconds=1))
    )

    def each(ctx: Ctx, part: list[int]) -> int:
        cohort = ctx.uow.cohorts.get(cohort_id)
        return len(send_tasks(ctx, cohort, task_key, part)) if cohort else 0

    def finish(ctx: Ctx, counts: list[int], failed: list[int]) -> Message:
        posted = sum(counts)
        ctx.audit(ctx.uow.cohorts.get(cohort_id), user, "task_send", task=task_key or "next", groups=posted,
                  failed=len(failed))  # fmt: skip
        if failed:
            return Message.simple(f"{before}Posted the task to {counted(posted, 'group')}; {counted(len(failed), 'group')} failed (see the "
                                  "logs). Send the same task again by its key (`task list`) to retry them: nobody gets "
                                  "it twice.")  # fmt: skip
        if not posted and had_one:
            return Message.simple(f"{before}Every active group has had a task this period; use `task send KEY` to "
                                  "send another (`task list` shows the keys).")  # fmt: skip
        if not posted:
            return Message.simple(
                f"{before}Every active group already has that task (or has done every task)."
            )
        return Message.simple(f"{before}Posted the task to {counted(posted, 'group')}.")

    return InSlices(call.ctx.uow.matches.active_ids(cohort_id), each, finish, "task send")


ROUTES = (
    command("task send [task-key]", "post the next task to every group now", task_send, who=Who.COORDINATOR),
    command("task list", "show the task bank", task_list, who=Who.COORDINATOR),
    button("task_send_anyway", task_send, who=Who.COORDINATOR, target="cohort_task"),
    button("respond", _respond, target="assignment", not_member=NOT_MEMBER),
    form(FORM_ID, _answer, target="assignment", error_field="answer", not_member=NOT_MEMBER),
)  # fmt: skip
