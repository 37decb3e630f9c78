"""Schema migrations (Alembic), run by ``buddybot db upgrade``, ``demo`` and ``serve``."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x4255_4D47  # "BUMG": the advisory lock id held while migrating (not the scheduler's)


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _serialised(connection: Connection) -> None:
    """On PostgreSQL, wait for any other process migrating the same database: a transaction-level
    advisory lock, so that five processes starting together on an empty database run the upgrade
    one after another (the later ones find it done) instead of racing on ``alembic_version``.
    SQLite serialises writers itself (the upgrade's first write takes the file's lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


@contextlib.contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """SQLite's DDL is not transactional under pysqlite, so processes sharing one file take an
    exclusive lock on a file beside it while they migrate; PostgreSQL uses :func:`_serialised`."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(Path(database).resolve().with_name(Path(database).name + ".migrate.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _one_at_a_time(engine), engine.begin() as connection:
        _serialised(connection)
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        _serialised(connection)
        command.downgrade(_config(connection), revision)


def head() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a new migration from ``storage.tables``."""
    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def pending(engine: Engine) -> list[tuple[str, str]]:
    """The migrations ``upgrade`` would apply, oldest first: (revision, what it does)."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    at = current(engine)
    steps = list(scripts.iterate_revisions("heads", at))  # newest first, excluding ``at``
    return [
        (str(s.revision), (s.doc or "").strip().splitlines()[0] if s.doc else "") for s in reversed(steps)
    ]
