"""Events API deduplication by ``event_id``.

Slack retries an event up to three times when our answer is slow or lost, and Bolt does not
deduplicate. A delivery *claims* its ``event_id`` before the listener runs; a second claim of the
same id fails and that delivery is acknowledged without acting. If handling fails, the claim is
released so a later retry can still do the work.

Two stores: :class:`MemoryDedupe` for one process, :class:`SqlDedupe` (table ``slack_event_ids``)
when several web processes share a database. The table belongs to this adapter (its own
``MetaData``): adapters do not import ``storage``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

# Slack's last retry comes about 5 minutes after the first delivery; keep ids an hour.
DEFAULT_TTL = 3600.0

metadata = sa.MetaData()
slack_event_ids = sa.Table(
    "slack_event_ids",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


class EventDedupe(Protocol):
    async def claim(self, event_id: str) -> bool:
        """True for the first delivery of ``event_id``, False for a repeat."""
        ...

    async def release(self, event_id: str) -> None:
        """Forget a claim whose handling failed, so a retry may try again."""
        ...


class MemoryDedupe:
    """One process only; bounded by ``max_entries`` and ``ttl`` seconds."""

    def __init__(
        self, ttl: float = DEFAULT_TTL, max_entries: int = 100_000, now: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self.now = now
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def claim(self, event_id: str) -> bool:
        now = self.now()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.max_entries:
                break
            del self._seen[oldest]
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True

    async def release(self, event_id: str) -> None:
        self._seen.pop(event_id, None)


class SqlDedupe:
    """Shared by every process on the same database: the primary key decides who claims first."""

    def __init__(
        self,
        engine: sa.Engine,
        ttl: float = DEFAULT_TTL,
        prune_every: int = 500,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.prune_every = prune_every
        self.now = now
        self._claims = 0

    def create_table(self) -> None:
        metadata.create_all(self.engine, tables=[slack_event_ids])

    async def claim(self, event_id: str) -> bool:
        self._claims += 1
        prune = self._claims % self.prune_every == 0
        return await asyncio.to_thread(self._claim, event_id, prune)

    def _claim(self, event_id: str, prune: bool) -> bool:
        now = self.now()
        with self.engine.begin() as conn:
            if prune:
                conn.execute(
                    slack_event_ids.delete().where(
                        slack_event_ids.c.seen_at < now - timedelta(seconds=self.ttl)
                    )
                )
            stmt = _insert_ignoring_conflict(self.engine, event_id, now)
            if stmt is not None:
                # RETURNING, not rowcount: psycopg reports -1 for an INSERT .. ON CONFLICT
                return conn.execute(stmt).first() is not None
        try:  # dialects without ON CONFLICT: let the primary key refuse the repeat
            with self.engine.begin() as conn:
                conn.execute(slack_event_ids.insert().values(event_id=event_id, seen_at=now))
        except IntegrityError:
            return False
        return True

    async def release(self, event_id: str) -> None:
        def delete() -> None:
            with self.engine.begin() as conn:
                conn.execute(slack_event_ids.delete().where(slack_event_ids.c.event_id == event_id))

        await asyncio.to_thread(delete)


def _insert_ignoring_conflict(engine: sa.Engine, event_id: str, now: datetime) -> sa.Executable | None:
    values = {"event_id": event_id, "seen_at": now}
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return (
            sqlite_insert(slack_event_ids)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(slack_event_ids.c.event_id)
        )
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return (
            pg_insert(slack_event_ids)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(slack_event_ids.c.event_id)
        )
    return None
