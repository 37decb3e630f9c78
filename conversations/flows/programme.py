"""The buddy's whole programme around the weekly tasks: did you meet, your tasks and portfolio,
the programme's end (evaluation, certificates, a polite close), and the next cohort.

State lives in ``cohort.settings["programme"]``: ``end_tasks``, ``end_date``, ``questions``,
``closed_at``. What people tell Buddy (check-ins, evaluation answers, staying on as a network
member) is kept as :class:`ProgrammeEntry` rows and registered with :mod:`personal`.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from conversations.core.interactions import CloseForm, FormErrors, NoReply, Outcome, ShowForm
from conversations.core.markup import counted, escape
from conversations.core.model import (
    Assignment,
    Cohort,
    Coordinator,
    Match,
    MatchStatus,
    Participant,
    ProgrammeEntry,
    Response,
    Status,
    TaskDefinition,
)
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command, form
from conversations.core.views import (
    Actions,
    Block,
    Button,
    Context,
    FileAttachment,
    Form,
    FormField,
    Header,
    LongText,
    Message,
    Option,
    Section,
    Select,
)
from conversations.delivery.outbox import queue, to_user
from conversations.flows import coordination, documents, feedback, inbox
from conversations.flows.assignments import JOINT, is_present, present, to_members
from conversations.flows.authoring import own_source
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, id_number, target
from conversations.flows.matchmaking import meeting_blocks
from conversations.flows.registration import start_join
from conversations.flows.waiting import tell_coordinators

CHECK_IN_AFTER = timedelta(days=7)
CHECK_IN_UNTIL = timedelta(days=14)
NOT_YET_REMIND_AFTER = timedelta(days=3)
NOT_YET_TELL_AFTER = timedelta(days=10)  # a week after the reminder
EVALUATION_REMINDER_AFTER = timedelta(days=3)
EVALUATION_FORM = "evaluation"
ANSWERS = {"yes": "Yes", "not_yet": "Not yet", "help": "Need help"}
SCALE_OPTIONS = tuple(Option(str(n), label) for n, label in
                      ((1, "1: not at all"), (2, "2"), (3, "3"), (4, "4"), (5, "5: very much")))  # fmt: skip
DEFAULT_QUESTIONS: tuple[dict[str, Any], ...] = (
    {"key": "understand", "kind": "scale", "text": "How well do you now understand the other profession's role?"},
    {"key": "confidence", "kind": "scale", "text": "How confident do you feel working with the other profession?"},
    {"key": "recommend", "kind": "choice", "text": "Would you recommend the scheme to a colleague?",
     "options": ["yes", "maybe", "no"]},
    {"key": "change", "kind": "text", "text": "What should we change?"},
)  # fmt: skip


def _state(cohort: Cohort) -> dict[str, Any]:
    state = (cohort.settings or {}).get("programme")
    return dict(state) if isinstance(state, dict) else {}


def _save(cohort: Cohort, **changes: Any) -> None:
    cohort.settings = {**(cohort.settings or {}), "programme": {**_state(cohort), **changes}}


def closed(cohort: Cohort) -> bool:
    return bool(_state(cohort).get("closed_at"))


def end_tasks(cohort: Cohort) -> int:
    value = _state(cohort).get("end_tasks")
    return value if isinstance(value, int) and value > 0 else 0


def questions(cohort: Cohort) -> list[dict[str, Any]]:
    found = _state(cohort).get("questions")
    return (
        [dict(q) for q in found]
        if isinstance(found, list) and found
        else [dict(q) for q in DEFAULT_QUESTIONS]
    )


# ---- meeting ------------------------------------------------------------------------------------


def check_ins(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> int:
    """A week after a group is introduced, ask each present member, once, whether they met."""
    sent = 0
    for match in ctx.uow.matches.active_in(cohort.id, matches):
        if (
            match.created_at is None
            or not match.created_at + CHECK_IN_AFTER <= ctx.now < match.created_at + CHECK_IN_UNTIL
        ):
            continue  # asked once, in the group's second week (a missed tick still catches up)
        members = ctx.uow.matches.members(match.id)
        for p in present(members):
            others = " and ".join(escape(o.display_name) for o in members if o.id != p.id)
            text = f"Did you meet {others} this week, even for 15 minutes?"
            sent += queue(ctx.uow, f"met?:{match.id}:{p.id}", to_user(p.ref), Message(text, (Section(text),
                          _check_in_buttons(match))), ctx.now)  # fmt: skip
    return sent


def _check_in_buttons(match: Match) -> Actions:
    return Actions(tuple(Button(label, "met", f"{match.id}:{answer}", style="primary" if answer == "yes" else "default")
                         for answer, label in ANSWERS.items()))  # fmt: skip


def not_yet_follow_ups(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> int:
    """After "Not yet": three days later a gentle reminder with the way to meet (and the question
    again); a week after it, if they still haven't said Yes, the coordinators are told. Each once."""
    active = {m.id: m for m in ctx.uow.matches.active_in(cohort.id, matches)}
    sent = 0
    for entry in ctx.uow.entries.for_cohort(cohort.id, "met"):
        match = active.get(entry.subject)
        if match is None or entry.value != "not_yet" or ctx.now < entry.at + NOT_YET_REMIND_AFTER:
            continue
        members = ctx.uow.matches.members(match.id)
        me = next((m for m in members if m.id == entry.participant_id), None)
        if me is None or not is_present(me):
            continue
        others = " and ".join(escape(o.display_name) for o in members if o.id != me.id)
        text = (f"A gentle nudge: have you and {others} managed to meet yet? Fifteen minutes is plenty. "
                "Suggest two times in your group chat, or use the way to meet below.")  # fmt: skip
        sent += queue(ctx.uow, f"met-again:{match.id}:{me.id}", to_user(me.ref), Message(text, (
            Section(text), *meeting_blocks(members, cohort.name), _check_in_buttons(match))), ctx.now)  # fmt: skip
        if ctx.now >= entry.at + NOT_YET_TELL_AFTER:
            names = ", ".join(m.display_name for m in members)
            body = (f"**{escape(me.display_name)}** in {escape(cohort.name)} (group: {escape(names)}) said on "
                    f"{entry.at:%a %-d %b} that they hadn't met their buddy yet, and hasn't told me they have since. "
                    "A friendly word may help, or a re-match if their buddy has gone quiet.")  # fmt: skip
            sent += tell_coordinators(ctx, cohort, f"not-met:{match.id}:{me.id}", Message(
                f"{me.display_name} hasn't met their buddy yet", (Header("Buddies who haven't met yet"), Section(body))))  # fmt: skip
    return sent


