"""Sending slots shared by several workers on PostgreSQL (:class:`conversations.store.PaceSlots`).

One row per pacing cell (a conversation's or a workspace's limit) holds its theoretical arrival
time, GCRA-style, in seconds on the database's clock. A reservation locks the cells of one send
(in key order, so two reservations never deadlock), takes the earliest moment all of them allow,
and moves each on by its interval: one short transaction, whatever the number of workers. SQLite
runs one worker, which paces in its own memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from storage import tables

PRUNE_EVERY = 2000  # reservations between removals of cells idle for an hour
IDLE_SECONDS = 3600.0


class SqlPaceSlots:
    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("shared pacing needs PostgreSQL; on SQLite one worker paces itself")
        self.engine = engine
        self._reservations = 0

    def reserve(self, cells: Sequence[tuple[str, float, float]], max_wait: float) -> tuple[bool, float]:
        cells = sorted(set(cells))
        self._reservations += 1
        with self.engine.begin() as conn:
            now, tats = self._lock(conn, [key for key, _i, _t in cells])
            send_at = max([now, *(tats[key] - tolerance for key, _i, tolerance in cells)])
            wait = send_at - now
            if wait > max_wait:
                return False, wait
            moved = [{"k": key, "t": max(tats[key], send_at) + interval} for key, interval, _t in cells]
            conn.execute(_move(), moved)
            if self._reservations % PRUNE_EVERY == 0:
                conn.execute(tables.pace_slots.delete().where(tables.pace_slots.c.tat < now - IDLE_SECONDS))
        return True, wait

    def block(self, cells: Sequence[tuple[str, float, float]], seconds: float) -> None:
        cells = sorted(set(cells))
        with self.engine.begin() as conn:
            now, tats = self._lock(conn, [key for key, _i, _t in cells])
            moved = [
                {"k": key, "t": max(tats[key], now + seconds + tolerance)} for key, _i, tolerance in cells
            ]
            conn.execute(_move(), moved)

    def _lock(self, conn, keys: list[str]) -> tuple[float, dict[str, float]]:  # type: ignore[no-untyped-def]
        s = tables.pace_slots.c
        clock = func.extract("epoch", func.clock_timestamp())
        query = select(s.key, s.tat, clock).where(s.key.in_(keys)).order_by(s.key).with_for_update()
        rows = conn.execute(query).all()
        if len(rows) < len(keys):  # first use of a cell: create it, then lock it like the others
            conn.execute(insert(tables.pace_slots).values([{"key": k, "tat": 0.0} for k in keys])
                         .on_conflict_do_nothing(index_elements=["key"]))  # fmt: skip
            rows = conn.execute(query).all()
        now = float(rows[0][2])
        return now, {key: float(tat) for key, tat, _now in rows}


def _move():  # type: ignore[no-untyped-def]
    s = tables.pace_slots.c
    return update(tables.pace_slots).where(s.key == bindparam("k")).values(tat=bindparam("t"))
