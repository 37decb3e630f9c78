"""Feedback after each task: a one-tap usefulness rating (1 to 5) and an optional comment.

Ratings and comments are kept as :class:`ProgrammeEntry` rows (kind ``rating`` and ``comment``,
subject: the assignment), registered with :mod:`conversations.flows.personal`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from conversations.core.interactions import CloseForm, Outcome, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Assignment, Cohort, Participant, ProgrammeEntry, TaskDefinition
from conversations.core.refs import UserRef
from conversations.core.routes import button, form
from conversations.core.views import Actions, Button, Form, LongText, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call, Resolved, target
from conversations.flows.personal import holding

SCALE = range(1, 6)
COMMENT_FORM = "task_comment"
NOT_YOURS = "That task isn't one of yours, so I can't take feedback on it."


def ask_rating(
    ctx: Ctx, assignment: Assignment, task: TaskDefinition, members: Sequence[Participant]
) -> None:
    """Ask each member, once, how useful the task was."""
    for m in members:
        text = f"How useful was _{escape(task.title)}_ for you? One tap: 1 (not at all) to 5 (very)."
        buttons = tuple(Button(str(n), "rate_task", f"{assignment.id}:{n}") for n in SCALE)
        queue(ctx.uow, f"rate:{assignment.id}:{m.id}", to_user(m.ref), Message(text, (Section(text), Actions(buttons))),
              ctx.now)  # fmt: skip


def _mine(ctx: Ctx, user: UserRef, number: str) -> tuple[Assignment, Participant, Cohort]:
    """An assignment of a group the actor has been in (they may rate after the group ends)."""
    if not (number.isascii() and number.isdigit() and len(number) < 19):
        raise Refusal(NOT_YOURS)
    assignment = ctx.uow.assignments.get(int(number))
    match = ctx.uow.matches.get(assignment.match_id) if assignment else None
    cohort = ctx.uow.cohorts.get(match.cohort_id) if match else None
    if assignment is None or match is None or cohort is None:
        raise Refusal(NOT_YOURS)
    me = ctx.uow.participants.find(cohort.id, user)
    if me is None or me.id not in {m.id for m in ctx.uow.matches.members(match.id)}:
        raise Refusal(NOT_YOURS)
    return assignment, me, cohort


@target("task_rating")
def _rating_target(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``ASSIGNMENT:N``: a rating from 1 to 5 of a task of one of the actor's groups."""
    number, _, score = value.partition(":")
    assignment, me, cohort = _mine(ctx, user, number)
    if score not in {str(n) for n in SCALE}:
        raise Refusal("Please choose a rating from 1 to 5.")
    return (assignment, me, int(score)), cohort


@target("rated_task")
def _rated_target(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    assignment, me, cohort = _mine(ctx, user, value)
    return (assignment, me), cohort


def _keep(ctx: Ctx, cohort_id: int, me: Participant, kind: str, subject: int, value: str) -> bool:
    """Save (or replace) one entry; True if it replaced an earlier one."""
    existing = ctx.uow.entries.find(kind, subject, me.id, kind)
    if existing is not None:
        existing.value, existing.at = value, ctx.now
        return True
    ctx.uow.entries.add(ProgrammeEntry(cohort_id=cohort_id, participant_id=me.id, kind=kind, subject=subject,
                                       key=kind, value=value, at=ctx.now))  # fmt: skip
    return False


def _title(ctx: Ctx, assignment: Assignment) -> str:
    task = ctx.uow.tasks.get(assignment.task_key)
    return task.title if task else assignment.task_key


def _rate(call: Call) -> Message:
    assignment, me, score = call.target
    changed = _keep(call.ctx, call.the_cohort.id, me, "rating", assignment.id, str(score))
    text = (f"Thanks: you rated _{escape(_title(call.ctx, assignment))}_ {score} out of 5"
            f"{' (changed)' if changed else ''}. Anything the coordinators should know? A comment is optional.")  # fmt: skip
    return Message(text, (Section(text), Actions((Button("Add a comment", "comment_task", str(assignment.id),
                                                          opens_form=True),))))  # fmt: skip


def _comment_form(call: Call) -> Outcome:
    assignment, me = call.target
    existing = call.ctx.uow.entries.find("comment", assignment.id, me.id, "comment")
    return ShowForm(Form(COMMENT_FORM, "Your feedback", (
        LongText("comment", f"What worked, or what would make {_title(call.ctx, assignment)} better?",
                 max_chars=1000, initial=existing.value if existing else "", hint="Up to 1,000 characters."),),
        submit_label="Send", state=str(assignment.id)))  # fmt: skip


def _comment(call: Call) -> Outcome:
    assignment, me = call.target
    raw = call.values.get("comment")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise Refusal("Please write a comment, or close the form if you'd rather not.")
    if len(text) > 1000:
        raise Refusal(f"Your comment is {len(text)} characters; the limit is 1,000.")
    _keep(call.ctx, call.the_cohort.id, me, "comment", assignment.id, text)
    return CloseForm(Message.simple("Thanks for your comment: the coordinators will read it."))


# ---- figures ------------------------------------------------------------------------------------


def per_task(ctx: Ctx, cohort: Cohort) -> dict[str, dict[str, Any]]:
    """For each task key: the ratings given (a list) and how many comments."""
    entries = [e for e in ctx.uow.entries.for_cohort(cohort.id) if e.kind in ("rating", "comment")]
    keys = {a.id: a.task_key for a in _assignments(ctx, {e.subject for e in entries})}
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"ratings": [], "comments": 0})
    for e in entries:
        key = keys.get(e.subject)
        if key is None:
            continue
        if e.kind == "rating":
            out[key]["ratings"].append(int(e.value))
        else:
            out[key]["comments"] += 1
    return dict(out)