@target("check_in")
def _check_in(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``GROUP:ANSWER``: one of the actor's own groups, and yes / not_yet / help."""
    number, _, answer = value.partition(":")
    match = (
        ctx.uow.matches.get(int(number))
        if number.isascii() and number.isdigit() and len(number) < 19
        else None
    )
    cohort = ctx.uow.cohorts.get(match.cohort_id) if match else None
    me = ctx.uow.participants.find(cohort.id, user) if cohort and in_workspace(cohort, user) else None
    if match is None or me is None or me.id not in {m.id for m in ctx.uow.matches.members(match.id)}:
        raise Refusal("That group isn't one of yours.")
    if answer not in ANSWERS:
        raise Refusal("Please choose Yes, Not yet or Need help.")
    return (match, me, answer), cohort


def _met(call: Call) -> Message:
    match, me, answer = call.target
    ctx = call.ctx
    entry = ctx.uow.entries.find("met", match.id, me.id, "met")
    if entry is None:
        ctx.uow.entries.add(ProgrammeEntry(cohort_id=match.cohort_id, participant_id=me.id, kind="met",
                                           subject=match.id, key="met", value=answer, at=ctx.now))  # fmt: skip
    else:
        entry.value, entry.at = answer, ctx.now
    members = ctx.uow.matches.members(match.id)
    if answer == "yes":
        return Message.simple(
            "Brilliant, thanks for telling me. Keep it going: the next task is a good excuse."
        )
    if answer == "not_yet":
        cohort = ctx.uow.cohorts.get(match.cohort_id)
        return Message("Not yet", (Section("No problem: a first 15 minutes is enough. Suggest two times in your "
                                           "group chat today."), *meeting_blocks(members, cohort.name if cohort else "")))  # fmt: skip
    others = " and ".join(o.display_name for o in members if o.id != me.id)
    ask_for_help(
        ctx, me, f"(Did you meet? check-in) I haven't been able to meet {others} and would like help."
    )
    return Message.simple(
        "I've asked your coordinators to help: their reply will come here. Thank you for saying."
    )


def ask_for_help(ctx: Ctx, participant: Participant, text: str) -> None:
    """Put the person's request in the coordinators' inbox, as if they had written it: the
    coordinators see it with Reply and Resolve, and their reply reaches the person."""
    inbox.receive(ctx, participant, text)


# ---- tasks and the portfolio -------------------------------------------------------------------


def _own(responses: Sequence[Response], pid: int) -> list[Response]:
    return [r for r in responses if r.owner_id in (pid, JOINT)]


def _did(task: TaskDefinition, responses: Sequence[Response], pid: int) -> bool:
    answered = {(r.phase, r.owner_id) for r in responses}
    return all((p.key, JOINT if p.mode == "joint" else pid) in answered for p in task.phases)


def _history(ctx: Ctx, member: Participant) -> list[tuple[Assignment, Match, list[Response]]]:
    matches = ctx.uow.matches.of_participant(member.id)
    by_id = {m.id: m for m in matches}
    assignments = sorted(ctx.uow.assignments.for_matches(by_id), key=lambda a: (a.posted_at, a.id))
    responses: dict[int, list[Response]] = defaultdict(list)
    for r in ctx.uow.responses.for_assignments(a.id for a in assignments):
        responses[r.assignment_id].append(r)
    return [(a, by_id[a.match_id], responses[a.id]) for a in assignments]


def _day(d: datetime | date) -> str:
    return d.strftime("%a %-d %b")


def task_overview(call: Call) -> Message:
    """``task``: every open task (with Respond) and the past ones."""
    ctx, me = call.ctx, call.the_member
    history = _history(ctx, me)
    if not history:
        raise Refusal("You don't have a task yet: it arrives once you've been matched.")
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    open_blocks: list[Block] = []
    past: list[str] = []
    for a, match, responses in history:
        task = tasks.get(a.task_key)
        title = escape(task.title if task else a.task_key)
        done = task is not None and _did(task, responses, me.id)
        if match.status == MatchStatus.ACTIVE and ctx.now <= a.due_at and task is not None:
            state = "done; you can edit your answers until then" if done else "your turn"
            open_blocks.append(Section(f"**{title}**: due {_day(a.due_at)}, {state}."))
            open_blocks.append(Actions((Button("Edit" if done else "Respond", "respond", str(a.id),
                                               style="default" if done else "primary", opens_form=True),)))  # fmt: skip
        else:
            answered = len(_own(responses, me.id))
            past.append(f"- **{title}** (posted {_day(a.posted_at)}): "
                        f"{'completed' if done else f'{answered} answers'}")  # fmt: skip
    blocks: list[Block] = [Header("Your tasks")]
    blocks += open_blocks or [Section("No task is open just now.")]
    if past:
        blocks.append(Section("**Past tasks**\n" + "\n".join(past)))
    blocks.append(Context("`portfolio` sends you every answer with its competencies, for your e-portfolio."))
    return Message(f"Your tasks: {len(open_blocks) // 2} open, {len(past)} past", tuple(blocks))


def _entries(ctx: Ctx, user: UserRef) -> tuple[str, list[documents.Entry]]:
    """Every task of every cohort the person has been in, with their own and joint answers."""
    name, out = "", []
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    for member in ctx.uow.participants.for_user(user):
        name = member.display_name
        for a, match, responses in _history(ctx, member):
            task = tasks.get(a.task_key)
            if task is None:
                continue
            labels = {p.key: (p.label, p.mode == "joint") for p in task.phases}
            answers = tuple(documents.Answer(labels[r.phase][0], r.text, (r.edited_at or r.submitted_at).date(),
                                             labels[r.phase][1])
                            for r in _own(responses, member.id) if r.phase in labels)  # fmt: skip
            buddies = ", ".join(
                m.display_name for m in ctx.uow.matches.members(match.id) if m.id != member.id
            )
            comps = tuple(f"{c['framework']}: {c['domain']}" + (f" ({c['element']})" if c.get("element") else "")
                          for c in task.competencies)  # fmt: skip
            out.append(documents.Entry(task.title, a.posted_at.date(), a.due_at.date(), buddies or "-",
                                       tuple(getattr(task, "outcomes", ()) or ()), comps, answers))  # fmt: skip
    return name, out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "buddy"


def portfolio(call: Call) -> Message:
    """``portfolio``: a summary and the PDF; ``portfolio markdown``: the Markdown file."""
    ctx = call.ctx
    name, entries = _entries(ctx, call.user)
    if not entries:
        raise Refusal(
            "There's nothing in your portfolio yet: your answers appear here once your first task arrives."
        )
    want = call.args[0].lower() if call.args else "pdf"
    if want not in ("pdf", "markdown", "md"):
        raise Refusal("Say `portfolio` for the PDF or `portfolio markdown` for a Markdown file.")
    scheme = ", ".join(sorted({escape(c.name) for c in (ctx.uow.cohorts.get(p.cohort_id)
                                                       for p in ctx.uow.participants.for_user(call.user)) if c}))  # fmt: skip
    lines = []
    for e in entries:
        lines.append(f"- **{escape(e.title)}** ({_day(e.posted)}): {counted(len(e.answers), 'answer')} · "
                     + escape("; ".join(c.split(" (")[0] for c in e.competencies)))  # fmt: skip
    blocks: tuple[Block, ...] = (Header("Your portfolio"), Section("\n".join(lines)),
                                 Context("Ready to upload to your e-portfolio as reflective evidence. "
                                         "`portfolio markdown` gives a Markdown file instead."))  # fmt: skip
    stamp = ctx.now.strftime("%Y-%m-%d")
    file: FileAttachment | None = None
    if ctx.caps(call.user.platform).send_files:
        if want == "pdf":
            data = documents.portfolio_pdf(name, scheme or "Buddy scheme", entries, ctx.now.date())
            file = FileAttachment.of_bytes(
                f"buddy-portfolio-{_slug(name)}-{stamp}.pdf", data, "Buddy portfolio"
            )
        else:
            text = documents.portfolio_markdown(name, scheme or "Buddy scheme", entries, ctx.now.date())
            file = FileAttachment(f"buddy-portfolio-{_slug(name)}-{stamp}.md", text, "Buddy portfolio")
    else:
        blocks += (Context("I can't send files here, so the list above is your summary; ask your coordinator "
                           "for the file."),)  # fmt: skip
    return Message(
        f"Your portfolio: {counted(len(entries), 'task')}", blocks, carries_user_text=True, file=file
    )


# ---- the programme's end -----------------------------------------------------------------------


def _ended(ctx: Ctx, cohort: Cohort) -> bool:
    state = _state(cohort)
    end_date = state.get("end_date")
    if isinstance(end_date, str) and ctx.now.date() >= date.fromisoformat(end_date):
        return True
    limit = end_tasks(cohort)
    if not limit:
        return False
    matches = ctx.uow.matches.active_in(cohort.id)
    if not matches:
        return False
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    for match in matches:
        history = sorted(ctx.uow.assignments.for_match(match.id), key=lambda a: a.id)
        if len(history) < limit:
            return False
        last = history[-1]
        task = tasks.get(last.task_key)
        members = present(ctx.uow.matches.members(match.id))
        responses = ctx.uow.responses.for_assignment(last.id)
        finished = task is not None and all(_did(task, responses, m.id) for m in members)
        if not finished and ctx.now < last.due_at:
            return False
    return True


def tick(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> int:
    """What a slice of groups needs now (the schedule's tick): the week-one check-ins, and the
    follow-up to a "Not yet"."""
    if cohort.paused or closed(cohort):
        return 0
    return check_ins(ctx, cohort, matches) + not_yet_follow_ups(ctx, cohort, matches)


def cohort_tick(ctx: Ctx, cohort_id: int) -> int:
    """What the whole cohort needs now, once per tick even when it has no groups left: the
    programme's end (after its tasks or on its date) and evaluation reminders."""
    cohort = ctx.uow.cohorts.get(cohort_id)
    if cohort is None or cohort.paused:
        return 0
    if closed(cohort):
        return remind_evaluation(ctx, cohort)
    return close(ctx, cohort, None) if _ended(ctx, cohort) else 0  # in the tick's one transaction


def close_groups(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> int:
    """Thank each active group (of ``matches``, when given) and close it."""
    closed_groups = 0
    for match in ctx.uow.matches.active_in(cohort.id, matches):
        members = ctx.uow.matches.members(match.id)
        to_members(ctx, match, members, f"close:{match.id}", Message.simple(
            f"**{escape(cohort.name)}** has come to an end: thank you for everything you've shared. This chat stays "
            "yours; keep in touch. `portfolio` keeps your answers for your e-portfolio."))  # fmt: skip
        match.status, match.ended_at = MatchStatus.ENDED, ctx.now
        closed_groups += 1
    return closed_groups


def close(ctx: Ctx, cohort: Cohort, actor: UserRef | None) -> int:
    """End the programme, all in the caller's one transaction (a crash half-way leaves the cohort
    running, never half-closed): thank every group and close it, ask everyone who took part for the
    evaluation, and offer each finisher their certificate. Returns how many groups were closed."""
    groups = close_groups(ctx, cohort)
    _save(cohort, closed_at=ctx.now.isoformat(), closed_groups=groups)
    close_people(ctx, cohort, actor)
    return groups


def ended(cohort: Cohort) -> tuple[date, int | None] | None:
    """When the programme ended and how many groups it closed then (None while it runs; the count
    is None for a programme closed before it was kept)."""
    state = _state(cohort)
    at, groups = state.get("closed_at"), state.get("closed_groups")
    if not isinstance(at, str):
        return None
    return datetime.fromisoformat(at).date(), groups if isinstance(groups, int) else None


def close_people(ctx: Ctx, cohort: Cohort, actor: UserRef | None) -> int:
    """The programme is over: the survey to everyone who took part, certificates to finishers,
    a kind word to those still waiting."""
    sent = 0
    for p in took_part(ctx, cohort):
        text = (
            f"Thank you for taking part in **{escape(cohort.name)}**. Five quick questions help us improve "
            "the scheme for the next cohort."
        )
        sent += queue(ctx.uow, f"evaluate:{cohort.id}:{p.id}", to_user(p.ref), Message(text, (
            Section(text), Actions((Button("Answer the survey", "evaluate", str(cohort.id), style="primary",
                                           opens_form=True),)))), ctx.now)  # fmt: skip
        if completed_tasks(ctx, p):
            note = "Your certificate of participation is ready: it lists the tasks you completed and their competencies."
            sent += queue(ctx.uow, f"certificate:{cohort.id}:{p.id}", to_user(p.ref), Message(note, (
                Section(note), Actions((Button("Get my certificate", "certificate", str(cohort.id)),)))), ctx.now)  # fmt: skip
    for p in ctx.uow.participants.in_cohort(cohort.id, (Status.WAITING, Status.REGISTERED)):
        sent += queue(ctx.uow, f"closed-waiting:{cohort.id}:{p.id}", to_user(p.ref), Message.simple(
            f"**{escape(cohort.name)}** has ended before I could find you a buddy: sorry. You'll be invited first "
            "when the next cohort starts."), ctx.now)  # fmt: skip
    if actor is not None:
        ctx.audit(cohort, actor, "round_end")
    return sent


def took_part(ctx: Ctx, cohort: Cohort) -> list[Participant]:
    people = ctx.uow.participants.in_cohort(cohort.id)
    return [p for p in people if p.status != Status.LEFT and ctx.uow.matches.of_participant(p.id)]


def completed_tasks(ctx: Ctx, member: Participant) -> list[TaskDefinition]:
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    done = []
    for a, _, responses in _history(ctx, member):
        task = tasks.get(a.task_key)
        if task is not None and _did(task, responses, member.id) and task not in done:
            done.append(task)
    return done


def remind_evaluation(ctx: Ctx, cohort: Cohort) -> int:
    closed_at = datetime.fromisoformat(_state(cohort)["closed_at"])
    if ctx.now < closed_at + EVALUATION_REMINDER_AFTER:
        return 0
    answered = {e.participant_id for e in ctx.uow.entries.for_cohort(cohort.id, "evaluation")}
    sent = 0
    for p in took_part(ctx, cohort):
        if p.id in answered:
            continue
        text = f"A reminder: the survey about **{escape(cohort.name)}** takes two minutes, and it shapes the next cohort."
        sent += queue(ctx.uow, f"evaluate-remind:{cohort.id}:{p.id}", to_user(p.ref), Message(text, (
            Section(text), Actions((Button("Answer the survey", "evaluate", str(cohort.id), style="primary",
                                           opens_form=True),)))), ctx.now)  # fmt: skip
    return sent


@target("my_closed_cohort")
def _my_closed_cohort(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """A cohort the actor took part in (for the evaluation and certificate)."""
    number = id_number(value)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    me = ctx.uow.participants.find(cohort.id, user) if cohort and in_workspace(cohort, user) else None
    if cohort is None or me is None:
        raise Refusal("That survey isn't one of yours.")
    return (cohort, me), cohort


def _evaluation_form(call: Call) -> Outcome:
    cohort, me = call.target
    if not closed(cohort):
        raise Refusal("The survey opens when the programme ends.")
    given = {e.key: e.value for e in call.ctx.uow.entries.for_participants([me.id]) if e.kind == "evaluation"}
    fields: list[FormField] = []
    for q in questions(cohort):
        if q["kind"] == "scale":
            fields.append(Select(q["key"], q["text"], SCALE_OPTIONS, initial=given.get(q["key"], "")))
        elif q["kind"] == "choice":
            options = tuple(Option(o, o.capitalize()) for o in q["options"])
            fields.append(Select(q["key"], q["text"], options, initial=given.get(q["key"], "")))
        else:
            fields.append(LongText(q["key"], q["text"], required=False, max_chars=1000,
                                   initial=given.get(q["key"], ""), hint="Optional."))  # fmt: skip
    return ShowForm(Form(EVALUATION_FORM, "Buddy scheme survey", tuple(fields), submit_label="Send",
                         state=str(cohort.id)))  # fmt: skip


def _evaluate(call: Call) -> Outcome:
    cohort, me = call.target
    ctx = call.ctx
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for q in questions(cohort):
        raw = call.values.get(q["key"])
        text = raw.strip() if isinstance(raw, str) else ""
        if q["kind"] == "scale" and text not in {o.value for o in SCALE_OPTIONS}:
            errors[q["key"]] = "Please choose a number from 1 to 5."
        elif q["kind"] == "choice" and text not in q["options"]:
            errors[q["key"]] = "Please choose one of the options."
        elif len(text) > 1000:
            errors[q["key"]] = f"This answer is {len(text)} characters; the limit is 1,000."
        values[q["key"]] = text
    if errors:
        return FormErrors(errors)
    for key, value in values.items():
        if not value:
            continue
        entry = ctx.uow.entries.find("evaluation", cohort.id, me.id, key)
        if entry is None:
            ctx.uow.entries.add(ProgrammeEntry(cohort_id=cohort.id, participant_id=me.id, kind="evaluation",
                                               subject=cohort.id, key=key, value=value, at=ctx.now))  # fmt: skip
        else:
            entry.value, entry.at = value, ctx.now
    return CloseForm(Message.simple("Thank you: your answers will help the next cohort."))


def certificate(call: Call) -> Message:
    cohort, me = call.target if call.target else (None, call.the_member)
    ctx = call.ctx
    cohort = cohort or ctx.uow.cohorts.get(me.cohort_id)
    assert cohort is not None
    if not closed(cohort):
        raise Refusal("Certificates are made when the programme ends.")
    done = completed_tasks(ctx, me)
    if not done:
        raise Refusal("A certificate lists the tasks you completed, and I have none recorded for you in "
                      f"{escape(cohort.name)}. Ask your coordinator if that's wrong.")  # fmt: skip
    comps = sorted({f"{c['framework']}: {c['domain']}" for t in done for c in t.competencies})
    start = (cohort.created_at or ctx.now).date()
    end = datetime.fromisoformat(_state(cohort)["closed_at"]).date()
    summary = f"Certificate of participation: {counted(len(done), 'task')}, {len(comps)} competencies."
    blocks: tuple[Block, ...] = (Section(escape(summary)),)
    file = None
    if ctx.caps(call.user.platform).send_files:
        data = documents.certificate_pdf(
            me.display_name, cohort.name, [t.title for t in done], comps, start, end
        )
        file = FileAttachment.of_bytes(f"buddy-certificate-{_slug(me.display_name)}.pdf", data, "Certificate")
    else:
        blocks += (Section("Tasks: " + escape(", ".join(t.title for t in done))),)
    return Message(summary, blocks, file=file)


# ---- coordinator commands ----------------------------------------------------------------------


def programme_show(call: Call) -> Message:
    cohort = call.the_cohort
    state = _state(cohort)
    end = []
    if end_tasks(cohort):
        end.append(f"after {counted(end_tasks(cohort), 'task')}")
    if state.get("end_date"):
        end.append(f"on {state['end_date']}")
    ends = " or ".join(end) or "not set (`programme end tasks=4` or `programme end date=YYYY-MM-DD`)"
    status = "closed" if closed(cohort) else "running"
    qs = "\n".join(
        f"{i}. {escape(q['text'])} ({q['kind']})" for i, q in enumerate(questions(cohort), start=1)
    )
    return Message(f"Programme of {cohort.name}", (
        Section(f"**{escape(cohort.name)}** is {status}. It ends {ends}."),
        Section(f"**Evaluation questions** (`evaluation add \"text\" scale|text`, `evaluation remove N`, "
                f"`evaluation reset`):\n{qs}")))  # fmt: skip


def programme_end(call: Call) -> Message:
    cohort = call.the_cohort
    tasks, when = call.options.get("tasks"), call.options.get("date")
    if tasks is None and when is None:
        raise Refusal("Say when it ends: `programme end tasks=4` or `programme end date=2027-03-31`.")
    changes: dict[str, Any] = {}
    if tasks is not None:
        if not (tasks.isdigit() and 1 <= int(tasks) <= 52):
            raise Refusal("tasks must be a number from 1 to 52, e.g. `programme end tasks=4`.")
        changes["end_tasks"] = int(tasks)
    if when is not None:
        try:
            day = date.fromisoformat(when)
        except ValueError:
            raise Refusal("date must be a day as YYYY-MM-DD, e.g. `programme end date=2027-03-31`.") from None
        if day <= call.ctx.now.date():
            raise Refusal("date must be in the future; to end now, use `round end`.")
        changes["end_date"] = day.isoformat()
    _save(cohort, **changes)
    call.ctx.audit(cohort, call.user, "programme_end", **changes)
    return programme_show(call)


def evaluation_change(call: Call) -> Message:
    cohort = call.the_cohort
    if not call.args:
        return programme_show(call)
    verb, rest = call.args[0].lower(), list(call.args[1:])
    current = questions(cohort)
    if verb == "reset":
        _save(cohort, questions=None)
    elif verb == "add":
        kind = rest.pop().lower() if rest and rest[-1].lower() in ("scale", "text") else "scale"
        text = " ".join(rest).strip().strip('"“”').strip()
        if not 5 <= len(text) <= 200:
            raise Refusal(
                'Write the question in quotes, 5 to 200 characters, e.g. `evaluation add "Was it useful?" scale`.'
            )
        keys = {q["key"] for q in current}
        key = next(f"q{n}" for n in range(1, 100) if f"q{n}" not in keys)
        _save(cohort, questions=[*current, {"key": key, "kind": kind, "text": text}])
    elif verb == "remove":
        if len(rest) != 1 or not rest[0].isdigit() or not 1 <= int(rest[0]) <= len(current):
            raise Refusal(
                f"Say which question by its number, 1 to {len(current)}: e.g. `evaluation remove 2`."
            )
        if len(current) == 1:
            raise Refusal("The survey needs at least one question: add another before removing this one.")
        _save(cohort, questions=[q for i, q in enumerate(current, start=1) if i != int(rest[0])])
    else:
        raise Refusal('Use `evaluation add "text" scale|text`, `evaluation remove N` or `evaluation reset`.')
    call.ctx.audit(cohort, call.user, "evaluation_questions", change=verb)
    return programme_show(call)


def round_end(call: Call) -> Message:
    """``round end``: every group closed with a thank-you, the survey and certificates sent, in
    one transaction: if anything fails, nothing has changed and ``round end`` can simply be run again."""
    cohort = call.the_cohort
    if closed(cohort):
        raise Refusal(f"{escape(cohort.name)} has already ended.")
    groups = close(call.ctx, cohort, call.user)
    return Message.simple(f"Closed {counted(groups, 'group')} in **{escape(cohort.name)}** with a thank-you; everyone who took "
                          "part has the evaluation survey, and finishers their certificate.")  # fmt: skip


def cohort_copy(call: Call) -> Message:
    """``cohort copy NAME``: a new cohort with this one's settings, task bank and coordinators;
    past participants are invited to join again or stay on as network members."""
    ctx, source = call.ctx, call.the_cohort
    name = " ".join(call.args).strip()
    if not coordination.COHORT_NAME.match(name):
        raise Refusal(
            "Give the new cohort a name of 2 to 80 letters, digits or spaces, e.g. `cohort copy Yorkshire 2027`."
        )
    if ctx.uow.cohorts.by_name(name):
        raise Refusal(f"A cohort called “{escape(name)}” already exists: choose another name.")
    settings = {k: v for k, v in (source.settings or {}).items() if k not in ("programme", "cadence")}
    kept = {k: v for k, v in _state(source).items() if k in ("end_tasks", "questions")}
    if kept:
        settings["programme"] = kept
    new = ctx.uow.cohorts.add(Cohort(
        name=name, platform=source.platform, workspace=source.workspace, region=source.region,
        cadence_weekday=source.cadence_weekday, cadence_time=source.cadence_time,
        cadence_timezone=source.cadence_timezone, cadence_every_weeks=source.cadence_every_weeks,
        nudge_pair_days=source.nudge_pair_days, nudge_individual_days=source.nudge_individual_days,
        alert_coordinator_days=source.alert_coordinator_days, allow_trios=source.allow_trios,
        settings=settings, created_at=ctx.now))  # fmt: skip
    _copy_own_tasks(ctx, source, new)
    coordinators = ctx.uow.cohorts.coordinators(source.id)
    for c in coordinators:
        ctx.uow.cohorts.add_coordinator(Coordinator(new.id, c.platform, c.workspace, c.user_id))
    invited = 0
    for p in ctx.uow.participants.in_cohort(source.id):
        if p.status == Status.LEFT or not p.consent_data:
            continue
        text = (f"Hello {escape(p.display_name)}: a new cohort of the buddy scheme, **{escape(name)}**, is starting. "
                "Join again (you'll meet someone new), or stay on as a network member to hear about events.")  # fmt: skip
        invited += queue(ctx.uow, f"invite:{new.id}:{p.id}", to_user(p.ref), Message(text, (Section(text), Actions((
            Button("Join again", "rejoin", str(new.id), style="primary", opens_form=True),
            Button("Stay on as a network member", "stay_network", f"{new.id}:{p.id}"))))), ctx.now)  # fmt: skip
    ctx.audit(new, call.user, "cohort_copy", source=source.name, invited=invited)
    return Message.simple(f"Created **{escape(name)}** from {escape(source.name)}: its settings, evaluation questions, "
                          f"the task bank and {counted(len(coordinators), 'coordinator')} carry over, and I've invited "
                          f"{invited} past participants. Nobody will be matched with a past buddy.")  # fmt: skip


def _copy_own_tasks(ctx: Ctx, source: Cohort, new: Cohort) -> None:
    """The tasks ``source`` wrote or edited for itself become ``new``'s own copies (task keys are
    unique, so each gets the new cohort's number), in the same places in its bank."""
    settings = dict(source.settings or {})
    copies: dict[str, str] = dict(settings.get("task_copies") or {})
    edited = {own: shared for shared, own in copies.items()}
    renamed: dict[str, str] = {}
    made = []
    for task in ctx.uow.tasks.all():
        if task.source != own_source(source):
            continue
        base = edited.get(task.key, task.key)
        key = next(k for k in (f"{base}_{new.id}"[:64], *(f"{base}_{new.id}_{n}"[:64] for n in range(2, 99)))
                   if ctx.uow.tasks.get(k) is None)  # fmt: skip
        renamed[task.key] = key
        made.append(TaskDefinition(key=key, title=task.title, summary=task.summary, instructions=task.instructions,
                                   minutes=task.minutes, due_days=task.due_days, phases=task.phases,
                                   competencies=task.competencies, position=task.position, source=own_source(new)))  # fmt: skip
    if not made:
        return
    ctx.uow.tasks.upsert(made)
    changed = dict(new.settings or {})
    if copies:
        changed["task_copies"] = {shared: renamed.get(own, own) for shared, own in copies.items()}
    if settings.get("task_order"):
        changed["task_order"] = [renamed.get(k, k) for k in settings["task_order"]]
    new.settings = changed


def _rejoin(call: Call) -> Outcome:
    return start_join(call.ctx, call.actor, call.the_cohort.name)


@target("network_invite")
def _network_invite(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``NEW_COHORT:MEMBERSHIP``: an invitation to the actor's own past membership."""
    first, _, second = value.partition(":")
    ok = all(v.isascii() and v.isdigit() and len(v) < 19 for v in (first, second))
    cohort = ctx.uow.cohorts.get(int(first)) if ok else None
    member = ctx.uow.participants.get(int(second)) if ok else None
    if cohort is None or member is None or member.ref != user or not in_workspace(cohort, user):
        raise Refusal("That invitation isn't yours.")
    return (cohort, member), cohort


def _stay_network(call: Call) -> Message:
    cohort, member = call.target
    ctx = call.ctx
    if ctx.uow.entries.find("network", cohort.id, member.id, "network") is None:
        ctx.uow.entries.add(ProgrammeEntry(cohort_id=member.cohort_id, participant_id=member.id, kind="network",
                                           subject=cohort.id, key="network", value="yes", at=ctx.now))  # fmt: skip
    return Message.simple("You're staying on as a network member: you'll hear about events (`community`), and you "
                          "can join a cohort again any time with `join`.")  # fmt: skip


# ---- figures and export ------------------------------------------------------------------------


def figures(ctx: Ctx, cohort: Cohort) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    met = Counter(e.value for e in ctx.uow.entries.for_cohort(cohort.id, "met"))
    if met:
        rows.append(
            ("Did you meet?", f"{met['yes']} yes, {met['not_yet']} not yet, {met['help']} asked for help")
        )
    rows += feedback.figures(ctx, cohort)
    state = _state(cohort)
    if state.get("closed_at"):
        answers = ctx.uow.entries.for_cohort(cohort.id, "evaluation")
        people = len({e.participant_id for e in answers})
        rows.append(("Evaluation", f"{people} of {len(took_part(ctx, cohort))} answered"))
        for q in questions(cohort):
            given = [e.value for e in answers if e.key == q["key"]]
            if q["kind"] == "scale" and given:
                rows.append(
                    (q["text"][:60], f"{sum(int(v) for v in given) / len(given):.1f} / 5 from {len(given)}")
                )
            elif q["kind"] == "choice" and given:
                counts = Counter(given)
                rows.append((q["text"][:60], ", ".join(f"{counts[o]} {o}" for o in q["options"])))
    elif end_tasks(cohort) or state.get("end_date"):
        rows.append(("Programme ends", " or ".join(filter(None, (
            f"after {counted(end_tasks(cohort), 'task')}" if end_tasks(cohort) else "",
            f"on {state['end_date']}" if state.get("end_date") else "")))))  # fmt: skip
    return rows


def chart_data(ctx: Ctx, cohort: Cohort) -> dict[str, Any]:
    """The figures behind the chart (and for the coordinators' own charts): usefulness per task,
    check-ins, and the evaluation's scale questions."""
    titles = {t.key: t.title for t in ctx.uow.tasks.all()}
    usefulness = {titles.get(k, k): {"mean": round(sum(d["ratings"]) / len(d["ratings"]), 2), "ratings": len(d["ratings"]),
                                     "comments": d["comments"]}
                  for k, d in feedback.per_task(ctx, cohort).items() if d["ratings"]}  # fmt: skip
    met = Counter(e.value for e in ctx.uow.entries.for_cohort(cohort.id, "met"))
    answers = ctx.uow.entries.for_cohort(cohort.id, "evaluation")
    evaluation = {}
    for q in questions(cohort):
        given = [int(e.value) for e in answers if e.key == q["key"] and q["kind"] == "scale"]
        if given:
            evaluation[q["text"]] = {"mean": round(sum(given) / len(given), 2), "answers": len(given)}
    return {"usefulness": usefulness, "met": {k: met[k] for k in ANSWERS}, "evaluation": evaluation}


def chart_png(data: Mapping[str, Any], title: str) -> bytes:
    """Usefulness per task, check-ins and the evaluation, as one PNG (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    panels = (
        ("Usefulness per task (1-5)", {k: v["mean"] for k, v in data["usefulness"].items()}, 5),
        ("Did you meet?", {ANSWERS[k]: v for k, v in data["met"].items()}, None),
        ("Evaluation (1-5)", {k[:28]: v["mean"] for k, v in data["evaluation"].items()}, 5),
    )
    for ax, (name, values, top) in zip(axes, panels, strict=True):
        ax.set_title(name, fontsize=10)
        if values:
            ax.barh(list(values), list(values.values()), color="#005eb8")
            if top:
                ax.set_xlim(0, top)
        else:
            ax.text(0.5, 0.5, "no answers yet", ha="center", va="center", transform=ax.transAxes)
        ax.tick_params(labelsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=90)
    plt.close(fig)
    return out.getvalue()


def chart(call: Call) -> Message:
    cohort = call.the_cohort
    data = chart_data(call.ctx, cohort)
    lines = [
        f"- {escape(k)}: {v['mean']:.1f} / 5 ({v['ratings']} ratings)" for k, v in data["usefulness"].items()
    ]
    lines += [
        f"- Did you meet: {data['met']['yes']} yes, {data['met']['not_yet']} not yet, {data['met']['help']} need help"
    ]
    lines += [
        f"- {escape(k)}: {v['mean']:.1f} / 5 ({counted(v['answers'], 'answer')})"
        for k, v in data["evaluation"].items()
    ]
    file = None
    if call.ctx.caps(call.user.platform).send_files:
        png = chart_png(data, f"{cohort.name}: the programme")
        file = FileAttachment.of_bytes(
            f"buddy-programme-{_slug(cohort.name)}.png", png, f"{cohort.name}: the programme"
        )
    return Message(f"The programme in {cohort.name}", (Header(f"The programme: {cohort.name}"[:150]),
                                                        Section("\n".join(lines))), file=file)  # fmt: skip


def export_columns(ctx: Ctx, cohort: Cohort) -> tuple[list[str], Mapping[int, list[object]]]:
    """Check-ins, task ratings and evaluation answers, one row per person."""
    heads, ratings = feedback.export_columns(ctx, cohort)
    qs = questions(cohort)
    met: dict[int, str] = {}
    for e in ctx.uow.entries.for_cohort(cohort.id, "met"):
        met[e.participant_id] = e.value
    evaluation: dict[int, dict[str, str]] = defaultdict(dict)
    for e in ctx.uow.entries.for_cohort(cohort.id, "evaluation"):
        evaluation[e.participant_id][e.key] = e.value
    people = set(met) | set(ratings) | set(evaluation)
    width = len(heads)
    rows = {pid: [met.get(pid, ""), *(ratings.get(pid) or [""] * width),
                  *(evaluation.get(pid, {}).get(q["key"], "") for q in qs)] for pid in people}  # fmt: skip
    return ["met", *heads, *(f"evaluation_{q['key']}" for q in qs)], rows


coordination.EXTRA_FIGURES.append(figures)
coordination.EXTRA_COLUMNS.append(export_columns)
feedback.entries_holding(
    "meeting check-ins, evaluation answers and network choices", ("met", "evaluation", "network")
)


def _ignore(call: Call) -> NoReply:
    return NoReply()


NOT_MEMBER = "You're not registered yet: use `join` to sign up."

ROUTES = (
    command("task", "your open tasks (answer or edit them) and the past ones", task_overview, not_member=NOT_MEMBER),
    command("portfolio [markdown]", "all your answers with dates and competencies, as a PDF (or Markdown) file",
            portfolio, not_member=NOT_MEMBER),
    command("certificate", "your certificate of participation, once the programme has ended", certificate,
            not_member=NOT_MEMBER),
    command("programme", "when the programme ends, and the evaluation questions", programme_show,
            who=Who.COORDINATOR),
    command("programme end [tasks=N] [date=YYYY-MM-DD]", "end the programme after N tasks or on a date",
            programme_end, who=Who.COORDINATOR),
    command("evaluation [add|remove|reset] ...", "change the end-of-programme survey's questions",
            evaluation_change, who=Who.COORDINATOR),
    command("programme chart", "usefulness per task, check-ins and the evaluation, as a chart", chart,
            who=Who.COORDINATOR),
    command("round end", "close every group politely, send the survey and certificates", round_end,
            who=Who.COORDINATOR),
    command("cohort copy NAME", "start the next cohort from this one and invite past participants", cohort_copy,
            who=Who.COORDINATOR),
    button("met", _met, target="check_in", not_member=NOT_MEMBER),
    button("evaluate", _evaluation_form, target="my_closed_cohort", not_member=NOT_MEMBER),
    form(EVALUATION_FORM, _evaluate, target="my_closed_cohort", error_field="change", not_member=NOT_MEMBER),
    button("certificate", certificate, target="my_closed_cohort", not_member=NOT_MEMBER),
    button("rejoin", _rejoin, who=Who.ANYONE, target="open_cohort"),
    button("stay_network", _stay_network, who=Who.ANYONE, target="network_invite"),
    button("meet_call", _ignore, who=Who.ANYONE),
    button("meet_book", _ignore, who=Who.ANYONE),
)  # fmt: skip

__all__ = ["ask_for_help", "close", "tick", "is_present"]
