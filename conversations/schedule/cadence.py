"""Cadence: when a cohort's tasks, reminders and nudges are due, worked out from the clock.

A cohort posts a task on a weekday at a local time, every week or every few weeks. Each such
moment is a *slot*; the time from one slot to the next is a *period*. The scheduler's jobs call
:func:`post_due` (at slot time) and :func:`tick` (every few minutes). Both are reconcilers: they
look at what is due now and what already exists, so running them late, twice, or again after a
crash posts each period's task once, and a catch-up after two weeks down posts the current
period's task, not the two it missed.

Why the period is read from the assignments rather than from a "last posted" counter: an
assignment posted at or after the current slot *is* the record that the period was served, in the
same row whose unique (match, task) key stops a second post; there is no second record to drift.

What commands change lives in ``cohort.settings["cadence"]``: ``anchor`` (a slot date, which fixes
the weeks of a fortnightly cadence), ``from`` (slots before it never post: set when the cadence
changes or the cohort resumes, so neither causes a surprise post) and ``skip`` (slot dates that
post nothing). Times are DST-correct: a slot is a local wall-clock time in the cohort's zone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conversations.core.cadence import Cadence, parse_date, parse_time, parse_weekday, parse_zone
from conversations.core.cadence import settings as cadence_settings
from conversations.core.markup import escape
from conversations.core.model import Cohort, Participant, Response, Status, TaskDefinition
from conversations.core.refs import UserRef
from conversations.core.routes import Who
from conversations.core.routes import command as command_route
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows import programme, reports
from conversations.flows.assignments import post_task
from conversations.flows.authoring import bank_for
from conversations.flows.context import Ctx, Refusal
from conversations.schedule import nudging

FREQUENCIES = {"weekly": 1, "fortnightly": 2}
DEFAULT_REMIND_HOURS = 24
USAGE = "`cadence weekly monday 09:00` or `cadence fortnightly tuesday 10:30 Europe/London`"


def _save_state(cohort: Cohort, **changes: Any) -> None:
    # Replace the dict rather than mutate it, so the store sees the change.
    cohort.settings = {**(cohort.settings or {}), "cadence": {**cadence_settings(cohort), **changes}}


# ---- the reconcilers the scheduler runs ------------------------------------------------------


@dataclass
class PostReport:
    period: str = ""  # the current period's key, if there is one
    posted: int = 0
    reason: str = ""  # why nothing was due, when nothing was


@dataclass
class TickReport:
    posts: PostReport = field(default_factory=PostReport)
    reminders: int = 0
    nudges: nudging.SweepReport = field(default_factory=nudging.SweepReport)
    failed_groups: list[int] = field(default_factory=list)  # slices that failed, by group id

    def add(self, other: TickReport) -> None:
        """Fold in the report of another slice of the same cohort."""
        self.posts.posted += other.posts.posted
        self.posts.period = self.posts.period or other.posts.period
        self.posts.reason = self.posts.reason or other.posts.reason
        self.reminders += other.reminders
        self.nudges.pair += other.nudges.pair
        self.nudges.individual += other.nudges.individual
        self.nudges.coordinator += other.nudges.coordinator
        self.nudges.details += other.nudges.details
        self.failed_groups += other.failed_groups


def post_due(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> PostReport:
    """Post the current period's task to every active group that lacks one (of ``matches``, when
    given: :meth:`Engine.reconcile` goes through a big cohort a slice at a time).

    A group formed after the period began starts with the next period (a re-matched group has
    already been given its old group's task). A group that has done every task gets nothing.
    """
    if cohort.paused:
        return PostReport(reason="paused")
    if programme.closed(cohort):
        return PostReport(reason="the programme has ended")
    cadence = Cadence.of(cohort)
    slot = cadence.current(ctx.now)
    if slot is None:
        return PostReport(reason="no post is due yet")
    report = PostReport(period=cadence.period(slot))
    if cadence.is_skipped(slot):
        report.reason = "skipped"
        return report
    bank = bank_for(ctx, cohort)  # the cohort's own bank, in its order
    for match in ctx.uow.matches.active_in(cohort.id, matches):
        if match.created_at is not None and match.created_at > slot:
            continue
        history = ctx.uow.assignments.for_match(match.id)
        if any(a.posted_at >= slot for a in history):
            continue
        if programme.end_tasks(cohort) and len(history) >= programme.end_tasks(cohort):
            continue  # the programme's last task has been posted
        done = {a.task_key for a in history}
        task = next((t for t in bank if t.key not in done), None)
        if task is not None:
            post_task(ctx, match, task, sequence=len(history) + 1)
            report.posted += 1
    return report


def remind(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> int:
    """Remind each member who hasn't finished their latest task, once, shortly before it is due."""
    if cohort.paused:
        return 0
    lead = timedelta(hours=remind_hours(cohort))
    cadence = Cadence.of(cohort)
    sent = 0
    for assignment in ctx.uow.assignments.open_since(cohort.id, ctx.now, matches):
        if not assignment.due_at - lead <= ctx.now < assignment.due_at:
            continue
        task = ctx.uow.tasks.get(assignment.task_key)
        if task is None:
            continue
        responses = ctx.uow.responses.for_assignment(assignment.id)
        due = cadence.when(assignment.due_at)
        respond = Actions((Button("Respond", "respond", str(assignment.id), style="primary"),))
        for member in ctx.uow.matches.members(assignment.match_id):
            if member.status != Status.MATCHED or member.unreachable or finished(task, responses, member):
                continue
            text = (
                f"A reminder, {escape(member.display_name)}: _{escape(task.title)}_ is due {due}. "
                "A few lines are enough; if now's a bad time, use `pause`."
            )
            key = f"reminder:{assignment.id}:{member.id}"
            sent += queue(ctx.uow, key, to_user(member.ref), Message(text, (Section(text), respond)), ctx.now)
    return sent


def finished(task: TaskDefinition, responses: Sequence[Response], member: Participant) -> bool:
    """Has ``member`` answered every phase (a joint phase counts once anyone has)?"""
    answered = {(r.phase, r.owner_id) for r in responses}
    return all((phase.key, 0 if phase.mode == "joint" else member.id) in answered for phase in task.phases)


def remind_hours(cohort: Cohort) -> int:
    hours = cadence_settings(cohort).get("remind_hours", DEFAULT_REMIND_HOURS)
    return hours if isinstance(hours, int) and hours >= 0 else DEFAULT_REMIND_HOURS


def tick(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> TickReport:
    """Everything that is due for the cohort now (for ``matches`` only, when given): the
    period's task, reminders and nudges."""
    # Mondays, once: the week's summary and chart to the coordinators. It reads first and writes
    # last, so the slice that carries it holds the write lock no longer than the others.
    reports.due_summary(ctx, cohort)
    report = TickReport(
        post_due(ctx, cohort, matches), remind(ctx, cohort, matches), nudging.sweep(ctx, cohort, matches)
    )
    programme.tick(ctx, cohort, matches)  # check-ins, the programme's end, evaluation reminders
    return report


# ---- coordinator commands ---------------------------------------------------------------------


def tick_slice(ctx: Ctx, cohort: Cohort, matches: Collection[int], post_only: bool) -> TickReport:
    """One slice of :meth:`Engine.reconcile`: only the period's task with ``post_only``."""
    if post_only:
        return TickReport(posts=post_due(ctx, cohort, matches))
    return tick(ctx, cohort, matches)


def command(ctx: Ctx, user: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    """``cadence`` shows it; ``cadence weekly monday 09:00 [ZONE]`` changes it."""
    if not args:
        return show(ctx, cohort)
    return change(ctx, user, cohort, args)


def show(ctx: Ctx, cohort: Cohort) -> Message:
    cadence = Cadence.of(cohort)
    lines = [f"**{escape(cohort.name)}** gets a task {cadence.describe()}."]
    if cohort.paused:
        lines.append("The cohort is **paused**: no tasks, reminders or nudges until `cohort resume`.")
    else:
        lines.append(f"Next task: {cadence.when(cadence.next_post(ctx.now))}.")
    skipped = [s for s in cadence.upcoming(ctx.now, len(cadence.skipped) + 1) if cadence.is_skipped(s)]
    if skipped:
        lines.append(
            "Skipping: " + ", ".join(_day(cadence, s) for s in skipped) + " (`cadence unskip` to undo)."
        )
    lines.append(f"Reminders go {remind_hours(cohort)} hours before a task is due.")
    return Message.simple("\n".join(lines))


def change(ctx: Ctx, user: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    every_weeks, weekday, at, zone = _parse_change(args)
    cohort.cadence_every_weeks, cohort.cadence_weekday = every_weeks, weekday
    cohort.cadence_time, cohort.cadence_timezone = f"{at:%H:%M}", zone.key
    first = Cadence(weekday, at, zone).upcoming(ctx.now)[0]  # the next such day, whatever the frequency
    fresh = Cadence(weekday, at, zone, every_weeks, anchor=first.astimezone(zone).date())
    had_skips = bool(cadence_settings(cohort).get("skip"))
    _save_state(cohort, anchor=fresh.period(first), **{"from": ctx.now.isoformat()}, skip=[])
    ctx.audit(cohort, user, "cadence_change", cadence=fresh.describe())
    text = (
        f"From now on, **{escape(cohort.name)}** gets a task {fresh.describe()}. "
        f"The first goes out on {fresh.when(first)}."
    )
    if had_skips:
        text += " I've cleared the skipped dates, which belonged to the old cadence."
    if cohort.paused:
        text += " The cohort is paused, so nothing goes out until `cohort resume`."
    return Message.simple(text)


def _parse_change(args: Sequence[str]) -> tuple[int, int, time, ZoneInfo]:
    words = list(args)
    if len(words) < 3:
        raise Refusal(f"To change the cadence, say how often, the day and the time, e.g. {USAGE}.")
    often, day, at_text, *rest = words
    every_weeks = FREQUENCIES.get(often.lower())
    if every_weeks is None:
        raise Refusal(f"“{escape(often)}” (the 1st word after `cadence`) isn't a frequency: say `weekly` or "
                      f"`fortnightly`, e.g. {USAGE}.")  # fmt: skip
    weekday = parse_weekday(day)
    if weekday is None:
        raise Refusal(f"“{escape(day)}” (the 2nd word after `cadence`) isn't a day of the week: say monday to "
                      "sunday (or mon to sun).")  # fmt: skip
    at = parse_time(at_text)
    if at is None:
        raise Refusal(f"“{escape(at_text)}” (the 3rd word after `cadence`) isn't a time: use the 24-hour "
                      "clock, HH:MM, e.g. 09:00 or 14:30.")  # fmt: skip
    zone = ZoneInfo("Europe/London")
    if rest:
        found = parse_zone(rest[0])
        if found is None:
            raise Refusal(f"“{escape(rest[0])}” (the 4th word after `cadence`) isn't a time zone I know: use "
                          "a name like Europe/London.")  # fmt: skip
        zone = found
    if len(rest) > 1:
        raise Refusal(f"I didn't expect “{escape(rest[1])}” after the time zone. Say it like {USAGE}.")
    return every_weeks, weekday, at, zone


def skip(ctx: Ctx, user: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    """``cadence skip`` skips the next post; ``cadence skip YYYY-MM-DD`` a later one."""
    cadence = Cadence.of(cohort)
    ahead = cadence.upcoming(ctx.now, len(cadence.skipped) + 12)
    open_slots = [s for s in ahead if not cadence.is_skipped(s)]
    if len(args) > 1:
        raise Refusal(
            "Say `cadence skip` to skip the next task, or `cadence skip YYYY-MM-DD` for a later one."
        )
    if args:
        wanted = parse_date(args[0])
        if wanted is None:
            raise Refusal(f"“{escape(args[0])}” (after `cadence skip`) isn't a date: use YYYY-MM-DD, "
                          f"e.g. {cadence.period(open_slots[0])}.")  # fmt: skip
        target = next((s for s in open_slots if cadence.local_day(s) == wanted), None)
        if target is None:
            days = ", ".join(f"{_day(cadence, s)} ({cadence.period(s)})" for s in open_slots[:3])
            raise Refusal(f"{wanted:%a} {wanted.day} {wanted:%b} {wanted.year} isn't one of "
                          f"{escape(cohort.name)}'s task days still to come. The next ones are {days}.")  # fmt: skip
    else:
        target = open_slots[0]
    keep = sorted({cadence.period(s) for s in ahead if cadence.is_skipped(s)} | {cadence.period(target)})
    _save_state(cohort, skip=keep)
    ctx.audit(cohort, user, "cadence_skip", period=cadence.period(target))
    after = Cadence.of(cohort).next_post(ctx.now)
    return Message.simple(
        f"Skipping the task on {_day(cadence, target)} for **{escape(cohort.name)}**. "
        f"The next one goes out on {cadence.when(after)}."
    )


def unskip(ctx: Ctx, user: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    if args:
        raise Refusal(f"`cadence unskip` takes no more words (I got “{escape(' '.join(args))}”).")
    cadence = Cadence.of(cohort)
    ahead = [s for s in cadence.upcoming(ctx.now, len(cadence.skipped) + 1) if cadence.is_skipped(s)]
    if not ahead:
        raise Refusal(f"No task days are being skipped for **{escape(cohort.name)}**.")
    _save_state(cohort, skip=[])
    ctx.audit(cohort, user, "cadence_unskip", periods=[cadence.period(s) for s in ahead])
    after = replace(cadence, skipped=frozenset()).next_post(ctx.now)
    return Message.simple(
        f"Un-skipped {', '.join(_day(cadence, s) for s in ahead)}. The next task goes out on {cadence.when(after)}."
    )


def set_paused(ctx: Ctx, user: UserRef, cohort: Cohort, paused: bool) -> Message:
    """Pause or resume the cohort. Posts missed while paused are not sent on resume."""
    name = escape(cohort.name)
    if cohort.paused == paused:
        raise Refusal(f"**{name}** is {'already paused' if paused else 'not paused'}.")
    cohort.paused = paused
    ctx.audit(cohort, user, "cohort_pause" if paused else "cohort_resume")
    if paused:
        return Message.simple(
            f"Paused **{name}**: no tasks, reminders or nudges until `cohort resume`. "
            "People can still answer the tasks they have."
        )
    _save_state(cohort, **{"from": ctx.now.isoformat()})
    cadence = Cadence.of(cohort)
    return Message.simple(
        f"Resumed **{name}**. The next task goes out on {cadence.when(cadence.next_post(ctx.now))}; "
        "tasks missed while paused are not sent."
    )


def _day(cadence: Cadence, slot: datetime) -> str:
    day = cadence.local_day(slot)
    return f"{day:%a} {day.day} {day:%b}"


ROUTES = (
    command_route("cadence [weekly|fortnightly DAY HH:MM [ZONE]]", "show or change when tasks go out",
                  lambda call: command(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command_route("cadence skip [YYYY-MM-DD]", "skip the next task (or a later one)",
                  lambda call: skip(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command_route("cadence unskip", "stop skipping: tasks go out on every day of the cadence again",
                  lambda call: unskip(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command_route("cohort pause", "pause tasks, reminders and nudges for the cohort",
                  lambda call: set_paused(call.ctx, call.user, call.the_cohort, True), who=Who.COORDINATOR),
    command_route("cohort resume", "resume the cohort's tasks",
                  lambda call: set_paused(call.ctx, call.user, call.the_cohort, False), who=Who.COORDINATOR),
)  # fmt: skip
