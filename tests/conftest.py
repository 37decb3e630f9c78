"""Shared fixtures: databases (SQLite and PostgreSQL), a clock, and the chat harness."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from adapters.memory.chat import Chat
from adapters.memory.messenger import MemoryMessenger
from conversations.core.clock import FakeClock
from conversations.delivery.sender import Sender
from conversations.engine import Engine as BuddyEngine
from conversations.flows.bank import sync_builtin
from conversations.ports.messenger import Capabilities
from storage.database import make_engine
from storage.tables import metadata
from storage.unit_of_work import SqlUnitOfWorkFactory

POSTGRES_URL = os.environ.get("BUDDY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("BUDDY_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # a Monday


def _postgres_reachable() -> str:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return ""
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable" here
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh, uniquely named database on the test server, dropped afterwards.

    Skipped with the reason when no server is reachable, unless BUDDY_REQUIRE_POSTGRES=1 (CI),
    where that is a failure.
    """
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(
                f"PostgreSQL is required (BUDDY_REQUIRE_POSTGRES=1) but not reachable at {POSTGRES_URL}: {problem}"
            )
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); set BUDDY_TEST_POSTGRES_URL")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"buddy_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset(engine: Engine) -> None:
    """Every table gone: the engine's, the adapters', APScheduler's and Alembic's."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of each kind: a SQLite file, and the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'buddy.db'}"
        return
    url = request.getfixturevalue("postgres_server")
    engine = make_engine(url)
    _reset(engine)
    engine.dispose()
    yield url
    engine = make_engine(url)
    _reset(engine)
    engine.dispose()


@pytest.fixture
def db(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A SQLite file with the schema, for engine tests (storage tests use both databases)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'buddy.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_chat(
    db: Engine, clock: FakeClock, capabilities: Capabilities | None = None, admins=("T1:UADMIN",)
) -> Chat:  # type: ignore[no-untyped-def]
    uow = SqlUnitOfWorkFactory(db)
    messenger = MemoryMessenger("memory", capabilities)
    engine = BuddyEngine(
        uow, clock=clock, seed=7, capabilities={"memory": messenger.capabilities}, admins=admins
    )
    engine.run(sync_builtin)
    sender = Sender(uow, {"memory": messenger}, clock, on_failure=engine.delivery_failed)
    return Chat(engine, messenger, sender, workspace="T1")


@pytest.fixture
def chat(db: Engine, clock: FakeClock) -> Chat:
    return make_chat(db, clock)


@pytest.fixture(autouse=True)
def _adapter_caches_restored() -> Iterator[None]:
    """The privacy port's registry of adapters' caches is process-wide (bot wires it at start-up):
    each test leaves it as it found it."""
    from conversations.flows import personal

    saved = dict(personal.CACHES)
    yield
    personal.CACHES.clear()
    personal.CACHES.update(saved)
