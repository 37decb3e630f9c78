"""SQLAlchemy implementations of the repositories in :mod:`conversations.ports.store`."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from conversations.core.model import (
    Assignment,
    AuditEntry,
    Cohort,
    Coordinator,
    Match,
    MatchMember,
    MatchProposal,
    MatchStatus,
    Nudge,
    OutboxItem,
    Participant,
    ProgrammeEntry,
    Response,
    TaskDefinition,
)
from conversations.core.refs import UserRef
from conversations.ports.store import SCRUBBED
from storage import statements, tables

IN_CHUNK = 900  # ids per IN (...) list: under every database's limit on bound parameters


class _Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _where_in(self, stmt: Select[Any], column: Any, ids: Iterable[int]) -> list[Any]:
        """Rows of ``stmt`` whose ``column`` is one of ``ids``, fetched ``IN_CHUNK`` ids at a time."""
        wanted = sorted(set(ids))
        return [row for start in range(0, len(wanted), IN_CHUNK)
                for row in self.session.scalars(stmt.where(column.in_(wanted[start : start + IN_CHUNK])))]  # fmt: skip


class SqlCohorts(_Repo):
    def add(self, cohort: Cohort) -> Cohort:
        self.session.add(cohort)
        self.session.flush()
        return cohort

    def get(self, cohort_id: int) -> Cohort | None:
        return self.session.get(Cohort, cohort_id)

    def by_name(self, name: str) -> Cohort | None:
        stmt = select(Cohort).where(func.lower(tables.cohorts.c.name) == name.strip().lower())
        return self.session.scalars(stmt).first()

    def all(self) -> list[Cohort]:
        return list(self.session.scalars(select(Cohort).order_by(tables.cohorts.c.id)))

    def coordinators(self, cohort_id: int) -> list[Coordinator]:
        return list(self.session.scalars(statements.coordinators_of(), {"cohort_id": cohort_id}))

    def add_coordinator(self, coordinator: Coordinator) -> None:
        c = tables.coordinators.c
        exists = self.session.scalars(
            select(Coordinator).where(
                c.cohort_id == coordinator.cohort_id,
                c.platform == coordinator.platform,
                c.workspace == coordinator.workspace,
                c.user_id == coordinator.user_id,
            )
        ).first()
        if exists is None:
            self.session.add(coordinator)
            self.session.flush()

    def coordinated_by(self, user: UserRef) -> list[Cohort]:
        return list(self.session.scalars(statements.cohorts_coordinated_by(), _identity(user)))


class SqlParticipants(_Repo):
    def add(self, participant: Participant) -> Participant:
        self.session.add(participant)
        self.session.flush()
        return participant

    def get(self, participant_id: int) -> Participant | None:
        return self.session.get(Participant, participant_id)

    def find(self, cohort_id: int, user: UserRef) -> Participant | None:
        params = {**_identity(user), "cohort_id": cohort_id}
        return self.session.scalars(statements.participant_in_cohort(), params).first()

    def for_user(self, user: UserRef) -> list[Participant]:
        return list(self.session.scalars(statements.participants_for_user(), _identity(user)))

    def in_cohort(self, cohort_id: int, statuses: Iterable[str] | None = None) -> list[Participant]:
        p = tables.participants.c
        stmt = select(Participant).where(p.cohort_id == cohort_id)
        if statuses is not None:
            stmt = stmt.where(p.status.in_(list(statuses)))
        return list(self.session.scalars(stmt.order_by(p.registered_at, p.id)))

    def many(self, ids: Iterable[int]) -> list[Participant]:
        wanted = list(ids)
        found = {p.id: p for p in self._where_in(select(Participant), tables.participants.c.id, wanted)}
        return [found[i] for i in wanted if i in found]

    def status_counts(self, cohort_id: int) -> dict[str, int]:
        p = tables.participants.c
        stmt = select(p.status, func.count()).where(p.cohort_id == cohort_id).group_by(p.status)
        return {status: count for status, count in self.session.execute(stmt)}


class SqlMatches(_Repo):
    def add(self, match: Match, member_ids: Sequence[int]) -> Match:
        self.session.add(match)
        self.session.flush()
        assert match.id is not None
        for pid in member_ids:
            self.session.add(MatchMember(match_id=match.id, participant_id=pid))
        self.session.flush()
        return match

    def get(self, match_id: int) -> Match | None:
        return self.session.get(Match, match_id)

    def members(self, match_id: int) -> list[Participant]:
        return list(self.session.scalars(statements.match_members(), {"match_id": match_id}))

    def member_rows(self, match_ids: Iterable[int]) -> list[MatchMember]:
        rows = self._where_in(select(MatchMember), tables.match_members.c.match_id, match_ids)
        return sorted(rows, key=lambda row: row.id)

    def of_participant(self, participant_id: int) -> list[Match]:
        m, mm = tables.matches.c, tables.match_members.c
        stmt = (select(Match).join(tables.match_members, mm.match_id == m.id)
                .where(mm.participant_id == participant_id).order_by(m.id))  # fmt: skip
        return list(self.session.scalars(stmt))

    def active_for(self, participant_id: int) -> Match | None:
        return self.session.scalars(statements.active_match_of(), {"participant_id": participant_id}).first()

    def active_in(self, cohort_id: int, ids: Collection[int] | None = None) -> list[Match]:
        m = tables.matches.c
        stmt = select(Match).where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE)
        if ids is None:
            return list(self.session.scalars(stmt.order_by(m.id)))
        return sorted(self._where_in(stmt, m.id, ids), key=lambda match: match.id)

    def active_ids(self, cohort_id: int) -> list[int]:
        m = tables.matches.c
        stmt = select(m.id).where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE).order_by(m.id)
        return list(self.session.scalars(stmt))

    def count_active(self, cohort_id: int) -> int:
        m = tables.matches.c
        stmt = select(func.count()).where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE)
        return int(self.session.execute(stmt).scalar_one())

    def past_pairs(self, users: Iterable[UserRef]) -> set[frozenset[str]]:
        wanted = {u.key for u in users}
        if not wanted:
            return set()
        p, mm = tables.participants.c, tables.match_members.c
        rows = self.session.execute(
            select(mm.match_id, p.platform, p.workspace, p.user_id).join(
                tables.participants, p.id == mm.participant_id
            )
        )
        groups: dict[int, list[str]] = {}
        for match_id, platform, workspace, user_id in rows:
            groups.setdefault(match_id, []).append(f"{platform}:{workspace}:{user_id}")
        pairs: set[frozenset[str]] = set()
        for keys in groups.values():
            for a, b in combinations(keys, 2):
                if a in wanted or b in wanted:
                    pairs.add(frozenset((a, b)))
        return pairs

    def add_proposal(self, proposal: MatchProposal) -> MatchProposal:
        self.session.add(proposal)
        self.session.flush()
        return proposal

    def open_proposal(self, cohort_id: int) -> MatchProposal | None:
        mp = tables.match_proposals.c
        stmt = (
            select(MatchProposal)
            .where(mp.cohort_id == cohort_id, mp.confirmed_at.is_(None))
            .order_by(mp.id.desc())
        )
        return self.session.scalars(stmt).first()


class SqlTasks(_Repo):
    def get(self, key: str) -> TaskDefinition | None:
        stmt = select(TaskDefinition).where(tables.task_definitions.c.key == key)
        return self.session.scalars(stmt).first()

    def all(self) -> list[TaskDefinition]:
        t = tables.task_definitions.c
        return list(self.session.scalars(select(TaskDefinition).order_by(t.position, t.id)))

    def upsert(self, definitions: Sequence[TaskDefinition]) -> None:
        existing = {t.key: t for t in self.all()}
        for new in definitions:
            old = existing.pop(new.key, None)
            if old is None:
                self.session.add(new)
                continue
            for attr in ("title", "summary", "instructions", "minutes", "due_days", "phases",
                         "competencies", "position", "source"):  # fmt: skip
                setattr(old, attr, getattr(new, attr))
        self.session.flush()


class SqlAssignments(_Repo):
    def add(self, assignment: Assignment) -> Assignment:
        self.session.add(assignment)
        self.session.flush()
        return assignment

    def get(self, assignment_id: int) -> Assignment | None:
        return self.session.get(Assignment, assignment_id)

    def for_match(self, match_id: int) -> list[Assignment]:
        a = tables.assignments.c
        return list(
            self.session.scalars(select(Assignment).where(a.match_id == match_id).order_by(a.sequence))
        )

    def for_matches(self, match_ids: Iterable[int]) -> list[Assignment]:
        rows = self._where_in(select(Assignment), tables.assignments.c.match_id, match_ids)
        return sorted(rows, key=lambda row: (row.match_id, row.sequence))

    def latest(self, match_id: int) -> Assignment | None:
        return self.session.scalars(statements.latest_assignment(), {"match_id": match_id}).first()

    def open_since(
        self, cohort_id: int, before: datetime, match_ids: Collection[int] | None = None
    ) -> list[Assignment]:
        if match_ids is None:
            return self._open_since(cohort_id, before, None)
        wanted = sorted(set(match_ids))
        found = [
            row
            for start in range(0, len(wanted), IN_CHUNK)
            for row in self._open_since(cohort_id, before, wanted[start : start + IN_CHUNK])
        ]
        return sorted(found, key=lambda row: row.id)

    def _open_since(self, cohort_id: int, before: datetime, match_ids: list[int] | None) -> list[Assignment]:
        a, m = tables.assignments.c, tables.matches.c
        latest = (
            select(a.match_id, func.max(a.sequence).label("seq"))
            .join(tables.matches, m.id == a.match_id)
            .where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE)
        )
        if match_ids is not None:
            latest = latest.where(m.id.in_(match_ids))
        newest = latest.group_by(a.match_id).subquery()
        stmt = (
            select(Assignment)
            .join(newest, and_(a.match_id == newest.c.match_id, a.sequence == newest.c.seq))
            .where(a.posted_at <= before)
            .order_by(a.id)
        )
        return list(self.session.scalars(stmt))


class SqlResponses(_Repo):
    def add(self, response: Response) -> Response:
        self.session.add(response)
        self.session.flush()
        return response

    def find(self, assignment_id: int, phase: str, owner_id: int) -> Response | None:
        r = tables.responses.c
        stmt = select(Response).where(
            r.assignment_id == assignment_id, r.phase == phase, r.owner_id == owner_id
        )
        return self.session.scalars(stmt).first()

    def for_assignment(self, assignment_id: int) -> list[Response]:
        return list(self.session.scalars(statements.responses_to(), {"assignment_id": assignment_id}))

    def for_assignments(self, assignment_ids: Iterable[int]) -> list[Response]:
        rows = self._where_in(select(Response), tables.responses.c.assignment_id, assignment_ids)
        return sorted(rows, key=lambda row: row.id)

    def for_cohort(self, cohort_id: int) -> list[Response]:
        r, a, m = tables.responses.c, tables.assignments.c, tables.matches.c
        stmt = (
            select(Response)
            .join(tables.assignments, a.id == r.assignment_id)
            .join(tables.matches, m.id == a.match_id)
            .where(m.cohort_id == cohort_id)
            .order_by(r.id)
        )
        return list(self.session.scalars(stmt))


class SqlNudges(_Repo):
    def add(self, nudge: Nudge) -> Nudge:
        self.session.add(nudge)
        self.session.flush()
        return nudge

    def for_assignment(self, assignment_id: int) -> list[Nudge]:
        n = tables.nudges.c
        return list(
            self.session.scalars(select(Nudge).where(n.assignment_id == assignment_id).order_by(n.id))
        )

    def for_assignments(self, assignment_ids: Iterable[int]) -> list[Nudge]:
        rows = self._where_in(select(Nudge), tables.nudges.c.assignment_id, assignment_ids)
        return sorted(rows, key=lambda row: row.id)


class SqlEntries(_Repo):
    def add(self, entry: ProgrammeEntry) -> ProgrammeEntry:
        self.session.add(entry)
        self.session.flush()
        return entry

    def find(self, kind: str, subject: int, participant_id: int, key: str) -> ProgrammeEntry | None:
        e = tables.programme_entries.c
        stmt = select(ProgrammeEntry).where(e.kind == kind, e.subject == subject,
                                            e.participant_id == participant_id, e.key == key)  # fmt: skip
        return self.session.scalars(stmt).first()

    def for_cohort(self, cohort_id: int, kind: str | None = None) -> list[ProgrammeEntry]:
        e = tables.programme_entries.c
        stmt = select(ProgrammeEntry).where(e.cohort_id == cohort_id)
        if kind is not None:
            stmt = stmt.where(e.kind == kind)
        return list(self.session.scalars(stmt.order_by(e.id)))

    def for_participants(self, participant_ids: Iterable[int]) -> list[ProgrammeEntry]:
        rows = self._where_in(select(ProgrammeEntry), tables.programme_entries.c.participant_id, participant_ids)
        return sorted(rows, key=lambda row: row.id)

    def remove(self, entry: ProgrammeEntry) -> None:
        self.session.delete(entry)
        self.session.flush()


class SqlAudit(_Repo):
    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def for_cohort(self, cohort_id: int) -> list[AuditEntry]:
        a = tables.audit_log.c
        return list(self.session.scalars(select(AuditEntry).where(a.cohort_id == cohort_id).order_by(a.id)))


class SqlOutbox(_Repo):
    _CLAIM_COLUMNS = ("claimed_at", "claimed_by")  # set by claims only, never by ``add``

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.queued = 0

    def add(self, item: OutboxItem) -> bool:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            col.name: getattr(item, col.name)
            for col in tables.outbox.columns
            if col.name != "id" and col.name not in self._CLAIM_COLUMNS
        }
        stmt = (
            insert(tables.outbox)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(tables.outbox.c.id)  # rowcount is not reliable here on every driver
        )
        added = self.session.execute(stmt).first() is not None
        self.queued += added
        return added

    def get(self, item_id: int) -> OutboxItem | None:
        return self.session.get(OutboxItem, item_id)

    def scrub_sent(self, before: datetime, limit: int) -> int:
        o = tables.outbox.c
        scrubbed_text = json.dumps(SCRUBBED)  # how the JSON column stores it, on both databases
        due = (
            select(o.id)
            .where(o.status == "sent", o.sent_at < before, cast(o.message, Text) != scrubbed_text)
            .order_by(o.id)
            .limit(limit)
            .scalar_subquery()
        )
        result = self.session.execute(update(tables.outbox).where(o.id.in_(due)).values(message=SCRUBBED))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def requeue(self, item: OutboxItem, now: datetime) -> None:
        item.status, item.not_before, item.error, item.attempts = "pending", now, "", 0
        item.claimed_at, item.claimed_by = None, ""
        self.queued += 1

    def claim(self, now: datetime, limit: int, owner: str = "") -> list[OutboxItem]:
        o = tables.outbox.c
        due = and_(o.status == "pending", or_(o.not_before.is_(None), o.not_before <= now))
        return self._take(due, now, limit, owner, "sending", attempt=True)

    def claim_stale(self, now: datetime, stale_before: datetime, limit: int, owner: str) -> list[OutboxItem]:
        o = tables.outbox.c
        abandoned = and_(
            o.status.in_(["sending", "checking"]),
            or_(o.claimed_at.is_(None), o.claimed_at < stale_before, o.claimed_by == ""),
        )
        unknown = and_(o.status == "unknown", or_(o.not_before.is_(None), o.not_before <= now))
        return self._take(or_(abandoned, unknown), now, limit, owner, "checking", attempt=False)

    def _take(
        self, where: ColumnElement[bool], now: datetime, limit: int, owner: str, status: str, *, attempt: bool
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` rows matching ``where`` as ``status`` under ``owner``, in one statement.

        ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id``: on PostgreSQL
        concurrent claims skip each other's locked rows; on SQLite (no row locks, FOR UPDATE renders
        nothing) the whole statement runs under the single writer lock. Either way the ids returned
        are exactly the rows this call took, so a claim that loses a race takes other rows, not none.
        """
        o = tables.outbox.c
        # A materialised CTE: as a plain IN (subquery), PostgreSQL may rescan the locking subquery
        # while updating and, skipping the rows it has just changed, take far more than ``limit``.
        chosen = select(o.id).where(where).order_by(o.id).limit(limit).with_for_update(skip_locked=True)
        chosen_ids = chosen.cte("chosen").prefix_with("MATERIALIZED")
        values: dict[str, object] = {"status": status, "claimed_at": now, "claimed_by": owner}
        if attempt:
            values["attempts"] = o.attempts + 1
        claim = update(tables.outbox).where(o.id.in_(select(chosen_ids.c.id)), where).values(**values)
        taken = self.session.execute(claim.returning(o.id))
        ids = [row[0] for row in taken]
        if not ids:
            return []
        stmt = (
            select(OutboxItem).where(o.id.in_(ids)).order_by(o.id).execution_options(populate_existing=True)
        )
        return list(self.session.scalars(stmt))

    def next_due(self, now: datetime) -> datetime | None:
        """When the next pending row becomes due (``now`` if one is due already)."""
        o = tables.outbox.c
        if self.session.scalar(select(o.id).where(o.status == "pending", o.not_before.is_(None)).limit(1)):
            return now
        soonest = self.session.scalar(select(func.min(o.not_before)).where(o.status == "pending"))
        return None if soonest is None else max(soonest, now)

    def count(self, status: str) -> int:
        o = tables.outbox.c
        return int(self.session.scalar(select(func.count()).where(o.status == status)) or 0)

    def by_status(self, status: str) -> list[OutboxItem]:
        o = tables.outbox.c
        return list(self.session.scalars(select(OutboxItem).where(o.status == status).order_by(o.id)))


def _identity(user: UserRef) -> dict[str, str]:
    return {"platform": user.platform, "workspace": user.workspace, "user_id": user.user_id}
