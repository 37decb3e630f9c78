"""Forgetting a person on request (UK GDPR erasure), for operators: ``buddybot forget``.

For each registration of the person: an active buddy group ends as if they had left (the buddy is
told and goes back on the list), their profile is cleared and their platform id replaced, the
text of everything they wrote is removed, and messages still queued for them are cancelled.
What stays: that a registration existed (counts, group history, who was matched with whom, by
record id only), the audit trail (by record id), and messages already delivered, which live in
people's Slack or Teams history where Buddy cannot delete them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conversations.core.model import OutboxItem, Participant, Status
from conversations.core.refs import UserRef
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.flows.matchmaking import end_match_for_departure
from conversations.flows.personal import erase_all

FORMER = "Former participant"
REMOVED = "[removed at the person's request]"
UNSENT = ("pending", "unknown", "held")


@dataclass
class ForgetReport:
    cohorts: list[str] = field(default_factory=list)
    responses: int = 0
    cancelled: int = 0

    def summary(self, user: UserRef) -> str:
        where = ", ".join(self.cohorts)
        return (
            f"Forgot {user.user_id} ({user.platform}) in {len(self.cohorts)} cohorts ({where}): profile cleared, "
            f"{self.responses} answers removed, {self.cancelled} queued messages cancelled."
        )


def registrations(ctx: Ctx, user: UserRef) -> list[Participant]:
    people = ctx.uow.participants.for_user(user)
    if not people:
        raise Refusal(
            f"Nobody with the {user.platform} id {user.user_id} in workspace {user.workspace} is registered."
        )
    return people


def forget(ctx: Ctx, user: UserRef) -> ForgetReport:
    report = ForgetReport()
    people = registrations(ctx, user)
    erase_all(ctx, user)  # what other features hold about them (flows/personal.py), while `user` still finds them
    for p in people:
        cohort = ctx.uow.cohorts.get(p.cohort_id)
        p.status = Status.LEFT
        match = ctx.uow.matches.active_for(p.id)
        if match is not None:
            end_match_for_departure(ctx, match, p)  # their buddy hears it as a departure
        for response in ctx.uow.responses.for_cohort(p.cohort_id):
            if response.author_id == p.id and response.text != REMOVED:
                response.text = REMOVED
                report.responses += 1
        _clear(p)
        report.cohorts.append(cohort.name if cohort else str(p.cohort_id))
        ctx.audit(cohort, OPERATOR, "forget", participant=p.id)
    for status in UNSENT:
        for item in ctx.uow.outbox.by_status(status):
            if _addressed_to(item, user):
                item.status, item.error = "failed", "cancelled: the person asked to be forgotten"
                report.cancelled += 1
    return report


def _clear(p: Participant) -> None:
    p.user_id = f"forgotten-{p.id}"
    p.display_name, p.email = FORMER, ""
    p.specialist_area = p.profession = p.grade = p.specialty = p.employer = p.employer_type = p.region = ""
    p.interests = []
    p.consent_data = p.consent_share = False
    p.status, p.unreachable = Status.LEFT, True


def _addressed_to(item: OutboxItem, user: UserRef) -> bool:
    r = item.recipient
    if r.get("platform") != user.platform or r.get("workspace") != user.workspace:
        return False
    return r.get("user_id") == user.user_id or user.user_id in (r.get("user_ids") or [])
