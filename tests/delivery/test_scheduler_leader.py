"""One scheduler at a time: a PostgreSQL standby takes over when the leader dies; on SQLite a
second scheduler refuses to start and says why."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from aiohttp import web
from sqlalchemy import text

from bot.leader import Elector, LeadershipRefused, PostgresLeadership, SqliteLeadership, leadership_for
from bot.settings import Settings
from bot.worker import start_worker
from storage.database import make_engine
from tests.delivery.processes import ROOT


def test_sqlite_allows_one_scheduler_and_the_second_says_why(tmp_path):
    url = f"sqlite:///{tmp_path / 'buddy.db'}"
    first, second = leadership_for(url), leadership_for(url)
    assert isinstance(first, SqliteLeadership)
    assert first.try_acquire() and not second.try_acquire()
    refusal = str(second.refusal())
    assert f"process {os.getpid()}" in refusal and str(tmp_path / "buddy.db.scheduler.lock") in refusal
    assert "PostgreSQL" in refusal and "--role web" in refusal
    first.release()
    assert second.try_acquire()
    second.release()


def test_start_worker_refuses_on_sqlite_when_another_scheduler_runs(tmp_path):
    url = f"sqlite:///{tmp_path / 'buddy.db'}"
    holder = leadership_for(url)
    assert holder.try_acquire()
    with pytest.raises(LeadershipRefused, match="already runs on this SQLite database"):
        start_worker(web.Application(), None, Settings(database_url=url))  # type: ignore[arg-type]
    holder.release()


def test_postgres_standby_takes_over_when_the_leader_process_is_killed(postgres_server):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leader = subprocess.Popen([sys.executable, "-m", "tests.delivery.leader_process", postgres_server],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    standby = PostgresLeadership(postgres_server)
    try:
        assert leader.stdout is not None and leader.stdout.readline().strip() == "leader"
        assert not standby.try_acquire()
        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)

        async def poll() -> bool:
            elected = asyncio.Event()

            async def on_elected() -> None:
                elected.set()

            async def on_deposed() -> None:
                pass

            elector = Elector(standby, on_elected, on_deposed, poll=0.2)
            task = asyncio.create_task(elector.run())
            try:
                await asyncio.wait_for(elected.wait(), timeout=30)
                return elector.leading
            finally:
                elector.leadership = _Keep(standby)  # keep the lock through the task's cancellation
                task.cancel()

        assert asyncio.run(poll())
        assert standby.held()
    finally:
        leader.kill()
        standby.release()


def test_a_leader_whose_session_is_killed_steps_down_and_the_standby_takes_over(postgres_server):
    a, b = PostgresLeadership(postgres_server), PostgresLeadership(postgres_server)
    events: list[str] = []

    async def scenario() -> None:
        async def note(what: str) -> None:
            events.append(what)

        first = Elector(a, lambda: note("a elected"), lambda: note("a deposed"), poll=0.1)
        second = Elector(b, lambda: note("b elected"), lambda: note("b deposed"), poll=0.1)
        await first.step()
        await second.step()
        assert events == ["a elected"]
        admin = make_engine(postgres_server)
        with admin.begin() as conn:  # the leader's database session dies (a network cut, a restart)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": a.backend_pid()})
        admin.dispose()
        await first.step()  # the leader notices and stops its scheduler
        await second.step()  # the standby wins the lock at its next poll
        await first.step()  # and the old leader is now the standby
        assert events == ["a elected", "a deposed", "b elected"]
        await first.stop()
        await second.stop()

    asyncio.run(scenario())
    assert events[-1] == "b deposed"


class _Keep:
    """A leadership wrapper whose release does nothing (the test releases it itself)."""

    def __init__(self, inner: PostgresLeadership) -> None:
        self.inner = inner

    def try_acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def describe(self) -> str:
        return self.inner.describe()
