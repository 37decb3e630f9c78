"""Leadership: exactly one scheduler runs at a time, however many worker processes there are.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a dedicated
connection that stays open while this process leads. When the leader dies, the server ends its
session and frees the lock; a standby polling every ``poll`` seconds takes over. TCP keepalives on
that connection (server side and client side) make a leader whose host vanished count as dead
within about half a minute instead of the kernel's two hours, and make the leader notice a lost
server, in which case it steps down.

SQLite has no server to hold a lock for us, and one file cannot safely be scheduled from two
machines anyway: an exclusive ``flock`` on a file beside the database makes a second scheduler
refuse to start, naming the process that holds it.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.database import normalise_url

log = logging.getLogger(__name__)

LOCK_KEY = 0x4255_4459  # "BUDY": the advisory lock id of Buddy's scheduler
KEEPALIVE_SECONDS = (10, 5, 3)  # idle, interval, count: a dead peer is noticed in about 25 s


class LeadershipRefused(RuntimeError):
    """Another scheduler holds the lock and this database cannot have a standby (SQLite)."""


class Leadership(Protocol):
    def try_acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...
    def describe(self) -> str: ...


class PostgresLeadership:
    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        idle, interval, count = KEEPALIVE_SECONDS
        server = f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={interval} -c tcp_keepalives_count={count}"
        self.key = key
        self.engine = create_engine(
            normalise_url(url),
            poolclass=NullPool,  # the connection is ours alone; nothing may recycle it
            connect_args={"keepalives": 1, "keepalives_idle": idle, "keepalives_interval": interval,
                          "keepalives_count": count, "options": server, "connect_timeout": 10},
        )  # fmt: skip
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self.connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception:
            self._drop()
            raise
        return bool(got)

    def held(self) -> bool:
        """Still leading: the session (and so its lock) is alive."""
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
            return True
        except Exception as error:  # noqa: BLE001 - any failure means the session, and the lock, are gone
            log.warning("lost the scheduler lock's connection: %s", error)
            self._drop()
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:  # noqa: BLE001 - closing the session frees the lock anyway
                pass
        self._drop()
        self.engine.dispose()

    def backend_pid(self) -> int | None:
        if self.connection is None:
            return None
        return int(self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key}"

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - it is already broken
                pass
            self.connection = None


class SqliteLeadership:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".scheduler.lock")
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open while we lead
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def describe(self) -> str:
        return f"lock file {self.path}"

    def refusal(self) -> LeadershipRefused:
        return LeadershipRefused(
            f"another Buddy scheduler (process {self.holder()}) already runs on this SQLite database: it holds "
            f"{self.path}. SQLite allows one scheduler; stop the other worker, run this one with "
            "`--role web`, or move to PostgreSQL (DATABASE_URL) for a standby that takes over."
        )


class NoLeadership:
    """An in-memory SQLite database lives in one process: nothing to contend with."""

    def try_acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def describe(self) -> str:
        return "a private in-memory database"


def leadership_for(database_url: str) -> Leadership:
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return NoLeadership()
        return SqliteLeadership(Path(url.database).resolve())
    raise ValueError(f"no way to elect a scheduler on {url.get_backend_name()}")


class Elector:
    """Keeps trying to lead: ``on_elected`` when the lock is won, ``on_deposed`` when it is lost."""

    def __init__(
        self,
        leadership: Leadership,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        poll: float = 15.0,
    ) -> None:
        self.leadership = leadership
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.poll = poll
        self.leading = False

    async def run(self) -> None:
        try:
            while True:
                await self.step()
                await asyncio.sleep(self.poll)
        finally:
            await self.stop()

    async def step(self) -> None:
        if not self.leading:
            try:
                won = await asyncio.to_thread(self.leadership.try_acquire)
            except Exception as error:  # noqa: BLE001 - the database may be down: try again next poll
                log.warning("cannot reach the database to elect a scheduler: %s", error)
                return
            if won:
                self.leading = True
                log.info("this process now runs the scheduler (%s)", self.leadership.describe())
                await self.on_elected()
        elif not await asyncio.to_thread(self.leadership.held):
            self.leading = False
            log.warning("this process lost the scheduler lock; stopping the scheduler")
            await self.on_deposed()

    async def stop(self) -> None:
        if self.leading:
            self.leading = False
            await self.on_deposed()
        await asyncio.to_thread(self.leadership.release)
