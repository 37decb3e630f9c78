"""The retention schedule: how long each kind of personal data is kept, and the job that applies it.

Defaults (each configurable per deployment; see docs/data-protection.md):

- messages in the outbox, in every status: their content and addressee go 30 days after they
  were queued (the key stays, so nothing is sent twice); a held or unknown post that old is
  given up (it is never resent); an erasure's confirmation loses its addressee as soon as it is sent;
- answers to tasks: 365 days after the buddy group that wrote them ended;
- profiles of people who left: 183 days (about six months) after they were last active, erased as
  ``forget`` would (only when every registration of theirs has left that long ago);
- the audit log: 730 days (two years);
- match proposals (previews): 90 days after they were made;
- the network's events: who answered (Going, Maybe, Not going, waiting) and who volunteered, 90 days
  after the event ended; the event itself (with its organisers), 365 days after it ended;
- coffee introductions: 365 days after they were made (the same two may then be introduced again);
  an opt-in that was switched off, 183 days after the last introduction it was due for;
- requests to experts: 365 days after they were asked.

Kept while the person wants them (``unsubscribe``, ``coffee off``, ``organiser remove``,
``expert remove`` and ``forget`` end them): subscriptions, coffee opt-ins that are on, the
organiser role and expert listings.

``plan`` counts what would go (``buddybot retention --dry-run``); ``apply`` removes it, in
batches, so no transaction holds a lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from conversations.core.model import MatchProposal, OutboxItem, Participant, Response, Status
from conversations.core.network import CoffeeIntro, CoffeeOptIn, Event, ExpertRequest, Rsvp
from conversations.core.refs import UserRef
from conversations.flows import erasure
from conversations.flows.context import OPERATOR, Ctx
from conversations.flows.personal import REMOVED
from conversations.ports.store import SCRUBBED

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONFIRMATION_KEY = "forgotten:"  # an erasure's confirmation (flows/erasure.py): its address goes once sent
SETTLED = ("sent", "failed", "held", "unknown")  # never one a sender is working on
EXPIRED_PLAN = {"groups": [], "waiting": [], "ineligible": [], "expired": True}


@dataclass(frozen=True)
class Retention:
    outbox_days: int = 30
    answers_days: int = 365  # after the group ended
    left_profiles_days: int = 183  # after they were last active
    audit_days: int = 730
    proposals_days: int = 90
    event_answers_days: int = 90  # after the event ended
    events_days: int = 365  # after the event ended
    coffee_intros_days: int = 365
    coffee_off_days: int = 183  # an opt-in switched off, after the last introduction it was due for
    expert_requests_days: int = 365

    @classmethod
    def from_settings(cls, values: dict[str, str]) -> Retention:
        """``BUDDY_RETENTION_<NAME>`` values (days); a bad one names itself and what it accepts."""
        chosen: dict[str, int] = {}
        for f in fields(cls):
            raw = values.get(f"BUDDY_RETENTION_{f.name.upper()}", "").strip()
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= 3650:
                raise ValueError(f"BUDDY_RETENTION_{f.name.upper()} must be a whole number of days from 1 to 3650, "
                                 f"not “{raw}”.")  # fmt: skip
            chosen[f.name] = int(raw)
        return cls(**chosen)

    def describe(self) -> list[str]:
        return [
            f"outbox content and addressees: {self.outbox_days} days after queueing",
            f"answers: {self.answers_days} days after the group ended",
            f"profiles of people who left: {self.left_profiles_days} days after they were last active",
            f"audit log: {self.audit_days} days",
            f"match proposals: {self.proposals_days} days",
            f"answers to network events and volunteers: {self.event_answers_days} days after the event ended",
            f"network events: {self.events_days} days after they ended",
            f"coffee introductions: {self.coffee_intros_days} days",
            f"coffee opt-ins switched off: {self.coffee_off_days} days after the last introduction due",
            f"requests to experts: {self.expert_requests_days} days",
        ]


@dataclass
class Due:
    outbox: int = 0
    answers: int = 0
    left_profiles: int = 0
    audit: int = 0
    proposals: int = 0
    event_answers: int = 0
    events: int = 0
    coffee_intros: int = 0
    coffee_off: int = 0
    expert_requests: int = 0

    def lines(self) -> list[str]:
        return [f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self)]

    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def _outbox_rows(ctx: Ctx, policy: Retention, limit: int) -> list[OutboxItem]:
    before = ctx.now - timedelta(days=policy.outbox_days)
    rows = ctx.uow.outbox.unscrubbed_before(before, SETTLED, limit)
    confirmations = [i for i in ctx.uow.outbox.keyed(CONFIRMATION_KEY, ("sent", "failed"))
                     if not i.recipient.get("removed")]  # fmt: skip
    return (rows + [c for c in confirmations if c not in rows])[:limit]


def _answers(ctx: Ctx, policy: Retention) -> list[Response]:
    ended = ctx.uow.matches.ended_before(ctx.now - timedelta(days=policy.answers_days))
    assignments = ctx.uow.assignments.for_matches(m.id for m in ended)
    return [r for r in ctx.uow.responses.for_assignments(a.id for a in assignments) if r.text != REMOVED]


def _left_people(ctx: Ctx, policy: Retention) -> list[UserRef]:
    before = ctx.now - timedelta(days=policy.left_profiles_days)
    users: dict[str, UserRef] = {}
    for cohort in ctx.uow.cohorts.all():
        for p in ctx.uow.participants.in_cohort(cohort.id, [Status.LEFT]):
            if not p.user_id.startswith("forgotten-") and _last_seen(p) < before:
                users[p.ref.key] = p.ref
    return [u for u in users.values()
            if all(p.status == Status.LEFT and _last_seen(p) < before for p in ctx.uow.participants.for_user(u))]  # fmt: skip


def _last_seen(p: Participant) -> datetime:
    return p.last_active_at or p.registered_at or _EPOCH


def _proposals(ctx: Ctx, policy: Retention) -> list[MatchProposal]:
    before = ctx.now - timedelta(days=policy.proposals_days)
    return [p for p in ctx.uow.matches.proposals() if p.created_at is not None and p.created_at < before
            and not p.plan.get("expired")]  # fmt: skip


def _audit_due(ctx: Ctx, policy: Retention) -> int:
    before = ctx.now - timedelta(days=policy.audit_days)
    return sum(1 for e in ctx.uow.audit.all() if e.at < before)


def _network(ctx: Ctx, policy: Retention) -> dict[str, list[Any]]:
    """The network's rows that are due, by the name of their count in :class:`Due`."""

    def ago(days: int) -> datetime:
        return ctx.now - timedelta(days=days)

    events = ctx.uow.records(Event).where()
    ended = {e.id for e in events if e.ends_at < ago(policy.event_answers_days)}
    return {
        "event_answers": [r for r in ctx.uow.records(Rsvp).where() if r.event_id in ended],
        "events": [e for e in events if e.ends_at < ago(policy.events_days)],
        "coffee_intros": [i for i in ctx.uow.records(CoffeeIntro).where() if i.made_at < ago(policy.coffee_intros_days)],
        "coffee_off": [o for o in ctx.uow.records(CoffeeOptIn).where(active=False)
                       if (o.next_at or _EPOCH) < ago(policy.coffee_off_days)],
        "expert_requests": [r for r in ctx.uow.records(ExpertRequest).where()
                            if (r.at or _EPOCH) < ago(policy.expert_requests_days)],
    }  # fmt: skip


