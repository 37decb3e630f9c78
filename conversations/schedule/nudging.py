"""Inactivity nudges: the group first, then each quiet member, then the coordinators.

Each step happens at most once per assignment (and person), whatever the number of sweeps:
a ``Nudge`` row records it and the outbox key makes the message unique.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from conversations.core.markup import escape
from conversations.core.model import Cohort, Nudge, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows import inbox
from conversations.flows.assignments import is_complete, quiet_members, to_members
from conversations.flows.context import Ctx
from conversations.flows.lookup import Call


@dataclass
class SweepReport:
    pair: int = 0
    individual: int = 0
    coordinator: int = 0
    details: list[str] = field(default_factory=list)


def sweep(ctx: Ctx, cohort: Cohort, matches: Collection[int] | None = None) -> SweepReport:
    report = SweepReport()
    if cohort.paused:
        return report
    earliest = min(cohort.nudge_pair_days, cohort.nudge_individual_days, cohort.alert_coordinator_days)
    for assignment in ctx.uow.assignments.open_since(cohort.id, ctx.now - timedelta(days=earliest), matches):
        match = ctx.uow.matches.get(assignment.match_id)
        task = ctx.uow.tasks.get(assignment.task_key)
        if match is None or task is None:
            continue
        members = ctx.uow.matches.members(match.id)
        responses = ctx.uow.responses.for_assignment(assignment.id)
        if is_complete(task, responses, members):
            continue
        age = ctx.now - assignment.posted_at
        done = {(n.level, n.participant_id) for n in ctx.uow.nudges.for_assignment(assignment.id)}
        active = [m for m in members if m.status == Status.MATCHED]
        title = escape(task.title)
        respond = Actions(
            (Button("Respond", "respond", str(assignment.id), style="primary", opens_form=True),)
        )

        if (
            not responses
            and active
            and age >= timedelta(days=cohort.nudge_pair_days)
            and ("pair", 0) not in done
        ):
            text = (f"Hello both: how's _{title}_ going? It's due {assignment.due_at:%a %-d %b}. "
                    "Even ten minutes together this week counts.")  # fmt: skip
            to_members(
                ctx, match, members, f"nudge:pair:{assignment.id}", Message(text, (Section(text), respond))
            )
            _record(ctx, assignment.id, "pair", 0)
            report.pair += 1
        quiet_ones = quiet_members(responses, active)
        alert_due = age >= timedelta(days=cohort.alert_coordinator_days)
        if not responses and quiet_ones and alert_due \
                and any(("coordinator", q.id) not in done for q in quiet_ones):  # fmt: skip
            _alert_silent_group(ctx, cohort, match.id, [q.display_name for q in quiet_ones], title, age.days)
            for q in quiet_ones:
                if ("coordinator", q.id) not in done:
                    _record(ctx, assignment.id, "coordinator", q.id)
                done.add(("coordinator", q.id))
            report.coordinator += 1
            report.details.append(
                f"group {', '.join(q.display_name for q in quiet_ones)} silent for {age.days} days"
            )
        for quiet in quiet_ones:
            assert quiet.id is not None
            buddies = [escape(m.display_name) for m in members if m.id != quiet.id]
            others = " and ".join(buddies)
            if age >= timedelta(days=cohort.nudge_individual_days) and ("individual", quiet.id) not in done:
                text = (f"Hello {escape(quiet.display_name)}: {others} would love to hear from you about "
                        f"_{title}_. If now's a bad time, use `pause` and I'll hold your place.")  # fmt: skip
                queue(ctx.uow, f"nudge:individual:{assignment.id}:{quiet.id}", to_user(quiet.ref),
                      Message(text, (Section(text), respond)), ctx.now)  # fmt: skip
                _record(ctx, assignment.id, "individual", quiet.id)
                report.individual += 1
            if alert_due and responses and ("coordinator", quiet.id) not in done:
                writers = {r.author_id for r in responses}
                waiting = [escape(m.display_name) for m in members if m.id in writers]
                _alert(ctx, cohort, match.id, quiet.display_name, quiet.id, waiting, title, age.days)
                _record(ctx, assignment.id, "coordinator", quiet.id)
                report.coordinator += 1
                report.details.append(f"{quiet.display_name} quiet for {age.days} days")
    inbox.remind(ctx, cohort)  # buddies' messages nobody has answered
    return report


def _record(ctx: Ctx, assignment_id: int, level: str, participant_id: int) -> None:
    ctx.uow.nudges.add(
        Nudge(assignment_id=assignment_id, level=level, participant_id=participant_id, sent_at=ctx.now)
    )


def _alert(ctx: Ctx, cohort: Cohort, match_id: int, name: str, quiet_id: int, waiting: list[str], title: str,
           days: int) -> None:  # fmt: skip
    """One member silent while the others (``waiting``, who have written) wait for them."""
    others = " and ".join(waiting)
    verb = "has" if len(waiting) == 1 else "have"
    text = (f"**{escape(name)}** ({escape(cohort.name)}) has been quiet for {days} days on _{title}_, while "
            f"{others} {verb} written and {'is' if len(waiting) == 1 else 'are'} waiting. Re-match "
            f"{others}, or check in with {escape(name)} first.")  # fmt: skip
    message = Message(
        f"{name} has gone quiet",
        (
            Section(text),
            Actions(
                (
                    Button(
                        f"Re-match {'the one' if len(waiting) == 1 else 'those'} waiting"[:75],
                        "rematch",
                        f"{match_id}:{quiet_id}",
                        style="danger",
                    ),
                )
            ),  # fmt: skip
        ),
    )
    _to_coordinators(ctx, cohort, f"nudge:coordinator:{match_id}:{quiet_id}", message)


def _alert_silent_group(
    ctx: Ctx, cohort: Cohort, match_id: int, names: list[str], title: str, days: int
) -> None:
    """Nobody in the group has written: nobody is waiting for anyone."""
    who = " and ".join(f"**{escape(n)}**" for n in names)
    text = (
        f"The whole group {who} ({escape(cohort.name)}) has been silent for {days} days on _{title}_: "
        "nobody has written yet. End the group and put them on the waiting list, or message them first."
    )
    message = Message(
        "A buddy group has gone silent",
        (
            Section(text),
            Actions((Button("Message the group", "group_message", str(match_id), opens_form=True),
                     Button("End group: all to waiting list", "group_end", str(match_id), style="danger"))),
        ),
    )  # fmt: skip
    _to_coordinators(ctx, cohort, f"nudge:coordinator:{match_id}:group", message)


def _to_coordinators(ctx: Ctx, cohort: Cohort, key: str, message: Message) -> None:
    for coordinator in ctx.uow.cohorts.coordinators(cohort.id):
        ref = UserRef(coordinator.platform, coordinator.workspace, coordinator.user_id)
        queue(ctx.uow, f"{key}:{coordinator.user_id}", to_user(ref), message, ctx.now)


def run_now(call: Call) -> Message:
    """``nudge``: the inactivity sweep, now."""
    cohort = call.the_cohort
    report = sweep(call.ctx, cohort)
    call.ctx.audit(cohort, call.user, "nudge", pair=report.pair, individual=report.individual,
                   coordinator=report.coordinator)  # fmt: skip
    return Message.simple(
        f"Nudged {report.pair} quiet groups and {report.individual} quiet people; "
        f"{report.coordinator} alerts to coordinators."
    )


ROUTES = (command("nudge", "nudge quiet groups now", run_now, who=Who.COORDINATOR),)
