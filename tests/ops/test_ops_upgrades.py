"""Safe upgrades: a database built at each earlier migration, with rows in every table, upgrades to
head with nothing lost; ``db upgrade --dry-run`` lists what would run and changes nothing."""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    inspect,
    select,
)

from storage.database import make_engine
from storage.migrate import MIGRATIONS, current, head, pending, upgrade
from tests.delivery.processes import ROOT

ROWS = 3


def earlier_revisions() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    ordered = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    return ordered[:-1]


def test_there_are_earlier_revisions_to_upgrade_from():
    assert earlier_revisions()[0] == "0001" and head() not in earlier_revisions()


def _value(table: Table, column: Any, i: int, ids: dict[str, list[Any]]) -> Any:
    """A value for ``column`` in row ``i``: distinct per row (unique constraints), the referenced
    row's key for a foreign key."""
    for fk in column.foreign_keys:
        parents = ids.get(fk.column.table.name)
        if parents:
            return parents[i % len(parents)]
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return 1000 + i
    if isinstance(kind, Float | Numeric):
        return 1.5 + i
    if isinstance(kind, DateTime):
        return datetime(2026, 3, 1, 9, 30) + timedelta(days=i)
    if isinstance(kind, Date):
        return date(2026, 3, 1) + timedelta(days=i)
    if isinstance(kind, LargeBinary):
        return bytes([i, 1, 2, 3])
    if isinstance(kind, JSON):
        return {"row": i, "note": f"{table.name}"}
    if isinstance(kind, String):
        text = f"{column.name[:6]}-{table.name[:8]}-{i}"
        return text[: kind.length] if kind.length else text
    try:
        python = kind.python_type
    except NotImplementedError:
        python = str
    if python is dict:
        return {"row": i}
    return f"{column.name}-{i}"


def _fill(engine) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Rows in every table of the schema as it is now; returns what was read back."""
    meta = MetaData()
    meta.reflect(engine)
    ids: dict[str, list[Any]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            pk = [c for c in table.columns if c.primary_key]
            rows = []
            for i in range(ROWS):
                row = {}
                for column in table.columns:
                    if column.primary_key and isinstance(column.type, Integer) and not column.foreign_keys:
                        row[column.name] = i + 1
                    else:
                        row[column.name] = _value(table, column, i, ids)
                rows.append(row)
            conn.execute(table.insert(), rows)
            if len(pk) == 1:
                ids[table.name] = [r[pk[0].name] for r in rows]
    return _read(engine)


def _read(engine) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(select(t))]
            for t in meta.sorted_tables
            if t.name != "alembic_version"
        }


def _comparable(rows: list[dict[str, Any]], columns: set[str]) -> list[str]:
    return sorted(repr(sorted((k, v) for k, v in r.items() if k in columns)) for r in rows)


@pytest.mark.parametrize("revision", earlier_revisions())
def test_a_database_at_an_earlier_migration_upgrades_with_nothing_lost(db_url, revision):
    engine = make_engine(db_url)
    try:
        upgrade(engine, revision)
        assert current(engine) == revision
        before = _fill(engine)
        assert all(len(rows) == ROWS for rows in before.values()) and len(before) >= 10
        steps = pending(engine)
        assert steps and steps[-1][0] == head()
        upgrade(engine)
        assert current(engine) == head() and pending(engine) == []
        after = _read(engine)
        names = inspect(engine).get_table_names()
        for table, rows in before.items():
            assert table in names, f"{table} was dropped by the upgrade from {revision}"
            kept = set(rows[0]) & set(after[table][0]) if after[table] else set()
            assert kept == set(rows[0]), f"{table}: columns lost {set(rows[0]) - kept}"
            assert _comparable(after[table], kept) == _comparable(rows, kept), f"{table} changed"
    finally:
        engine.dispose()


def test_dry_run_lists_pending_migrations_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")
    env = {**os.environ, "DATABASE_URL": url}
    buddybot = str(ROOT / ".venv" / "bin" / "buddybot")
    done = subprocess.run([buddybot, "db", "upgrade", "--dry-run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"database at revision 0002; this Buddy knows up to {head()}"
    assert lines[1].startswith("  would apply 0003: Tables the platform adapters keep")
    assert lines[-1].endswith("pending; nothing changed")
    assert current(engine) == "0002"
    upgrade(engine)
    done = subprocess.run([buddybot, "db", "upgrade", "--dry-run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.splitlines()[-1] == "nothing to do: migrations are current"
    engine.dispose()
