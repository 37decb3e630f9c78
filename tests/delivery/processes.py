"""Helpers for tests that run senders in their own processes against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from conversations.core.model import OutboxItem
from conversations.core.views import Message
from conversations.delivery.outbox import queue
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.ledger import PLATFORM

ROOT = Path(__file__).resolve().parents[2]


def outbox_of(database_url: str, n: int) -> SqlUnitOfWorkFactory:
    """Migrate the database and queue ``n`` posts, one to each of ``n`` people (keys k0..)."""
    engine = make_engine(database_url)
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    now = datetime.now(UTC)
    with uow() as work:
        for i in range(n):
            recipient = {"kind": "user", "platform": PLATFORM, "workspace": "T1", "user_id": f"U{i:04d}"}
            queue(work, f"k{i}", recipient, Message.simple(f"hello {i}"), now)
        work.commit()
    return uow


def statuses(uow: SqlUnitOfWorkFactory) -> dict[str, int]:
    with uow() as work:
        return {
            s: work.outbox.count(s)
            for s in ("pending", "sending", "checking", "sent", "unknown", "held", "failed")
        }


def rows(uow: SqlUnitOfWorkFactory, status: str) -> list[OutboxItem]:
    with uow() as work:
        return work.outbox.by_status(status)


def sender(database_url: str, ledger: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.delivery.sender_process", database_url, str(ledger), *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def finish(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    _out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err.decode()
