"""Several workers on one database: heartbeats keep live claims, a dead worker's claims are sent
by another within its short lease, shared pacing keeps all of them together to the limits, and
NOTIFY wakes a worker as soon as another process queues work."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from conversations.core.clock import SystemClock
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message
from conversations.delivery.outbox import queue
from conversations.delivery.sender import Sender
from conversations.ports.messenger import Capabilities, Limit, Pace
from storage.database import make_engine
from storage.migrate import upgrade
from storage.notify import listen
from storage.pacing import SqlPaceSlots
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.ledger import read, tags
from tests.delivery.processes import finish, outbox_of, sender, statuses, wait_for


def test_a_heartbeat_keeps_live_claims_and_a_dead_workers_are_sent_after_a_short_lease(db_url, tmp_path):
    uow = outbox_of(db_url, 10)
    ledger = tmp_path / "ledger"
    hung = sender(db_url, ledger, "--name", "hung", "--block-after", "1", "--concurrency", "3",
                  "--heartbeat", "0.2", "--lease", "1")  # fmt: skip
    try:
        wait_for(lambda: len(read(ledger)) >= 1, what="the first post")
        wait_for(lambda: statuses(uow)["sending"] == 3, what="three claims")
        time.sleep(1.5)  # longer than the lease: only the heartbeat keeps those claims alive
        finish(sender(db_url, ledger, "--name", "other", "--lease", "1"))
        assert statuses(uow)["sending"] == 3 and statuses(uow)["sent"] == 7
    finally:
        hung.send_signal(signal.SIGKILL)
        hung.wait(timeout=10)
    time.sleep(1.2)  # the dead worker's heartbeat has stopped: its lease runs out
    finish(sender(db_url, ledger, "--name", "after", "--lease", "1"))
    assert statuses(uow)["sent"] == 10
    assert set(tags(ledger).values()) == {1} and len(tags(ledger)) == 10


class Clocked:
    """Records when each post was made (monotonic seconds) and to which conversation."""

    capabilities = Capabilities(group_dm=False)

    def __init__(self, log: list[tuple[float, str]]) -> None:
        self.log = log

    async def open_dm(self, user: UserRef) -> ConversationRef:
        return ConversationRef("paced", user.workspace, f"D-{user.user_id}")

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        raise AssertionError("not used")

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        self.log.append((time.monotonic(), conversation.conversation_id))
        return MessageRef(conversation, str(len(self.log)))

    async def update(self, ref: MessageRef, message: Message) -> None:
        raise AssertionError("not used")

    async def publish_home(self, user: UserRef, home: Home) -> None:
        raise AssertionError("not used")

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        return None


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture
def postgres_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("shared pacing and NOTIFY are PostgreSQL's; SQLite runs one worker")
    return db_url


def _two_senders(postgres_url: str, pace: dict[str, Pace], log: list[tuple[float, str]]) -> list[Sender]:
    """Two senders sharing the database's pacing slots, each with its own engine (as two processes)."""
    return [
        Sender(SqlUnitOfWorkFactory(make_engine(postgres_url)), {"paced": Clocked(log)}, SystemClock(), pacing=pace,
               concurrency=8, max_hold=1.0, shared_pacing=SqlPaceSlots(make_engine(postgres_url)), name=f"w{n}")
        for n in range(2)
    ]  # fmt: skip