def plan(ctx: Ctx, policy: Retention) -> Due:
    """What the schedule would remove now; nothing changes."""
    return Due(
        outbox=len(_outbox_rows(ctx, policy, 10**9)),
        answers=len(_answers(ctx, policy)),
        left_profiles=len(_left_people(ctx, policy)),
        audit=_audit_due(ctx, policy),
        proposals=len(_proposals(ctx, policy)),
        **{name: len(rows) for name, rows in _network(ctx, policy).items()},
    )


def apply(ctx: Ctx, policy: Retention, batch: int = 500) -> Due:
    """Remove up to ``batch`` of each kind that is due; call again until it returns a total of 0."""
    done = Due()
    for item in _outbox_rows(ctx, policy, batch):
        if item.status in ("held", "unknown"):
            item.status, item.error = "failed", "given up: older than the retention period"
        item.message = dict(SCRUBBED)
        item.recipient = {"kind": item.recipient.get("kind", ""), "platform": item.recipient.get("platform", ""),
                          "removed": True}  # fmt: skip
        item.result = {}
        done.outbox += 1
    for r in _answers(ctx, policy)[:batch]:
        r.text = REMOVED
        done.answers += 1
    for user in _left_people(ctx, policy)[: max(1, batch // 50)]:
        erasure.forget(ctx, user, tell_them=False)
        done.left_profiles += 1
    done.audit = ctx.uow.audit.delete_before(ctx.now - timedelta(days=policy.audit_days), batch)
    for proposal in _proposals(ctx, policy)[:batch]:
        proposal.plan = dict(EXPIRED_PLAN)
        done.proposals += 1
    for name, rows in _network(ctx, policy).items():  # answers before the events they belong to
        for row in rows[:batch]:
            if name == "events":
                for answer in ctx.uow.records(Rsvp).where(event_id=row.id):
                    ctx.uow.records(Rsvp).delete(answer)
            ctx.uow.records(type(row)).delete(row)
        setattr(done, name, min(len(rows), batch))
    if done.total():
        ctx.audit(None, OPERATOR, "retention", **{k: v for k, v in vars(done).items() if v})
    return done
