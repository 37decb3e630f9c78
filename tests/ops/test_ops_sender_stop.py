"""The sender's part in a graceful stop: ``closing`` claims nothing more; a drain cancelled while
sends wait gives back the claims whose post never started, and leaves a started post for recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from conversations.core.clock import SystemClock
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message
from conversations.delivery.outbox import queue, to_user
from conversations.delivery.sender import Sender
from conversations.ports.messenger import Capabilities
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.processes import statuses


class Stuck:
    """U0 opens at once and its post never answers; everyone else's DM never opens."""

    capabilities = Capabilities(group_dm=False)

    def __init__(self) -> None:
        self.posting = asyncio.Event()

    async def open_dm(self, user: UserRef) -> ConversationRef:
        if user.user_id != "U0":
            await asyncio.Event().wait()
        return ConversationRef("t", user.workspace, f"D-{user.user_id}")

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        raise NotImplementedError

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        self.posting.set()
        await asyncio.Event().wait()
        raise AssertionError

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        return None

    async def update(self, ref: MessageRef, message: Message) -> None: ...

    async def publish_home(self, user: UserRef, home: Home) -> None: ...


def _outbox(db, n: int) -> SqlUnitOfWorkFactory:  # type: ignore[no-untyped-def]
    uow = SqlUnitOfWorkFactory(db)
    clock = SystemClock()
    with uow() as work:
        for i in range(n):
            queue(work, f"k{i}", to_user(UserRef("t", "T1", f"U{i}")), Message.simple("hi"), clock.now())
        work.commit()
    return uow


async def test_a_cancelled_drain_gives_back_claims_whose_post_never_started(db):
    uow = _outbox(db, 10)
    messenger = Stuck()
    sender = Sender(uow, {"t": messenger}, SystemClock(), pacing={}, concurrency=4)
    drain = asyncio.create_task(sender.drain())
    await asyncio.wait_for(messenger.posting.wait(), 5)
    assert statuses(uow)["sending"] == 4
    drain.cancel()
    await asyncio.gather(drain, return_exceptions=True)
    left = statuses(uow)
    assert left["sending"] == 1 and left["pending"] == 9  # the started post waits for recovery
    with uow() as work:
        [started] = work.outbox.by_status("sending")
        assert started.key == "k0"
        assert all(r.attempts == 0 and r.claimed_by == "" for r in work.outbox.by_status("pending"))


async def test_a_closing_sender_claims_nothing_more(db):
    uow = _outbox(db, 3)
    sender = Sender(uow, {"t": Stuck()}, SystemClock(), pacing={}, concurrency=4)
    sender.closing = True
    report = await asyncio.wait_for(sender.drain(), 5)
    assert report.sent == 0 and statuses(uow)["pending"] == 3
