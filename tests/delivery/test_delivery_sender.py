"""The sender: pacing per conversation and workspace, Retry-After, unknown outcomes, leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.memory.messenger import MemoryMessenger
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from conversations.delivery.sender import Sender
from conversations.ports.messenger import DeliveryError, Limit, Pace
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory

PACE = Pace(per_conversation=(Limit(1, 1.0),), per_workspace=(Limit(1, 0.1),))


class FakeTime:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


class Recording(MemoryMessenger):
    def __init__(self, time: FakeTime) -> None:
        super().__init__("memory")
        self.time = time
        self.at: list[tuple[float, str]] = []  # (time, conversation id)
        self.errors: dict[str, list[DeliveryError]] = {}  # tag -> errors to raise, in turn
        self.land_then_fail: set[str] = set()  # tags whose post lands and then reports unknown

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        if self.errors.get(tag):
            raise self.errors[tag].pop(0)
        ref = await super().post(conversation, message, tag=tag)
        self.at.append((self.time.t, conversation.conversation_id))
        if tag in self.land_then_fail:
            self.land_then_fail.discard(tag)
            raise DeliveryError("connection_reset", unknown=True)
        return ref


def outbox(db, clock, *users: str):  # type: ignore[no-untyped-def]
    uow = SqlUnitOfWorkFactory(db)
    with uow() as work:
        for n, user in enumerate(users):
            queue(work, f"k{n}", to_user(UserRef("memory", "T1", user)), Message.simple(f"m{n}"), clock.now())
        work.commit()
    return uow


def status(uow) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with uow() as work:
        return {row.key: row.status for s in ("pending", "sending", "sent", "unknown", "held", "failed")
                for row in work.outbox.by_status(s)}  # fmt: skip


def make(uow, clock, time, messenger, **kwargs) -> Sender:  # type: ignore[no-untyped-def]
    return Sender(uow, {"memory": messenger}, clock, pacing={"memory": PACE}, monotonic=time.monotonic,
                  sleep=time.sleep, **kwargs)  # fmt: skip


def test_posts_are_paced_per_conversation_and_per_workspace(db, clock):
    time = FakeTime()
    messenger = Recording(time)
    uow = outbox(db, clock, "U1", "U2", "U1", "U3", "U1", "U4")
    sender = make(uow, clock, time, messenger, concurrency=8)
    report = asyncio.run(sender.drain())
    assert report.deferred >= 1  # U1's later posts wait their turn back in the queue, not holding a claim
    for _ in range(3):
        clock.advance(seconds=1)
        time.t += 1
        report = asyncio.run(sender.drain())
    assert set(status(uow).values()) == {"sent"}
    times = [t for t, _ in messenger.at]
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    u1 = [t for t, c in messenger.at if c == "D-U1"]
    assert len(u1) == 3 and all(b - a >= 1.0 - 1e-9 for a, b in zip(u1, u1[1:], strict=False))


def test_retry_after_holds_the_row_and_the_conversation(db, clock):
    time = FakeTime()
    messenger = Recording(time)
    messenger.errors["k0"] = [DeliveryError("ratelimited", retryable=True, retry_after=7)]
    uow = outbox(db, clock, "U1")
    sender = make(uow, clock, time, messenger)
    assert asyncio.run(sender.drain()).retried == 1
    with uow() as work:
        [row] = work.outbox.by_status("pending")
        assert row.not_before == clock.now() + timedelta(seconds=7) and row.error == "ratelimited"
    with uow() as work:  # another message to the same person in the meantime is not sent
        queue(work, "k1", to_user(UserRef("memory", "T1", "U1")), Message.simple("later"), clock.now())
        work.commit()
    assert asyncio.run(sender.drain()).deferred == 1 and messenger.at == []
    clock.advance(seconds=8)
    time.t += 8
    asyncio.run(sender.drain())
    assert len(messenger.at) == 2 and set(status(uow).values()) == {"sent"}


def test_an_unknown_outcome_is_checked_not_resent(db, clock):
    time = FakeTime()
    messenger = Recording(time)
    messenger.land_then_fail.add("k0")  # landed, but the connection reset before the answer
    messenger.errors["k1"] = [DeliveryError("http_503", unknown=True)]  # did not land
    uow = outbox(db, clock, "U1", "U2")
    sender = make(uow, clock, time, messenger)
    assert asyncio.run(sender.drain()).unknown == 2
    assert asyncio.run(sender.drain()).sent == 0  # never resent blindly
    assert asyncio.run(sender.recover()) == 0  # checked only after a moment, once history shows it
    clock.advance(seconds=31)
    assert asyncio.run(sender.recover()) == 2
    assert status(uow) == {"k0": "sent", "k1": "pending"}
    asyncio.run(sender.drain())
    assert [c for _, c in messenger.at] == ["D-U1", "D-U2"]


def test_a_platform_that_cannot_check_holds_the_row_for_a_person(db, clock):
    class Blind(Recording):
        async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
            raise DeliveryError("teams_cannot_check_history", unknown=True)

    time = FakeTime()
    messenger = Blind(time)
    messenger.errors["k0"] = [DeliveryError("http_502", unknown=True)]
    uow = outbox(db, clock, "U1")
    sender = make(uow, clock, time, messenger)
    asyncio.run(sender.drain())
    clock.advance(minutes=1)
    asyncio.run(sender.recover())
    asyncio.run(sender.drain())
    assert status(uow) == {"k0": "held"} and messenger.at == []


def test_another_senders_claim_is_recovered_only_after_its_lease(db_url, clock):
    engine = make_engine(db_url)
    upgrade(engine)
    uow = outbox(engine, clock, "U1", "U2")
    with uow() as work:
        assert len(work.outbox.claim(clock.now(), 10, "sender-that-dies")) == 2
        work.commit()
    time = FakeTime()
    messenger = Recording(time)
    sender = make(uow, clock, time, messenger, lease=timedelta(minutes=5))
    assert asyncio.run(sender.recover()) == 0 and set(status(uow).values()) == {"sending"}
    clock.advance(minutes=6)
    assert asyncio.run(sender.recover()) == 2
    asyncio.run(sender.drain())
    assert set(status(uow).values()) == {"sent"} and len(messenger.at) == 2
    engine.dispose()