async def test_two_workers_share_the_workspace_and_channel_limits(postgres_url):
    """20/s workspace-wide and 1 per 0.5 s per conversation, shared by two senders (each with its
    own engine, as two processes would have): together they keep to both."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with SqlUnitOfWorkFactory(engine)() as work:
        for i in range(50):  # 40 people get one post each, U0000 gets ten
            user = f"U{i:04d}" if i < 40 else "U0000"
            recipient = {"kind": "user", "platform": "paced", "workspace": "T1", "user_id": user}
            queue(work, f"p{i}", recipient, Message.simple(f"hello {i}"), now)
        work.commit()
    pace = {"paced": Pace((Limit(1, 0.5),), (Limit(1, 0.05),))}
    log: list[tuple[float, str]] = []
    senders = _two_senders(postgres_url, pace, log)

    async def until_done(s: Sender) -> None:
        while s.next_due() is not None or statuses_of(engine)["sending"]:
            await s.drain(batch=8)
            await asyncio.sleep(0.05)

    started = time.monotonic()
    await asyncio.gather(*(until_done(s) for s in senders))
    assert len(log) == 50
    times = [t for t, _ in log]
    # the workspace rate, whoever sent: 10 in half a second, and a little for a task that woke late
    # on a busy machine (without sharing, the two send 20)
    assert most_in_any_window(times, 0.5) <= 13
    same = [t for t, conv in log if conv == "D-U0000"]
    assert len(same) == 11
    assert (
        min(b - a for a, b in zip(sorted(same), sorted(same)[1:], strict=False)) >= 0.45
    )  # 1 per 0.5 s, shared
    assert time.monotonic() - started >= 49 * 0.05 * 0.9


def statuses_of(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with SqlUnitOfWorkFactory(engine)() as work:
        return {s: work.outbox.count(s) for s in ("pending", "sending")}


async def test_a_worker_is_woken_at_once_when_another_process_queues_work(postgres_url):
    engine = make_engine(postgres_url)
    upgrade(engine)
    woken = asyncio.Event()
    listening = asyncio.create_task(listen(postgres_url, woken.set))
    try:
        await asyncio.wait_for(woken.wait(), 10)  # once on connecting (catch-up)
        woken.clear()
        other = SqlUnitOfWorkFactory(make_engine(postgres_url))  # a web process's unit of work
        with other() as work:
            recipient = {"kind": "user", "platform": "paced", "workspace": "T1", "user_id": "U1"}
            queue(work, "wake-1", recipient, Message.simple("hello"), datetime.now(UTC))
            work.commit()
        started = time.monotonic()
        await asyncio.wait_for(woken.wait(), 2)
        assert time.monotonic() - started < 1.0
    finally:
        listening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listening


def test_a_worker_that_wakes_late_gives_its_slots_up_rather_than_bursting(postgres_url):
    """Two workers, each with its own event loop (as two processes), share 50 sends a second; one
    loop stalls for 0.3 s now and then (a busy host), with slots of its own reserved meanwhile.
    Sent when it wakes, those sends would go together with the other worker's next ones, in a
    burst the platform refuses; a slot is used within moments of its time or given up for another."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with SqlUnitOfWorkFactory(engine)() as work:
        for i in range(150):
            recipient = {"kind": "user", "platform": "paced", "workspace": "T1", "user_id": f"U{i:04d}"}
            queue(work, f"s{i}", recipient, Message.simple(f"hello {i}"), now)
        work.commit()
    pace = {"paced": Pace((Limit(1, 1.0),), (Limit(1, 0.02),))}
    log: list[tuple[float, str]] = []
    senders = _two_senders(postgres_url, pace, log)

    async def work(s: Sender, stalls: bool) -> None:
        async def stall() -> None:
            while True:
                await asyncio.sleep(0.4)
                time.sleep(0.3)  # the whole event loop stops, as on a starved host

        stalling = asyncio.create_task(stall()) if stalls else None
        while s.next_due() is not None or statuses_of(engine)["sending"]:
            await s.drain(batch=8)
            await asyncio.sleep(0.02)
        if stalling is not None:
            stalling.cancel()

    threads = [threading.Thread(target=asyncio.run, args=(work(s, n == 0),)) for n, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(conv for _, conv in log) == sorted(f"D-U{i:04d}" for i in range(150))  # each once
    # 5 slots in any 0.1 s, and one more for a send up to LATE_SLOT after its slot; a stalled
    # worker's overdue sends would add several at once
    assert most_in_any_window([t for t, _ in log], 0.1) <= 7
    assert senders[0].pacer.late_slots > 0
