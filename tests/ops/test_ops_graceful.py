"""Graceful restarts: ``buddybot serve`` stopped with SIGTERM, as systemd stops it.

The worker, stopped in the middle of a fan-out, finishes the sends in flight, gives back its
claims and the scheduler lock, and exits well inside 30 s; the restarted worker sends the rest.
Nothing is lost and nothing is sent twice. The web role finishes a request in flight first."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.processes import ROOT, statuses
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack, default_users
from tests.slack.harness import sign

N = 150
SECRET = "graceful-signing-secret"
STOP_WITHIN = 30.0  # systemd's TimeoutStopSec in docs/operations.md


def people(n: int) -> dict:  # type: ignore[type-arg]
    users = default_users()
    for i in range(n):
        uid = f"U0P{i:05d}"
        users[uid] = {"id": uid, "team_id": TEAM, "name": f"p{i}", "real_name": f"P {i}", "deleted": False,
                      "profile": {"display_name": f"P {i}", "real_name": f"P {i}", "email": ""}}  # fmt: skip
    return users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(role: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    command = [str(ROOT / ".venv" / "bin" / "buddybot"), "serve", "--role", role]
    return await asyncio.create_subprocess_exec(*command, cwd=cwd, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip


async def until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def stop(process: asyncio.subprocess.Process) -> tuple[float, str]:
    """SIGTERM; the seconds it took to exit, and its log."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(process.communicate(), timeout=STOP_WITHIN + 5)
    return time.monotonic() - started, err.decode()


def posted_keys(fake: FakeSlack) -> Counter[str]:
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for c in fake.conversations.values()
        for m in c.messages
        if m.get("metadata")
    )


@pytest.fixture
async def fake():  # type: ignore[no-untyped-def]
    server = await FakeSlack(users=people(N)).start()
    yield server
    await server.close()


async def test_a_worker_restarted_mid_fan_out_loses_nothing_and_sends_nothing_twice(db_url, fake, tmp_path):
    engine = make_engine(db_url)
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    now = datetime.now(UTC)
    with uow() as work:
        for i in range(N):
            queue(
                work,
                f"fan:{i}",
                to_user(UserRef("slack", TEAM, f"U0P{i:05d}")),
                Message.simple(f"task {i}"),
                now,
            )
        work.commit()
    fake.delays["chat.postMessage"] = 0.05  # each post takes a while: some are always in flight
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "PORT": str(free_port()), "BUDDY_SLACK_WORKSPACE_RATE": "60"}  # fmt: skip

    first = await serve("worker", env, tmp_path)
    await until(lambda: len(fake.calls_to("chat.postMessage")) >= N // 4, 60, "the fan-out to be under way")
    took, log = await stop(first)
    assert first.returncode == 0, log
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    left = statuses(uow)
    assert left["sending"] == 0 and left["checking"] == 0, (left, log)  # every claim settled or given back
    assert 0 < left["sent"] < N and left["sent"] + left["pending"] == N, (left, log[-3000:])
    assert left["sent"] == sum(posted_keys(fake).values())  # what landed is what is marked sent
    assert "worker stopped" in log and "still in flight" not in log

    second = await serve("worker", {**env, "PORT": str(free_port())}, tmp_path)  # takes the lock at once
    await until(lambda: statuses(uow)["sent"] == N, 60, "the rest to be sent")
    took_again, log2 = await stop(second)
    assert second.returncode == 0 and took_again < STOP_WITHIN, log2
    counts = posted_keys(fake)
    assert sorted(counts) == sorted(f"fan:{i}" for i in range(N))  # nothing lost
    assert set(counts.values()) == {1}, {k: c for k, c in counts.items() if c > 1}  # nothing twice
    print(f"stopped mid fan-out in {took:.2f} s with {left['sent']} of {N} sent; restart sent the rest")
    engine.dispose()


async def test_the_web_role_finishes_a_request_in_flight_then_exits(fake, tmp_path):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    port = free_port()
    env = {"DATABASE_URL": url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "PORT": str(port)}  # fmt: skip
    web = await serve("web", env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:

        async def healthy() -> bool:
            try:
                async with session.get(base + "/healthz") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        deadline = time.monotonic() + 30
        while not await healthy():
            assert time.monotonic() < deadline and web.returncode is None, "the web role did not start"
            await asyncio.sleep(0.1)
        fake.delays["users.info"] = 1.5  # the command's answer waits on Slack: the request is in flight
        body = urlencode({"command": "/buddy", "text": "help", "team_id": TEAM, "user_id": "U0AAA001",
                          "user_name": "asha", "channel_id": "D1", "response_url": fake.response_url(),
                          "trigger_id": fake.trigger()})  # fmt: skip
        ts = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(SECRET, ts, body),
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        request = asyncio.create_task(session.post(base + "/slack/events", data=body, headers=headers))
        await until(lambda: bool(fake.calls_to("users.info")), 10, "the request to reach the app")
        stopping = asyncio.create_task(stop(web))
        answer = await request
        assert answer.status == 200 and "What I can do" in await answer.text()
        took, log = await stopping
    assert web.returncode == 0, log
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    print(f"web role stopped in {took:.2f} s after finishing the request in flight", file=sys.stderr)