def _assignments(ctx: Ctx, ids: set[int]) -> list[Assignment]:
    return [a for a in (ctx.uow.assignments.get(i) for i in sorted(ids)) if a is not None]


def figures(ctx: Ctx, cohort: Cohort) -> list[tuple[str, str]]:
    rows = []
    titles = {t.key: t.title for t in ctx.uow.tasks.all()}
    for key, data in per_task(ctx, cohort).items():
        ratings = data["ratings"]
        if ratings:
            mean = sum(ratings) / len(ratings)
            rows.append((f"Usefulness: {titles.get(key, key)}",
                         f"{mean:.1f} / 5 from {len(ratings)} ratings, {data['comments']} comments"))  # fmt: skip
    return rows


def export_columns(ctx: Ctx, cohort: Cohort) -> tuple[list[str], Mapping[int, list[object]]]:
    """One column per task with the person's rating, for the cohort export."""
    entries = [e for e in ctx.uow.entries.for_cohort(cohort.id, "rating")]
    keys = {a.id: a.task_key for a in _assignments(ctx, {e.subject for e in entries})}
    tasks = [t.key for t in ctx.uow.tasks.all()]
    rated: dict[int, dict[str, str]] = defaultdict(dict)
    for e in entries:
        if e.subject in keys:
            rated[e.participant_id][keys[e.subject]] = e.value
    return [f"rating_{k}" for k in tasks], {pid: [r.get(k, "") for k in tasks] for pid, r in rated.items()}


# ---- what Buddy holds about a person ----------------------------------------------------------


def _of(ctx: Ctx, user: UserRef, kinds: tuple[str, ...]) -> list[ProgrammeEntry]:
    ids = [p.id for p in ctx.uow.participants.for_user(user)]
    return [e for e in ctx.uow.entries.for_participants(ids) if e.kind in kinds]


def entries_holding(name: str, kinds: tuple[str, ...]) -> None:
    def export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
        return [{"kind": e.kind, "about": e.subject, "question": e.key, "answer": e.value, "at": e.at.isoformat()}
                for e in _of(ctx, user, kinds)]  # fmt: skip

    def erase(ctx: Ctx, user: UserRef) -> int:
        found = _of(ctx, user, kinds)
        for e in found:
            ctx.uow.entries.remove(e)
        return len(found)

    holding(name, export=export, erase=erase)


entries_holding("task ratings and comments", ("rating", "comment"))


ROUTES = (
    button("rate_task", _rate, target="task_rating", not_member=NOT_YOURS),
    button("comment_task", _comment_form, target="rated_task", not_member=NOT_YOURS),
    form(COMMENT_FORM, _comment, target="rated_task", error_field="comment", not_member=NOT_YOURS),
)  # fmt: skip
