"""The SQLAlchemy unit of work: one session, one transaction, every repository."""

from __future__ import annotations

from typing import Self, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from storage import deferred, known_groups
from storage.mapping import start_mappers
from storage.notify import OUTBOX_CHANNEL
from storage.records import SqlRecords
from storage.repositories import (
    SqlAssignments,
    SqlAudit,
    SqlCohorts,
    SqlConsents,
    SqlEntries,
    SqlImports,
    SqlInbox,
    SqlMatches,
    SqlNudges,
    SqlOutbox,
    SqlParticipants,
    SqlResponses,
    SqlTasks,
)

R = TypeVar("R")


class SqlUnitOfWork:
    def __init__(self, factory: sessionmaker[Session], notify: bool = False, one_writer: bool = True) -> None:
        self._factory = factory
        self._notify = notify
        self.one_writer = one_writer

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.cohorts = SqlCohorts(self.session)
        self.participants = SqlParticipants(self.session)
        self.matches = SqlMatches(self.session)
        self.tasks = SqlTasks(self.session)
        self.assignments = SqlAssignments(self.session)
        self.responses = SqlResponses(self.session)
        self.nudges = SqlNudges(self.session)
        self.entries = SqlEntries(self.session)
        self.audit = SqlAudit(self.session)
        self.outbox = SqlOutbox(self.session)
        self.consents = SqlConsents(self.session)
        self.inbox = SqlInbox(self.session)
        self.imports = SqlImports(self.session)
        return self

    def records(self, kind: type[R]) -> SqlRecords[R]:
        return SqlRecords(self.session, kind)

    def __exit__(self, *exc: object) -> None:
        # close() rolls back anything uncommitted; records stay readable (detached, not expired)
        self.session.close()

    def commit(self) -> None:
        if self.outbox.queued and self._notify:  # wake every worker (delivered on commit)
            self.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def fresh(self) -> None:
        """The next interaction of a group commit starts here (:mod:`storage.deferred`)."""
        if deferred.wrote_directly(self.session):  # records in memory may be stale
            self.session.flush()
            self.session.expire_all()
        deferred.started_fresh(self.session)
        known_groups.forget(self.session)


class SqlUnitOfWorkFactory:
    """Call it to get a fresh unit of work; records stay usable after commit (no expiry)."""

    def __init__(self, engine: Engine) -> None:
        start_mappers()
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        known_groups.watch(self._sessions)
        deferred.watch(self._sessions)
        self._notify = engine.dialect.name == "postgresql"

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._notify, one_writer=self.engine.dialect.name == "sqlite")
