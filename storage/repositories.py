"""SQLAlchemy implementations of the repositories in :mod:`conversations.ports.store`."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from functools import cache
from itertools import combinations
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from conversations.core.model import (
    Assignment,
    AuditEntry,
    Cohort,
    ConsentRecord,
    Coordinator,
    ImportBatch,
    ImportRow,
    InboxMessage,
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
from conversations.ports.store import SCRUBBED, Answer, GroupActivity, LastConsent, PersonRow, Posted, Said
from storage import deferred, known_groups, statements, tables
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

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

    def remove_coordinator(self, cohort_id: int, user: UserRef) -> int:
        c = tables.coordinators.c
        result = self.session.execute(delete(tables.coordinators).where(
            c.cohort_id == cohort_id, c.platform == user.platform, c.workspace == user.workspace,
            c.user_id == user.user_id))  # fmt: skip
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def delete_coordinator(self, coordinator: Coordinator) -> None:
        self.session.delete(coordinator)
        self.session.flush()

    def activity_times(self, cohort_id: int, since: datetime) -> dict[str, list[datetime]]:
        p, m, a = tables.participants.c, tables.matches.c, tables.assignments.c
        r, n = tables.responses.c, tables.nudges.c
        in_cohort = tables.assignments.join(tables.matches, m.id == a.match_id)
        queries = {
            "registered": select(p.registered_at).where(p.cohort_id == cohort_id, p.registered_at >= since),
            "matched": select(m.created_at).where(m.cohort_id == cohort_id, m.created_at >= since),
            "answered": select(r.submitted_at).select_from(tables.responses.join(in_cohort, a.id == r.assignment_id))
            .where(m.cohort_id == cohort_id, r.submitted_at >= since),
            "nudged": select(n.sent_at).select_from(tables.nudges.join(in_cohort, a.id == n.assignment_id))
            .where(m.cohort_id == cohort_id, n.level == "pair", n.sent_at >= since),
        }  # fmt: skip
        return {
            name: [t for t in self.session.scalars(stmt) if t is not None] for name, stmt in queries.items()
        }

    def coordinated_by(self, user: UserRef) -> list[Cohort]:
        return list(self.session.scalars(statements.cohorts_coordinated_by(), _identity(user)))

    def advance_round(self, cohort_id: int, expected: int) -> bool:
        c = tables.cohorts.c
        stmt = (
            update(tables.cohorts)
            .where(c.id == cohort_id, c.current_round == expected)
            .values(current_round=expected + 1)
            .returning(c.id)
        )
        moved = self.session.execute(stmt).first() is not None
        cohort = self.session.get(Cohort, cohort_id)
        if moved and cohort is not None:
            self.session.refresh(cohort)
        return moved


class SqlParticipants(_Repo):
    def add(self, participant: Participant) -> Participant:
        self.session.add(participant)
        self.session.flush()
        return participant

    def add_many(self, participants: Sequence[Participant]) -> None:
        self.session.add_all(participants)
        self.session.flush()

    def get(self, participant_id: int) -> Participant | None:
        return self.session.get(Participant, participant_id)

    def find(self, cohort_id: int, user: UserRef) -> Participant | None:
        params = {**_identity(user), "cohort_id": cohort_id}
        return self.session.scalars(statements.participant_in_cohort(), params).first()

    def for_user(self, user: UserRef) -> list[Participant]:
        return list(self.session.scalars(statements.participants_for_user(), _identity(user)))

    def for_user_and_consent(self, user: UserRef, kind: str) -> tuple[list[Participant], LastConsent | None]:
        rows = deferred.lookup(
            self.session, statements.participants_and_consent(), {**_identity(user), "kind": kind}
        )
        consent = None
        if rows and rows[0].agreed is not None:
            consent = LastConsent(bool(rows[0].agreed), rows[0].notice_version)
        for row in rows:
            known_groups.note(self.session, row[0].id, row.Match)
        return [row[0] for row in rows], consent

    def in_cohort(self, cohort_id: int, statuses: Iterable[str] | None = None) -> list[Participant]:
        p = tables.participants.c
        stmt = select(Participant).where(p.cohort_id == cohort_id)
        if statuses is not None:
            stmt = stmt.where(p.status.in_(list(statuses)))
        return list(self.session.scalars(stmt.order_by(p.registered_at, p.id)))

    def listing(self, cohort_id: int, ids: Collection[int] | None = None) -> list[PersonRow]:
        p = tables.participants.c
        stmt = select(*(p[f.name] for f in fields(PersonRow))).where(p.cohort_id == cohort_id)
        order = (p.registered_at, p.id)
        if ids is None:
            return [PersonRow(*row) for row in self.session.execute(stmt.order_by(*order))]
        wanted = sorted(set(ids))
        found = [row for start in range(0, len(wanted), IN_CHUNK)
                 for row in self.session.execute(stmt.where(p.id.in_(wanted[start : start + IN_CHUNK])))]  # fmt: skip
        return [PersonRow(*row) for row in found]

    def many(self, ids: Iterable[int]) -> list[Participant]:
        wanted = list(ids)
        found = {p.id: p for p in self._where_in(select(Participant), tables.participants.c.id, wanted)}
        return [found[i] for i in wanted if i in found]

    def status_counts(self, cohort_id: int) -> dict[str, int]:
        p = tables.participants.c
        stmt = select(p.status, func.count()).where(p.cohort_id == cohort_id).group_by(p.status)
        return {status: count for status, count in self.session.execute(stmt)}

    def count_with_status(self, ids: Collection[int], statuses: Collection[str]) -> int:
        p = tables.participants.c
        wanted, found = sorted(set(ids)), 0
        for start in range(0, len(wanted), IN_CHUNK):
            stmt = select(func.count()).where(
                p.id.in_(wanted[start : start + IN_CHUNK]), p.status.in_(list(statuses))
            )
            found += int(self.session.execute(stmt).scalar_one())
        return found

    def set_status(self, ids: Collection[int], status: str, only_from: Collection[str]) -> int:
        p = tables.participants.c
        wanted, changed = sorted(set(ids)), 0
        for start in range(0, len(wanted), IN_CHUNK):
            stmt = (
                update(tables.participants)
                .where(p.id.in_(wanted[start : start + IN_CHUNK]), p.status.in_(list(only_from)))
                .values(status=status)
                .returning(p.id)
            )
            changed += len(self.session.execute(stmt).all())
        return changed


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
        group = known_groups.known(self.session, participant_id)
        if group is known_groups.UNKNOWN:
            group = self.session.scalars(
                statements.active_match_of(), {"participant_id": participant_id}
            ).first()
            known_groups.note(self.session, participant_id, group)
        return group  # type: ignore[no-any-return]

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

    def activity(
        self, cohort_id: int, before: datetime, ids: Collection[int] | None = None
    ) -> list[GroupActivity]:
        """Plain rows, not records: four queries (per ``IN_CHUNK`` of ``ids``) whatever the size."""
        self.session.flush()
        if ids is None:
            return self._activity(cohort_id, before, None)
        wanted = sorted(set(ids))
        return [g for start in range(0, len(wanted), IN_CHUNK)
                for g in self._activity(cohort_id, before, wanted[start : start + IN_CHUNK])]  # fmt: skip

    def _activity(self, cohort_id: int, before: datetime, ids: list[int] | None) -> list[GroupActivity]:
        m, mm, p = tables.matches.c, tables.match_members.c, tables.participants.c
        a, r = tables.assignments.c, tables.responses.c
        active = and_(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE)
        if ids is not None:
            active = and_(active, m.id.in_(ids))
        run = self.session.execute
        groups = {mid: GroupActivity(mid, created, number, score, reasons) for mid, created, number, score, reasons
                  in run(select(m.id, m.created_at, m.round, m.score, m.reasons).where(active).order_by(m.id))}  # fmt: skip
        for mid, pid, status, seen in run(
            select(mm.match_id, p.id, p.status, p.last_active_at)
            .join(tables.matches, m.id == mm.match_id)
            .join(tables.participants, p.id == mm.participant_id)
            .where(active)
            .order_by(mm.id)
        ):
            groups[mid].members.append((pid, status, seen))
        newest = (select(a.match_id, func.max(a.sequence).label("seq")).join(tables.matches, m.id == a.match_id)
                  .where(active).group_by(a.match_id).subquery())  # fmt: skip
        current = (select(a.id, a.match_id, a.task_key, a.posted_at)
                   .join(newest, and_(a.match_id == newest.c.match_id, a.sequence == newest.c.seq))
                   .where(a.posted_at <= before))  # fmt: skip
        by_assignment: dict[int, GroupActivity] = {}
        for aid, mid, key, posted in run(current):
            group = groups[mid]
            group.assignment_id, group.task_key, group.posted_at = aid, key, posted
            by_assignment[aid] = group
        if by_assignment:
            now_ = current.subquery()
            for aid, phase, owner, author, at in run(
                select(r.assignment_id, r.phase, r.owner_id, r.author_id, r.submitted_at)
                .join(now_, now_.c.id == r.assignment_id)
                .order_by(r.id)
            ):
                by_assignment[aid].said.append(Said(phase, owner, author, at))
        return list(groups.values())

    def count_active(self, cohort_id: int) -> int:
        m = tables.matches.c
        stmt = select(func.count()).where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE)
        return int(self.session.execute(stmt).scalar_one())

    def past_pairs(self, users: Iterable[UserRef]) -> set[frozenset[str]]:
        wanted = {u.key for u in users}
        if not wanted:
            return set()
        p, mm = tables.participants.c, tables.match_members.c
        m = tables.matches.c
        rows = self.session.execute(
            select(mm.match_id, p.platform, p.workspace, p.user_id)
            .join(tables.participants, p.id == mm.participant_id)
            .join(tables.matches, m.id == mm.match_id)
            .where(m.status != "staged")  # a confirm still under way (or abandoned) is not history
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

    def stage(
        self,
        cohort_id: int,
        round: int,
        token: str,
        groups: Sequence[tuple[float, list[str], Sequence[int]]],
        now: datetime,
    ) -> None:
        if not groups:
            return
        ids = self._new_match_ids(len(groups))
        rows: list[dict[str, Any]] = [dict(id=match_id, cohort_id=cohort_id, round=round, score=score, reasons=list(reasons), status="staged",
                     conversation={}, created_at=now, ended_at=None, stage_token=token)
                for match_id, (score, reasons, _members) in zip(ids, groups, strict=True)]  # fmt: skip
        self.session.execute(tables.matches.insert(), rows)  # one executemany: ids are known already
        members = [dict(match_id=match_id, participant_id=pid)
                   for match_id, (_s, _r, member_ids) in zip(ids, groups, strict=True) for pid in member_ids]  # fmt: skip
        self.session.execute(tables.match_members.insert(), members)

    def _new_match_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new groups, taken before they are inserted, so the rows and their
        members go in as two bulk inserts (an INSERT ... RETURNING in order is one statement a
        row on SQLite). PostgreSQL: from the table's sequence. SQLite: after the largest id, once
        this transaction holds the write lock (no other writer can take them meanwhile)."""
        m = tables.matches.c
        if self.session.get_bind().dialect.name == "postgresql":
            return list(self.session.scalars(
                select(func.nextval(func.pg_get_serial_sequence("matches", "id"))).select_from(
                    func.generate_series(1, count))))  # fmt: skip
        self.session.execute(update(tables.matches).where(m.id == -1).values(id=m.id))  # takes the write lock
        first = int(self.session.execute(select(func.coalesce(func.max(m.id), 0))).scalar_one()) + 1
        return list(range(first, first + count))

    def discard_staged(self, cohort_id: int, limit: int) -> int:
        m, mm = tables.matches.c, tables.match_members.c
        ids = list(self.session.scalars(
            select(m.id).where(m.cohort_id == cohort_id, m.status == "staged").order_by(m.id).limit(limit)
        ))  # fmt: skip
        if ids:  # members first: SQLite enforces the cascade only with foreign keys on
            self.session.execute(tables.match_members.delete().where(mm.match_id.in_(ids)))
            self.session.execute(tables.matches.delete().where(m.id.in_(ids)))
        return len(ids)

    def reveal(self, token: str, member_statuses: Collection[str], status: str) -> tuple[int, int]:
        m, mm, p = tables.matches.c, tables.match_members.c, tables.participants.c
        members = (
            select(mm.participant_id)
            .join(tables.matches, m.id == mm.match_id)
            .where(m.stage_token == token, m.status == "staged")
        )
        people = self.session.execute(
            update(tables.participants)
            .where(p.id.in_(members), p.status.in_(list(member_statuses)))
            .values(status=status)
        ).rowcount  # type: ignore[attr-defined]
        groups = self.session.execute(
            update(tables.matches)
            .where(m.stage_token == token, m.status == "staged")
            .values(status=MatchStatus.ACTIVE)
        ).rowcount  # type: ignore[attr-defined]
        return int(groups or 0), int(people or 0)

    def revealed(self, token_prefix: str, after_id: int, limit: int) -> list[Match]:
        m = tables.matches.c
        stmt = (
            select(Match)
            .where(m.stage_token.startswith(token_prefix, autoescape=True), m.status == MatchStatus.ACTIVE,
                   m.id > after_id)
            .order_by(m.id)
            .limit(limit)
        )  # fmt: skip
        return list(self.session.scalars(stmt))

    def confirm_proposal(self, cohort_id: int, proposal_id: int, now: datetime) -> bool:
        mp = tables.match_proposals
        newer = mp.alias("newer")
        stmt = (
            update(mp)
            .where(mp.c.id == proposal_id, mp.c.cohort_id == cohort_id, mp.c.confirmed_at.is_(None),
                   ~select(newer.c.id).where(newer.c.cohort_id == cohort_id, newer.c.confirmed_at.is_(None),
                                             newer.c.id > proposal_id).exists())
            .values(confirmed_at=now)
        )  # fmt: skip
        return bool(self.session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def mark_introduced(self, proposal_id: int, now: datetime) -> bool:
        mp = tables.match_proposals.c
        stmt = (
            update(tables.match_proposals)
            .where(mp.id == proposal_id, mp.confirmed_at.is_not(None), mp.introduced_at.is_(None))
            .values(introduced_at=now)
        )
        return bool(self.session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def unintroduced(self) -> list[MatchProposal]:
        mp = tables.match_proposals.c
        stmt = select(MatchProposal).where(mp.confirmed_at.is_not(None), mp.introduced_at.is_(None))
        return list(self.session.scalars(stmt.order_by(mp.id)))

    def open_proposal(self, cohort_id: int) -> MatchProposal | None:
        mp = tables.match_proposals.c
        stmt = (
            select(MatchProposal)
            .where(mp.cohort_id == cohort_id, mp.confirmed_at.is_(None))
            .order_by(mp.id.desc())
        )
        return self.session.scalars(stmt).first()

    def proposals(self, cohort_id: int | None = None) -> list[MatchProposal]:
        mp = tables.match_proposals.c
        stmt = select(MatchProposal).order_by(mp.id)
        if cohort_id is not None:
            stmt = stmt.where(mp.cohort_id == cohort_id)
        return list(self.session.scalars(stmt))

    def ended_before(self, before: datetime) -> list[Match]:
        m = tables.matches.c
        stmt = select(Match).where(m.status == MatchStatus.ENDED, m.ended_at < before).order_by(m.id)
        return list(self.session.scalars(stmt))

    def groups_of(self, participant_id: int) -> list[Match]:
        mm = tables.match_members.c
        ids = select(mm.match_id).where(mm.participant_id == participant_id)
        return list(
            self.session.scalars(
                select(Match).where(tables.matches.c.id.in_(ids)).order_by(tables.matches.c.id)
            )
        )


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
            if old is None:  # another process starting at the same moment may add it first: fine
                values = {
                    c.name: getattr(new, c.name) for c in tables.task_definitions.columns if c.name != "id"
                }
                dialect = self.session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                self.session.execute(
                    insert(tables.task_definitions)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["key"])
                )
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

    def posted(self, cohort_id: int) -> list[Posted]:
        a, m = tables.assignments.c, tables.matches.c
        stmt = (select(a.id, a.match_id, a.task_key).join(tables.matches, m.id == a.match_id)
                .where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE).order_by(a.match_id, a.sequence))  # fmt: skip
        return [Posted(*row) for row in self.session.execute(stmt)]

    def posted_counts(self, cohort_id: int) -> dict[int, int]:
        a, m = tables.assignments.c, tables.matches.c
        stmt = (select(a.match_id, func.count()).join(tables.matches, m.id == a.match_id)
                .where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE).group_by(a.match_id))  # fmt: skip
        return {match_id: count for match_id, count in self.session.execute(stmt)}

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

    def counts_by_author(self, cohort_id: int) -> dict[int, int]:
        r, a, m = tables.responses.c, tables.assignments.c, tables.matches.c
        stmt = (select(r.author_id, func.count()).join(tables.assignments, a.id == r.assignment_id)
                .join(tables.matches, m.id == a.match_id)
                .where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE).group_by(r.author_id))  # fmt: skip
        return {author: count for author, count in self.session.execute(stmt)}

    def answers_in(self, cohort_id: int) -> list[Answer]:
        r, a, m = tables.responses.c, tables.assignments.c, tables.matches.c
        stmt = (select(r.assignment_id, r.phase, r.owner_id, r.author_id, r.submitted_at, r.text)
                .join(tables.assignments, a.id == r.assignment_id).join(tables.matches, m.id == a.match_id)
                .where(m.cohort_id == cohort_id, m.status == MatchStatus.ACTIVE).order_by(r.id))  # fmt: skip
        return [Answer(*row) for row in self.session.execute(stmt)]

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
        rows = self._where_in(
            select(ProgrammeEntry), tables.programme_entries.c.participant_id, participant_ids
        )
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

    def all(self, limit: int | None = None) -> list[AuditEntry]:
        a = tables.audit_log.c
        if limit is None:
            return list(self.session.scalars(select(AuditEntry).order_by(a.id)))
        newest = self.session.scalars(select(AuditEntry).order_by(a.id.desc()).limit(limit))
        return sorted(newest, key=lambda e: e.id)

    def delete_before(self, before: datetime, limit: int) -> int:
        a = tables.audit_log.c
        due = select(a.id).where(a.at < before).order_by(a.id).limit(limit).scalar_subquery()
        result = self.session.execute(delete(tables.audit_log).where(a.id.in_(due)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SqlConsents(_Repo):
    def add(self, record: ConsentRecord) -> ConsentRecord:
        self.session.add(record)
        self.session.flush()
        return record

    def latest(self, user: UserRef, kind: str) -> LastConsent | None:
        row = self.session.execute(statements.latest_consent(), {**_identity(user), "kind": kind}).first()
        return None if row is None else LastConsent(bool(row.agreed), row.notice_version)

    def for_user(self, user: UserRef) -> list[ConsentRecord]:
        c = tables.consent_records.c
        stmt = select(ConsentRecord).filter_by(**_identity(user)).order_by(c.id)
        return list(self.session.scalars(stmt))

    def delete_for(self, user: UserRef) -> int:
        c = tables.consent_records.c
        result = self.session.execute(
            delete(tables.consent_records).where(
                c.platform == user.platform, c.workspace == user.workspace, c.user_id == user.user_id
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SqlImports(_Repo):
    def add(self, batch: ImportBatch) -> ImportBatch:
        self.session.add(batch)
        self.session.flush()
        return batch

    def get(self, batch_id: int) -> ImportBatch | None:
        return self.session.get(ImportBatch, batch_id)

    def checking(self) -> list[ImportBatch]:
        b = tables.import_batches.c
        return list(self.session.scalars(select(ImportBatch).where(b.status == "checking").order_by(b.id)))

    def mapping(self, cohort_id: int) -> list[ImportBatch]:
        b = tables.import_batches.c
        stmt = select(ImportBatch).where(b.cohort_id == cohort_id, b.status == "mapping").order_by(b.id)
        return list(self.session.scalars(stmt))

    def waiting(self, started_before: datetime) -> list[ImportBatch]:
        b = tables.import_batches.c
        stmt = select(ImportBatch).where(
            b.status.in_(("mapping", "ready", "importing")), b.created_at < started_before
        )
        return list(self.session.scalars(stmt.order_by(b.id)))

    def add_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One multi-row INSERT (a national survey has 20,000 rows); no records are tracked."""
        if rows:
            columns = [c.name for c in tables.import_rows.columns if c.name != "id"]
            self.session.execute(tables.import_rows.insert(), [{c: r[c] for c in columns} for r in rows])

    def rows(
        self, batch_id: int, state: str | None = None, limit: int | None = None, after_line: int = 0
    ) -> list[ImportRow]:
        r = tables.import_rows.c
        stmt = select(ImportRow).where(r.batch_id == batch_id, r.line > after_line)
        if state is not None:
            stmt = stmt.where(r.state == state)
        stmt = stmt.order_by(r.line, r.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def rows_by_id(self, batch_id: int, ids: Iterable[int]) -> list[ImportRow]:
        r = tables.import_rows.c
        return self._where_in(select(ImportRow).where(r.batch_id == batch_id), r.id, ids)

    def counts(self, batch_id: int) -> dict[str, int]:
        r = tables.import_rows.c
        stmt = select(r.state, func.count()).where(r.batch_id == batch_id).group_by(r.state)
        return {state: count for state, count in self.session.execute(stmt)}

    def rows_for(self, user: UserRef) -> list[ImportRow]:
        r, b = tables.import_rows.c, tables.import_batches.c
        stmt = (
            select(ImportRow)
            .join(tables.import_batches, b.id == r.batch_id)
            .where(b.platform == user.platform, b.workspace == user.workspace, r.user_id == user.user_id)
        )
        return list(self.session.scalars(stmt))

    def drop_rows(self, batch_id: int, states: Iterable[str] | None = None) -> None:
        r = tables.import_rows.c
        stmt = tables.import_rows.delete().where(r.batch_id == batch_id)
        if states is not None:
            stmt = stmt.where(r.state.in_(list(states)))
        self.session.execute(stmt, execution_options={"synchronize_session": False})
        self.session.expire_all()

    # ---- staged: people written a slice at a time, unseen, then moved in one short transaction ----

    def stage(self, batch_id: int, people: Sequence[dict[str, Any]]) -> None:
        """Rows of ``import_staged`` (a person staged twice, by an attempt run again, is kept once)."""
        if people:
            dialect = self.session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            rows = [{**person, "batch_id": batch_id} for person in people]
            self.session.execute(insert(tables.import_staged).on_conflict_do_nothing(
                index_elements=["batch_id", "user_id"]), rows)  # fmt: skip

    def staged_count(self, batch_id: int) -> int:
        s = tables.import_staged.c
        return int(self.session.scalar(select(func.count()).where(s.batch_id == batch_id)) or 0)

    def discard_staged(self, batch_id: int, welcome_prefix: str, user_id: str | None = None) -> None:
        s, o = tables.import_staged.c, tables.outbox.c
        one = [s.user_id == user_id] if user_id is not None else []
        self.session.execute(delete(tables.import_staged).where(s.batch_id == batch_id, *one))
        self.session.execute(delete(tables.outbox).where(
            o.status == "staged", o.key.startswith(welcome_prefix, autoescape=True)))  # fmt: skip

    def reveal(
        self, batch_id: int, cohort_id: int, platform: str, workspace: str, welcome_prefix: str, now: datetime
    ) -> tuple[int, int]:
        """Move the staged people into the cohort and release their staged welcomes, in set-wise
        statements (this is the one short transaction of an import); (added, updated)."""
        s, p, o = tables.import_staged.c, tables.participants.c, tables.outbox.c
        ours = and_(p.cohort_id == cohort_id, p.platform == platform, p.workspace == workspace)
        # someone who joined while the import was staged is updated, not added twice, and not welcomed
        joined = select(p.id).where(ours, p.user_id == s.user_id).scalar_subquery()
        self.session.execute(update(tables.import_staged).where(
            s.batch_id == batch_id, s.participant_id.is_(None)).values(participant_id=joined))  # fmt: skip
        existing = and_(s.batch_id == batch_id, s.participant_id.is_not(None))
        self.session.execute(delete(tables.outbox).where(
            o.status == "staged", o.key.in_(select(literal(welcome_prefix) + s.user_id).where(existing))))  # fmt: skip
        new = and_(s.batch_id == batch_id, s.participant_id.is_(None))
        profile = [
            c.name for c in tables.import_staged.columns if c.name not in ("id", "batch_id", "participant_id")
        ]
        added = select(literal(cohort_id), literal(platform), literal(workspace), literal("invited"),
                       literal(now, UTCDateTime()), false(), *(s[c] for c in profile)).where(new)  # fmt: skip
        into = ["cohort_id", "platform", "workspace", "status", "registered_at", "unreachable", *profile]
        created = int(self.session.scalar(select(func.count()).where(new)) or 0)  # (rowcount: -1 on psycopg)
        self.session.execute(tables.participants.insert().from_select(into, added))
        changed = {c: select(s[c]).where(s.batch_id == batch_id, s.participant_id == p.id).limit(1).scalar_subquery()
                   for c in profile if c != "user_id"}  # fmt: skip
        updated = self.session.execute(update(tables.participants).where(
            p.id.in_(select(s.participant_id).where(existing))).values(changed),
            execution_options={"synchronize_session": False}).rowcount  # type: ignore[attr-defined]  # fmt: skip
        self.session.execute(update(tables.outbox).where(
            o.status == "staged", o.key.startswith(welcome_prefix, autoescape=True)).values(status="pending"))  # fmt: skip
        self.session.execute(delete(tables.import_staged).where(s.batch_id == batch_id))
        self.session.expire_all()
        return int(created or 0), int(updated or 0)


class SqlOutbox(_Repo):
    _CLAIM_COLUMNS = ("claimed_at", "claimed_by")  # set by claims only, never by ``add``

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.queued = 0

    def add(self, item: OutboxItem) -> bool:
        values = {name: getattr(item, name) for name in _OUTBOX_ADDED}
        stmt = _outbox_insert(self.session.get_bind().dialect.name)
        added = self.session.execute(stmt, values).first() is not None
        self.queued += added
        if added:  # with the request id (bot.logs): the link from an interaction to its sends
            log.debug("outbox: queued %s", item.key)
        return added

    def add_many(self, items: Sequence[OutboxItem]) -> int:
        if not items:
            return 0
        o = tables.outbox.c
        keys = [item.key for item in items]
        taken = {key for start in range(0, len(keys), IN_CHUNK)
                 for key in self.session.scalars(select(o.key).where(o.key.in_(keys[start : start + IN_CHUNK])))}  # fmt: skip
        fresh: dict[str, dict[str, Any]] = {}
        for item in items:
            if item.key not in taken and item.key not in fresh:
                fresh[item.key] = {col.name: getattr(item, col.name) for col in tables.outbox.columns
                                   if col.name != "id" and col.name not in self._CLAIM_COLUMNS}  # fmt: skip
        if fresh:
            dialect = self.session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            self.session.execute(insert(tables.outbox).on_conflict_do_nothing(index_elements=["key"]),
                                 list(fresh.values()))  # fmt: skip
        self.queued += len(fresh)
        return len(fresh)

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

    def release(self, owner: str, keep: Collection[int] = ()) -> int:
        o = tables.outbox.c
        where = and_(o.status == "sending", o.claimed_by == owner)
        if keep:
            where = and_(where, o.id.not_in(list(keep)))
        values = {"status": "pending", "claimed_at": None, "claimed_by": "", "attempts": o.attempts - 1}
        result = self.session.execute(update(tables.outbox).where(where).values(**values))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

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

    def renew(self, owner: str, now: datetime) -> int:
        o = tables.outbox.c
        stmt = (
            update(tables.outbox)
            .where(o.claimed_by == owner, o.status.in_(["sending", "checking"]))
            .values(claimed_at=now)
        )
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def count(self, status: str) -> int:
        o = tables.outbox.c
        return int(self.session.scalar(select(func.count()).where(o.status == status)) or 0)

    def count_stuck(self, claimed_before: datetime) -> int:
        """Rows left ``sending`` by a claim older than ``claimed_before`` (a sender past its lease)."""
        o = tables.outbox.c
        stuck = and_(o.status == "sending", or_(o.claimed_at.is_(None), o.claimed_at < claimed_before))
        return int(self.session.scalar(select(func.count()).where(stuck)) or 0)

    def by_status(self, status: str) -> list[OutboxItem]:
        o = tables.outbox.c
        return list(self.session.scalars(select(OutboxItem).where(o.status == status).order_by(o.id)))

    def unscrubbed_before(self, before: datetime, statuses: Collection[str], limit: int) -> list[OutboxItem]:
        o = tables.outbox.c
        scrubbed_text = json.dumps(SCRUBBED)  # how the JSON column stores it, on both databases
        pending = or_(
            cast(o.message, Text) != scrubbed_text, ~cast(o.recipient, Text).contains('"removed": true')
        )
        stmt = (
            select(OutboxItem)
            .where(o.created_at < before, o.status.in_(sorted(statuses)), pending)
            .order_by(o.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def keyed(self, prefix: str, statuses: Collection[str]) -> list[OutboxItem]:
        o = tables.outbox.c
        stmt = select(OutboxItem).where(
            o.key.startswith(prefix, autoescape=True), o.status.in_(sorted(statuses))
        )
        return list(self.session.scalars(stmt.order_by(o.id)))


_OUTBOX_ADDED = tuple(
    c.name for c in tables.outbox.columns if c.name not in ("id", "claimed_at", "claimed_by")
)


@cache
def _outbox_insert(dialect: str) -> Any:
    """Built once: building an INSERT with its values costs more than running it (see statements)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    o = tables.outbox.c
    return (
        insert(tables.outbox)
        .values({name: bindparam(name, type_=o[name].type) for name in _OUTBOX_ADDED})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(o.id)  # rowcount is not reliable here on every driver
    )


class SqlInbox(_Repo):
    def add(self, message: InboxMessage) -> InboxMessage:
        self.session.add(message)
        self.session.flush()
        return message

    def get(self, message_id: int) -> InboxMessage | None:
        return self.session.get(InboxMessage, message_id)

    def thread(self, thread_id: int) -> list[InboxMessage]:
        i = tables.inbox_messages.c
        stmt = select(InboxMessage).where(or_(i.id == thread_id, i.thread_id == thread_id)).order_by(i.id)
        return list(self.session.scalars(stmt))

    def open_threads(self, cohort_id: int) -> list[InboxMessage]:
        i = tables.inbox_messages.c
        stmt = select(InboxMessage).where(
            i.cohort_id == cohort_id, i.thread_id.is_(None), i.resolved_at.is_(None)
        )
        return list(self.session.scalars(stmt.order_by(i.id)))

    def for_participants(self, participant_ids: Iterable[int]) -> list[InboxMessage]:
        rows = self._where_in(select(InboxMessage), tables.inbox_messages.c.participant_id, participant_ids)
        return sorted(rows, key=lambda m: m.id)

    def delete(self, message: InboxMessage) -> None:
        self.session.delete(message)
        self.session.flush()


def _identity(user: UserRef) -> dict[str, str]:
    return {"platform": user.platform, "workspace": user.workspace, "user_id": user.user_id}
