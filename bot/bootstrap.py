"""Wiring: a database, its unit of work, the engine and the sender, for any set of messengers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine

from bot.metrics import Metrics, metered
from conversations.core.clock import Clock, SystemClock
from conversations.delivery.sender import Sender
from conversations.engine import Engine
from conversations.flows.bank import sync_builtin
from conversations.ports.directory import Directory
from conversations.ports.messenger import Messenger
from conversations.schedule.email_lookup import EmailLookups
from storage.database import make_engine
from storage.migrate import upgrade
from storage.pacing import SqlPaceSlots
from storage.unit_of_work import SqlUnitOfWorkFactory


@dataclass
class Buddy:
    db: DbEngine
    uow: SqlUnitOfWorkFactory
    engine: Engine
    sender: Sender
    directories: dict[str, Directory] = field(default_factory=dict)

    def lookups(self) -> EmailLookups:
        """The background email lookups of survey imports, over this Buddy's directories."""
        return EmailLookups(self.engine.run, self.directories)


def bootstrap(
    database: str | DbEngine,
    messengers: Mapping[str, Messenger],
    *,
    clock: Clock | None = None,
    seed: int = 0,
    admins: tuple[str, ...] = (),
    migrate: bool = True,
    metrics: Metrics | None = None,
    counted_429s: tuple[str, ...] = (),
    directories: Mapping[str, Directory] | None = None,
) -> Buddy:
    """``database`` is a URL or an engine the platform adapters already share; with ``metrics`` the
    sender's posts are timed and counted."""
    db = make_engine(database) if isinstance(database, str) else database
    if migrate:
        upgrade(db)
    uow = SqlUnitOfWorkFactory(db)
    clock = clock or SystemClock()
    capabilities = {platform: m.capabilities for platform, m in messengers.items()}
    engine = Engine(uow, clock=clock, seed=seed, capabilities=capabilities, admins=admins)
    engine.run(sync_builtin)
    outgoing = metered(messengers, metrics, counted_429s) if metrics is not None else messengers
    # several workers on PostgreSQL share each platform's limits; SQLite runs one worker
    shared = SqlPaceSlots(db) if db.dialect.name == "postgresql" else None
    sender = Sender(uow, outgoing, clock, on_failure=engine.delivery_failed, shared_pacing=shared)
    return Buddy(db, uow, engine, sender, dict(directories or {}))
