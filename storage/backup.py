"""``buddybot db backup FILE``: a consistent copy of a SQLite database, taken while Buddy serves.

SQLite's online backup API copies the database page by page and restarts if a writer changes it
meanwhile, so the copy is a snapshot of one moment even under load (WAL mode lets readers and the
one writer carry on). The copy is then checked: ``PRAGMA integrity_check`` passes and every table
has as many rows as the source had at the end of the copy.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``): see docs/operations.md.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.database import normalise_url

PAGES_PER_STEP = 1024  # ~4 MB per step: writers get the lock between steps


class BackupError(RuntimeError):
    """The backup could not be made or did not verify; the message says why and what to do."""


@dataclass
class BackupReport:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    revision: str | None = None

    def summary(self) -> str:
        rows = sum(self.tables.values())
        return (f"backed up to {self.path}: {len(self.tables)} tables, {rows} rows, schema revision "
                f"{self.revision or 'none'}; integrity check passed")  # fmt: skip


def sqlite_path(database_url: str) -> Path:
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"`db backup` copies SQLite databases; this one is {url.get_backend_name()}. "
            "Use pg_dump (see docs/operations.md, Backups)."
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up: set DATABASE_URL to a file")
    path = Path(url.database)
    if not path.is_file():
        raise BackupError(f"there is no database file at {path}: check DATABASE_URL")
    return path


def backup(database_url: str, target: Path, *, overwrite: bool = False) -> BackupReport:
    source_path = sqlite_path(database_url)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists: choose a new file name (backups are never overwritten)")
    if target.resolve() == source_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30, isolation_level=None)
    try:
        copy = sqlite3.connect(partial)
        try:
            # one read transaction: the counts and the pages copied are the same snapshot, however
            # many commits the running Buddy makes meanwhile (WAL: the writer is not blocked)
            source.execute("BEGIN")
            expected = _counts(source)
            with copy:
                source.backup(copy, pages=PAGES_PER_STEP)
            source.execute("ROLLBACK")
            found = _counts(copy)
            check = copy.execute("PRAGMA integrity_check").fetchone()
            revision = _revision(copy)
        finally:
            copy.close()
    finally:
        source.close()
    if check is None or check[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check ({check}); nothing was kept: try again")
    if found != expected:
        partial.unlink(missing_ok=True)
        raise BackupError("the copy's row counts differ from the database's; nothing was kept: try again")
    partial.replace(target)
    return BackupReport(target, found, revision)


def _counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]  # fmt: skip
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])
