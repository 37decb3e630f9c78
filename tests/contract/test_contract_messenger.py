"""One contract for every Messenger: the in-memory one the tests and demo use cannot drift from
the real Slack and Teams messengers, each run against its fake platform on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from adapters.memory.messenger import MemoryMessenger
from conversations.core.clock import SystemClock
from conversations.core.refs import UserRef
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.sender import Sender
from conversations.ports.messenger import DeliveryError, Limit, Messenger
from storage.database import make_engine
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.teams.fake_teams import TENANT, FakeConnector

HELLO = Message("hello", (Section("**Hello** from Buddy"), Actions((Button("Respond", "respond", "1"),))))


@dataclass
class Rig:
    messenger: Messenger
    workspace: str
    users: tuple[str, str]
    seen: Callable[[str], Awaitable[list[str]]]  # everything posted in a conversation, as text
    break_user: Callable[[str], None]  # the next send to this person fails as the platform would


async def memory_rig() -> AsyncIterator[Rig]:
    messenger = MemoryMessenger("memory")

    async def seen(conversation_id: str) -> list[str]:
        return [p.text for p in messenger.in_conversation(conversation_id)]

    def break_user(user_id: str) -> None:
        messenger.fail[user_id] = DeliveryError("blocked", unreachable=True)

    yield Rig(messenger, "T1", ("U1", "U2"), seen, break_user)


async def slack_rig() -> AsyncIterator[Rig]:
    from adapters.slack.client import make_web_client
    from adapters.slack.messenger import SlackMessenger, static_token

    fake = await FakeSlack().start()
    async with aiohttp.ClientSession() as session:
        messenger = SlackMessenger(
            make_web_client(base_url=fake.api_url, session=session), static_token(BOT_TOKEN)
        )

        async def seen(conversation_id: str) -> list[str]:
            return [json.dumps(m) for m in fake.messages_in(conversation_id)]

        def break_user(user_id: str) -> None:
            fake.users[user_id]["deleted"] = True

        yield Rig(messenger, TEAM, ("U0AAA001", "U0BBB002"), seen, break_user)
    await fake.close()


async def teams_rig(tmp_path) -> AsyncIterator[Rig]:  # type: ignore[no-untyped-def]
    from adapters.teams import TeamsSettings, build_teams
    from adapters.teams.retry import RetryPolicy

    connector = FakeConnector()
    await connector.server.start_server()

    async def no_wait(_seconds: float) -> None:
        return None

    db = make_engine(f"sqlite:///{tmp_path / 'teams.db'}")
    teams = build_teams(TeamsSettings(dev_mode=True, service_url=connector.url), db, create_tables=True,
                        policy=RetryPolicy(attempts=2, base_delay=0.01), sleep=no_wait)  # fmt: skip

    async def seen(conversation_id: str) -> list[str]:
        return [json.dumps(c.body) for c in connector.sent(conversation_id)]

    def break_user(_user_id: str) -> None:
        connector.fail_next(403, code="MessageWritesBlocked", times=3)

    yield Rig(teams.messenger, TENANT, ("alice", "bob"), seen, break_user)
    await connector.server.close()
    db.dispose()


@pytest.fixture(params=["memory", "slack", "teams"])
async def rig(request, tmp_path) -> AsyncIterator[Rig]:  # type: ignore[no-untyped-def]
    factory = {"memory": memory_rig, "slack": slack_rig, "teams": lambda: teams_rig(tmp_path)}[request.param]
    async for r in factory():
        yield r


def ref(rig: Rig, user_id: str) -> UserRef:
    platform = {MemoryMessenger: "memory"}.get(type(rig.messenger), "")
    return UserRef(platform or ("slack" if rig.workspace == TEAM else "teams"), rig.workspace, user_id)


async def test_a_direct_message_reaches_its_conversation(rig):
    conversation = await rig.messenger.open_dm(ref(rig, rig.users[0]))
    assert conversation.workspace == rig.workspace
    posted = await rig.messenger.post(conversation, HELLO, tag="contract:dm")
    assert posted.conversation.conversation_id == conversation.conversation_id and posted.message_id
    texts = await rig.seen(conversation.conversation_id)
    assert len(texts) == 1 and "Hello" in texts[0] and "respond" in texts[0].lower()


async def test_the_same_person_gets_the_same_direct_conversation(rig):
    first = await rig.messenger.open_dm(ref(rig, rig.users[0]))
    second = await rig.messenger.open_dm(ref(rig, rig.users[0]))
    assert first.conversation_id == second.conversation_id


async def test_a_group_conversation_exactly_when_the_capability_says_so(rig):
    people = [ref(rig, u) for u in rig.users]
    if not rig.messenger.capabilities.group_dm:
        with pytest.raises(DeliveryError):
            await rig.messenger.open_group(people)
        return
    group = await rig.messenger.open_group(people, topic="Buddies")
    await rig.messenger.post(group, HELLO, tag="contract:group")
    assert len(await rig.seen(group.conversation_id)) == 1
    assert (await rig.messenger.open_group(people)).conversation_id == group.conversation_id


async def test_messages_can_be_updated_when_the_capability_says_so(rig):
    conversation = await rig.messenger.open_dm(ref(rig, rig.users[0]))
    posted = await rig.messenger.post(conversation, HELLO, tag="contract:update")
    if rig.messenger.capabilities.message_update:
        await rig.messenger.update(posted, Message.simple("Updated text"))
        assert any("Updated text" in t for t in await rig.seen(conversation.conversation_id))


async def test_someone_who_cannot_be_reached_is_a_permanent_unreachable_error(rig):
    target = rig.users[1]
    conversation = None
    try:
        conversation = await rig.messenger.open_dm(ref(rig, target))
    finally:
        rig.break_user(target)
    with pytest.raises(DeliveryError) as caught:
        conversation = await rig.messenger.open_dm(ref(rig, target))
        await rig.messenger.post(conversation, HELLO, tag="contract:blocked")
    assert caught.value.unreachable and not caught.value.retryable


async def test_the_sender_paces_each_messenger_by_the_limits_it_declares(rig):
    """Pacing is a capability: each adapter declares its platform's limits once, and the outbox
    sender keeps to what the messenger declares (time is simulated: nothing here waits)."""
    platform = ref(rig, rig.users[0]).platform
    pace = rig.messenger.capabilities.pacing
    if platform != "memory":  # a real platform has limits in a conversation and across a workspace
        assert pace.per_conversation and pace.per_workspace
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    def no_store():  # type: ignore[no-untyped-def]
        raise AssertionError("pacing needs no database")

    sender = Sender(no_store, {platform: rig.messenger}, SystemClock(), monotonic=lambda: now[0], sleep=sleep,
                    max_hold=1e9)  # fmt: skip
    assert sender.pacer.pacing[platform] == pace

    async def send_times(limits: tuple[Limit, ...], conversation: str | None) -> list[float]:
        times = []
        for n in range(max((limit.count for limit in limits), default=3) + 1):
            assert await sender.pacer.acquire(platform, rig.workspace, conversation or f"c{n}") == 0.0
            times.append(now[0])
        return times

    for limits, conversation in ((pace.per_conversation, "one"), (pace.per_workspace, None)):
        times = await send_times(limits, conversation)
        if not limits:
            assert times[-1] == times[0]  # nothing declared: nothing waits
        for limit in limits:  # no window of the limit's length holds more than its count
            assert all(later - earlier >= limit.seconds - 1e-9
                       for earlier, later in zip(times, times[limit.count:], strict=False))  # fmt: skip
