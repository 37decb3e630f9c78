"""Schema migrations (Alembic), run by ``buddybot db upgrade``, ``demo`` and ``serve``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
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
    return [(str(s.revision), (s.doc or "").strip().splitlines()[0] if s.doc else "") for s in reversed(steps)]
