"""Sending slots shared by several workers on PostgreSQL (:class:`conversations.ports.store.PaceSlots`).

One row per pacing cell (a conversation's or a workspace's limit) holds its theoretical arrival
time, GCRA-style, in seconds on the database's clock. A reservation is one statement in its own
transaction: it locks the cells of one send (in key order, so two reservations never deadlock),
takes the earliest moment all of them allow and moves each on by its interval. The workspace's
cell is locked only while that statement runs (well under a millisecond), so it is no bottleneck
at hundreds of sends a second. Its connections commit without waiting for the disk
(``synchronous_commit=off``): otherwise each reservation holds the workspace's cell through an
fsync, and a slow disk caps every worker together at a hundred or so sends a second. Losing the
last few reservations in a database crash is harmless: they are only a schedule. SQLite runs one
worker, which paces in its own memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.dialects.postgresql import insert

from storage import tables

PRUNE_EVERY = 2000  # reservations between removals of cells idle for an hour
IDLE_SECONDS = 3600.0
KNOWN_MAX = 100_000  # cells this process knows exist (so it need not create them)

_RESERVE = text("""
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
cells AS (SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:intervals AS float8[]),
                               CAST(:tolerances AS float8[])) AS c(key, step, tolerance)),
locked AS (SELECT s.key, s.tat FROM pace_slots s WHERE s.key = ANY(CAST(:keys AS text[]))
           ORDER BY s.key FOR UPDATE),
slot AS (SELECT GREATEST(MAX(clock.now), MAX(locked.tat - cells.tolerance)) AS send_at,
                MAX(clock.now) AS now, COUNT(*) AS found
         FROM locked JOIN cells USING (key) CROSS JOIN clock),
moved AS (UPDATE pace_slots s SET tat = GREATEST(s.tat, slot.send_at) + cells.step
          FROM cells, slot
          WHERE s.key = cells.key AND slot.found = :count AND slot.send_at - slot.now <= :max_wait
          RETURNING s.key)
SELECT slot.send_at - slot.now, slot.found, (SELECT COUNT(*) FROM moved) FROM slot
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

    def reserve(self, cells: Sequence[tuple[str, float, float]], max_wait: float) -> tuple[bool, float]:
        cells = sorted(set(cells))
        keys = [key for key, _i, _t in cells]
        params = {"keys": keys, "intervals": [i for _k, i, _t in cells], "tolerances": [t for _k, _i, t in cells],
                  "count": len(keys), "max_wait": max_wait}  # fmt: skip
        self._reservations += 1
        with self._autocommit() as conn:
            if self._reservations % PRUNE_EVERY == 0:
                self._prune(conn)
            if not self._known.issuperset(keys):
                self._create(conn, keys)
            wait, found, moved = conn.execute(_RESERVE, params).one()
            if found != len(keys):  # a cell was pruned meanwhile: create it and try once more
                self._create(conn, keys)
                wait, found, moved = conn.execute(_RESERVE, params).one()
        wait = max(float(wait or 0.0), 0.0)
        return bool(moved), wait

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
