"""SQLite's write-ahead log checkpointed by a thread of its own, off the request path.

By default SQLite checkpoints inside a commit, once the log holds 1,000 pages: that commit copies
the pages into the database and waits for the disk twice (with ``synchronous=NORMAL`` the log is
synced before a checkpoint and the database after it), and every engine call queued behind it
waits too. Measured with ``bench/inbound.py``'s pause and resume clicks, eight to a unit of work:
the 99th percentile of a unit of work went from 4.6 ms to 2.6 ms without it.

So a server turns automatic checkpoints off on its own connections
(``make_engine(url, checkpoint_in_background=True)``) and runs a :class:`WalCheckpointer`: every
``every`` seconds a PASSIVE checkpoint copies the log back, never blocking a reader or a writer.
Only a writer that starts after a complete checkpoint begins the log again; under steady writes
that moment seldom comes, so once the log holds ``limit`` pages a TRUNCATE checkpoint empties it:
it waits for the writer of the moment and copies only what came since the last PASSIVE one. When
the server stops, a last checkpoint runs. Other processes (the CLI) keep SQLite's own checkpoints.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

EVERY_SECONDS = 1.0
LIMIT_PAGES = 4_000  # 16 MB of 4 kB pages


class WalCheckpointer:
    def __init__(self, engine: Engine, every: float = EVERY_SECONDS, limit: int = LIMIT_PAGES) -> None:
        self.engine, self.every, self.limit = engine, every, limit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failing = False

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout)
            self.checkpoint()

    def checkpoint(self, mode: Literal["PASSIVE", "TRUNCATE"] = "PASSIVE") -> tuple[int, int, int]:
        """SQLite's answer: (1 if it could not finish, pages in the log, pages copied); a database
        error is logged once (by type: its message may name the file) and answered (1, -1, -1)."""
        try:
            with self.engine.connect() as connection:
                row = connection.execute(text(f"PRAGMA wal_checkpoint({mode})")).one()
        except SQLAlchemyError as error:
            if not self.failing:
                log.warning("the SQLite checkpoint failed (%s); it is tried again", type(error).__name__)
            self.failing = True
            return 1, -1, -1
        self.failing = False
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            _busy, pages, _copied = self.checkpoint()
            if pages > self.limit:
                self.checkpoint("TRUNCATE")
