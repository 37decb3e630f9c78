"""Forgetting a person on request (UK GDPR erasure): ``forget me`` (after a confirm button) or an
operator's ``buddybot forget``.

In order: what the platform adapters cache about the person goes first (their Teams chat
reference and directory entry, Slack's profile cache); each registration leaves (an active
group ends as if they had left: their buddy is told as for a departure and goes back on the
list); every message not yet sent that is addressed to them or carries their name or words
(a digest quoting them, a note naming them to their buddy, an introduction) is cancelled, and
the same is removed from messages already sent, failed or cancelled, recipients included;
the coordinators are told that someone asked to be forgotten, without who; then every holding
registered in :mod:`conversations.flows.personal` is erased, the profile (which holds their
platform id) last. The person hears that it is done before their id goes: as the answer to their
button, or (operator) in a direct message whose address is removed once it is sent.

What stays: that a registration existed (counts, group history by record id), the audit trail
(by record id, with their id and name removed), and messages already delivered, which live in
people's Slack or Teams history where Buddy cannot delete them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conversations.core.markup import counted
from conversations.core.model import Participant, Status
from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.flows.matchmaking import end_match_for_departure
from conversations.flows.personal import (
    FORMER,
    REMOVED,
    erase_all,
    erase_caches,
    needles_for,
    scrub_outbox,
)

__all__ = ["FORMER", "REMOVED", "ForgetReport", "forget", "registrations"]

THEMSELVES = UserRef("self", "-", "the person")  # the actor, in the audit, of a self-service erasure
CONFIRMATION = (
    "Buddy has erased what it held about you, as you asked: your profile, answers and messages are "
    "gone, and your buddy has been told you've stepped away. Messages already in your chat history "
    "stay there. You're welcome to `join` again at any time."
)


@dataclass
class ForgetReport:
    cohorts: list[str] = field(default_factory=list)
    responses: int = 0
    cancelled: int = 0
    scrubbed: int = 0
    erased: dict[str, int] = field(default_factory=dict)

    def summary(self, user: UserRef) -> str:
        where = ", ".join(self.cohorts)
        return (
            f"Forgot {user.user_id} ({user.platform}) in {len(self.cohorts)} cohorts ({where}): profile cleared, "
            f"{counted(self.responses, 'answer')} removed, {self.cancelled} queued messages cancelled, "
            f"{self.scrubbed} sent messages scrubbed."
        )


def holds_anything(ctx: Ctx, user: UserRef) -> bool:
    """Registered in a cohort, or named as a coordinator of one."""
    return bool(ctx.uow.participants.for_user(user) or ctx.uow.cohorts.coordinated_by(user))


def registrations(ctx: Ctx, user: UserRef) -> list[Participant]:
    people = ctx.uow.participants.for_user(user)
    if not people and not ctx.uow.cohorts.coordinated_by(user):
        raise Refusal(
            f"Nobody with the {user.platform} id {user.user_id} in workspace {user.workspace} is registered."
        )
    return people


def forget(ctx: Ctx, user: UserRef, *, by: UserRef = OPERATOR, tell_them: bool = True) -> ForgetReport:
    """Erase everything held about ``user``. ``tell_them``: queue a confirmation to their DM
    (an operator's erasure; a person who pressed the button reads the answer instead)."""
    people = registrations(ctx, user)
    needles = needles_for(ctx, user)  # before anything changes: their names and words
    report = ForgetReport()
    report.erased.update({f"cache: {k}": v for k, v in erase_caches(user, needles).items()})
    for p in people:
        cohort = ctx.uow.cohorts.get(p.cohort_id)
        was = p.status
        p.status = Status.LEFT
        match = ctx.uow.matches.active_for(p.id)
        if match is not None:
            end_match_for_departure(ctx, match, p)  # their buddy hears it as a departure
        report.cohorts.append(cohort.name if cohort else str(p.cohort_id))
        if cohort is not None and was != Status.LEFT:
            _tell_coordinators(ctx, cohort.id, cohort.name, p.id)
    report.cancelled, report.scrubbed = scrub_outbox(ctx, user, needles)
    if tell_them:
        recipient = {**to_user(user), "erase_after_send": True}
        queue(ctx.uow, f"forgotten:{people[0].id if people else 0}:{ctx.now.isoformat()}", recipient,
              Message.simple(CONFIRMATION), ctx.now)  # fmt: skip
    report.erased.update(erase_all(ctx, user))  # every holding (flows/personal.py), the profile last
    report.responses = report.erased.get("answers to tasks", 0)
    rows = sum(report.erased.values()) + report.cancelled + report.scrubbed
    for p in people:
        cohort = ctx.uow.cohorts.get(p.cohort_id)
        ctx.audit(cohort, THEMSELVES if by == user else by, "forget", participant=p.id, rows=rows)
    if not people:
        ctx.audit(None, THEMSELVES if by == user else by, "forget", rows=rows)
    return report


def _tell_coordinators(ctx: Ctx, cohort_id: int, cohort_name: str, pid: int) -> None:
    """Without their name or details: only that someone asked, and what Buddy did."""
    from conversations.core.markup import escape

    text = (
        f"Someone in **{escape(cohort_name)}** asked Buddy to erase their data, and it's done. If they had a "
        "buddy, the buddy has been told they stepped away and will be matched again. Their row in your "
        "figures now counts as left."
    )
    for c in ctx.uow.cohorts.coordinators(cohort_id):
        coordinator = UserRef(c.platform, c.workspace, c.user_id)
        queue(ctx.uow, f"forget-notice:{pid}:{c.id}", to_user(coordinator), Message.simple(text), ctx.now)


def confirmation() -> Message:
    return Message.simple(CONFIRMATION)
