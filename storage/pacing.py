"""Sending slots shared by several workers on PostgreSQL (:class:`conversations.ports.store.PaceSlots`).

One row per pacing cell (a conversation's or a workspace's limit) holds its theoretical arrival
time, GCRA-style, in seconds on the database's clock. A reservation takes slots for a batch of
sends (every send a worker's sender is about to make) in one short transaction: it locks their
cells (in key order, so two reservations never deadlock), gives each send the earliest moment all
its cells allow and moves them on by their intervals, then writes the new times back in one
statement. The workspace's cell is locked for those two statements only, once per batch rather
than once per send, so it is no bottleneck at hundreds of sends a second and a worker keeps its
slots reserved ahead however slowly its event loop runs. Its connections commit without waiting
for the disk (``synchronous_commit=off``): otherwise each reservation holds the workspace's cell
through an fsync. Losing the last few reservations in a database crash is harmless: they are only
a schedule. Slots are turned into this process's clock by the measured offset between the two,
so two workers send at the moments the database gave them, whatever their latency. SQLite runs one
worker, which paces in its own memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.dialects.postgresql import insert

from storage import tables

PRUNE_EVERY = 2000  # reservations between removals of cells idle for an hour
IDLE_SECONDS = 3600.0
KNOWN_MAX = 100_000  # cells this process knows exist (so it need not create them)
OFFSET_SECONDS = 60.0  # how long a measurement of the database's clock is trusted

_LOCK = text("""
SELECT key, tat, extract(epoch FROM clock_timestamp())::float8 FROM pace_slots
WHERE key = ANY(CAST(:keys AS text[])) ORDER BY key FOR UPDATE
""")

_MOVE = text("""
UPDATE pace_slots s SET tat = m.tat
FROM unnest(CAST(:keys AS text[]), CAST(:tats AS float8[])) AS m(key, tat) WHERE s.key = m.key
""")

_BLOCK = text("""
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
cells AS (SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:tolerances AS float8[])) AS c(key, tolerance))
UPDATE pace_slots s SET tat = GREATEST(s.tat, clock.now + :seconds + cells.tolerance)
FROM cells, clock WHERE s.key = cells.key
""")


class SqlPaceSlots:
    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("shared pacing needs PostgreSQL; on SQLite one worker paces itself")
        self.engine = create_engine(
            engine.url, pool_pre_ping=True, connect_args={"options": "-c synchronous_commit=off"}
        )
        self._reservations = 0
        self._known: set[str] = set()
        self._offset, self._offset_rtt, self._offset_at = 0.0, float("inf"), -float("inf")

    def reserve(
        self, sends: Sequence[Sequence[tuple[str, float, float]]], max_wait: float
    ) -> list[tuple[bool, float]]:
        """Slots for several sends, in order, in one short transaction: their cells are locked
        (in key order, so two reservations never deadlock), each send takes the earliest moment all
        its cells allow and moves them on, and the new times are written back in one statement.
        Waits are seconds from now on this process's clock (see :meth:`_local`)."""
        keys = sorted({key for cells in sends for key, _i, _t in cells})
        self._reservations += 1
        asked = time.monotonic()
        with self.engine.begin() as conn:
            if self._reservations % PRUNE_EVERY == 0:
                self._prune(conn)
            if not self._known.issuperset(keys):
                self._create(conn, keys)
            rows = conn.execute(_LOCK, {"keys": keys}).all()
            if len(rows) != len(keys):  # a cell was pruned meanwhile: create it and lock again
                self._create(conn, keys)
                rows = conn.execute(_LOCK, {"keys": keys}).all()
            answered = time.monotonic()
            tat = {key: value for key, value, _now in rows}
            now = rows[0][2] if rows else 0.0
            moved: dict[str, float] = {}
            taken: list[tuple[bool, float]] = []
            for cells in sends:
                send_at = max([now, *(tat[key] - tolerance for key, _i, tolerance in cells)])
                ok = send_at - now <= max_wait and bool(cells)
                if ok:
                    for key, step, _t in cells:
                        tat[key] = moved[key] = max(tat[key], send_at) + step
                taken.append((ok, send_at))
            if moved:
                conn.execute(_MOVE, {"keys": list(moved), "tats": list(moved.values())})
        self._learn_offset(now, asked, answered)
        return [(ok, max(self._local(at) - time.monotonic(), 0.0)) for ok, at in taken]

    def _learn_offset(self, db_now: float, asked: float, answered: float) -> None:
        """The database's clock against this process's: the sample with the shortest round trip
        of the last minute (its error is at most half that round trip). Every worker then sends
        at the moment the database gave it, not a reply's latency later; workers whose replies
        come back at different speeds would otherwise bunch their sends together."""
        rtt = answered - asked
        stale = answered - self._offset_at > OFFSET_SECONDS
        if stale or rtt <= self._offset_rtt:
            self._offset = db_now - (asked + answered) / 2
            self._offset_rtt, self._offset_at = rtt, answered

    def _local(self, db_time: float) -> float:
        return db_time - self._offset

    def block(self, cells: Sequence[tuple[str, float, float]], seconds: float) -> None:
        keys = [key for key, _i, _t in cells]
        with self._autocommit() as conn:
            self._create(conn, keys)
            conn.execute(_BLOCK, {"keys": keys, "tolerances": [t for _k, _i, t in cells], "seconds": seconds})

    def _autocommit(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _create(self, conn: Connection, keys: list[str]) -> None:
        conn.execute(insert(tables.pace_slots).values([{"key": k, "tat": 0.0} for k in keys])
                     .on_conflict_do_nothing(index_elements=["key"]))  # fmt: skip
        if len(self._known) > KNOWN_MAX:
            self._known.clear()
        self._known.update(keys)

    def _prune(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM pace_slots WHERE tat < extract(epoch FROM clock_timestamp()) - :idle"),
                     {"idle": IDLE_SECONDS})  # fmt: skip
        self._known.clear()
