"""TeamsMessenger against the fake Bot Connector (and fake Graph): proactive sends survive a
restart, failures map to DeliveryError, retries and pacing stay inside Teams' limits."""

from __future__ import annotations

import json

import pytest

from adapters.teams import TeamsSettings
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message
from conversations.ports.messenger import DeliveryError
from tests.teams.conftest import graph_settings, start_harness
from tests.teams.fake_teams import TENANT, message

ALICE = UserRef("teams", TENANT, "alice")


async def _restart(harness, db, connector, **settings):
    """A new process: nothing in memory, only the database."""
    return await start_harness(
        db, connector, TeamsSettings(dev_mode=True, service_url=connector.url, **settings)
    )


async def test_a_reference_saved_from_a_message_reaches_the_person_after_a_restart(harness, db, connector):
    await harness.post(message(harness.service_url, "hello"))
    fresh = await _restart(harness, db, connector)
    try:
        conversation = await fresh.teams.messenger.open_dm(ALICE)
        assert conversation.conversation_id == "a:personal-alice"
        assert json.loads(conversation.extra)["serviceUrl"] == connector.url
        ref = await fresh.teams.messenger.post(conversation, Message.simple("Your task is ready"), tag="t1")
    finally:
        await fresh.server.close()
    [post] = connector.sent()
    assert post.path == "/v3/conversations/a:personal-alice/activities"  # a new post, not a reply
    assert post.body["attachments"][0]["content"]["body"][0]["text"] == "Your task is ready"
    assert ref.message_id and ref.conversation == conversation


async def test_a_person_never_seen_in_a_personal_chat_gets_one_created(harness, connector):
    await harness.post(message(harness.service_url, "hello", user="bob"))  # teaches the service URL
    messenger = harness.teams.messenger
    first = await messenger.open_dm(ALICE)
    again = await messenger.open_dm(ALICE)
    assert first.conversation_id == again.conversation_id == "a:created-1"
    [create] = [c for c in connector.calls if c.path == "/v3/conversations"]
    assert create.body["members"] == [{"id": "alice"}]
    assert create.body["channelData"] == {"tenant": {"id": TENANT}} and create.body["isGroup"] is False
    await messenger.post(first, Message.simple("hi"))
    assert connector.sent("a:created-1")


async def test_a_person_who_blocked_the_bot_is_unreachable_at_once(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.fail_next(403, code="MessageWritesBlocked")
    with pytest.raises(DeliveryError) as caught:
        await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert caught.value.unreachable and not caught.value.retryable
    assert len(connector.sent()) == 1  # no retry storm


async def test_429_is_retried_after_retry_after_then_succeeds(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.fail_next(429, times=2, **{"Retry-After": "3"})
    await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert len(connector.sent()) == 3
    backoffs = [s for s in harness.time.sleeps if s >= 3]
    assert len(backoffs) == 2


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_transient_failures_are_retried_a_bounded_number_of_times(harness, connector, status):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.fail_next(status, times=10)
    with pytest.raises(DeliveryError) as caught:
        await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert caught.value.retryable and not caught.value.unknown
    assert len(connector.sent()) == 4  # our attempts only: botbuilder's own retries are off
    delays = harness.time.sleeps
    assert len(delays) == 3 and delays[0] < delays[2]  # exponential back-off


async def test_a_long_retry_after_goes_back_to_the_outbox(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.fail_next(429, **{"Retry-After": "120"})
    with pytest.raises(DeliveryError) as caught:
        await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert caught.value.retryable and caught.value.retry_after == 120
    assert len(connector.sent()) == 1


async def test_a_connection_lost_after_sending_is_an_unknown_outcome(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.drop_next()
    with pytest.raises(DeliveryError) as caught:
        await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert caught.value.unknown
    assert len(connector.sent()) == 1  # never resent blindly


async def test_other_client_errors_fail_without_retry(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    connector.fail_next(400, code="BadArgument")
    with pytest.raises(DeliveryError) as caught:
        await harness.teams.messenger.post(conversation, Message.simple("hi"))
    assert not (caught.value.retryable or caught.value.unknown or caught.value.unreachable)
    assert caught.value.code == "teams_BadArgument"


async def test_sends_to_one_conversation_stay_inside_the_per_conversation_limits(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    for i in range(20):
        await harness.teams.messenger.post(conversation, Message.simple(f"message {i}"))
    assert len(connector.sent()) == 20
    times = list(harness.teams.pacer._sent[conversation.conversation_id])
    for limit, window in ((7, 1.0), (8, 2.0)):
        for i in range(len(times) - limit):
            assert times[i + limit] - times[i] >= window
    assert harness.time.sleeps  # it had to wait


async def test_update_replaces_the_posted_card(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    ref = await harness.teams.messenger.post(conversation, Message.simple("v1"))
    await harness.teams.messenger.update(MessageRef(conversation, ref.message_id), Message.simple("v2"))
    put = connector.sent()[-1]
    assert put.method == "PUT" and put.path.endswith(f"/activities/{ref.message_id}")
    assert put.body["attachments"][0]["content"]["body"][0]["text"] == "v2"


async def test_what_teams_cannot_do_is_said_plainly(harness):
    messenger = harness.teams.messenger
    assert messenger.capabilities.group_dm is False and messenger.capabilities.home_tab is False
    with pytest.raises(DeliveryError):
        await messenger.open_group([ALICE, UserRef("teams", TENANT, "bob")], "Buddies")
    with pytest.raises(DeliveryError) as caught:
        await messenger.find_tagged(ConversationRef("teams", TENANT, "a:personal-alice"), "tag")
    assert caught.value.unknown  # the sender must not resend what it cannot check
    with pytest.raises(DeliveryError):
        await messenger.publish_home(ALICE, Home())


async def test_a_conversation_without_a_reference_is_a_delivery_error(harness):
    with pytest.raises(DeliveryError):
        await harness.teams.messenger.post(ConversationRef("teams", TENANT, "a:unknown"), Message.simple("x"))


async def test_with_graph_an_introduction_opens_a_real_group_chat(db, connector, graph):
    h = await start_harness(
        db, connector, TeamsSettings(dev_mode=True, service_url=connector.url, graph=graph_settings(graph))
    )
    try:
        assert h.teams.messenger.capabilities.group_dm is True
        await h.post(message(h.service_url, "hello"))
        users = [ALICE, UserRef("teams", TENANT, "bob"), UserRef("teams", TENANT, "carol")]
        group = await h.teams.messenger.open_group(users, "Buddies: Alice, Bob and Carol")
        await h.teams.messenger.post(group, Message.simple("Meet your buddies"))
        second = await h.teams.messenger.open_group(users[:2], "Buddies")
    finally:
        await h.server.close()
    assert group.conversation_id == "19:chat-1@thread.v2"
    chats = [c for c in graph.calls if c.path == "/graph/chats"]
    assert chats[0].body["chatType"] == "group" and chats[0].body["topic"] == "Buddies: Alice, Bob and Carol"
    binds = [m["user@odata.bind"] for m in chats[0].body["members"]]
    assert binds == [f"https://graph.microsoft.com/v1.0/users('{u}')" for u in ("alice", "bob", "carol")]
    install = next(c for c in graph.calls if c.path == "/graph/chats/19:chat-1@thread.v2/installedApps")
    assert install.body["teamsApp@odata.bind"].endswith("/appCatalogs/teamsApps/catalog-app-1")
    assert graph.tokens_issued == 1  # the app-only token is reused
    assert all(c.headers["Authorization"] == "Bearer graph-token-1" for c in chats)
    assert connector.sent("19:chat-1@thread.v2")
    assert second.conversation_id == "19:chat-2@thread.v2"


async def test_graph_throttling_is_retried(db, connector, graph):
    h = await start_harness(
        db, connector, TeamsSettings(dev_mode=True, service_url=connector.url, graph=graph_settings(graph))
    )
    try:
        graph.failures.append(
            type("F", (), {"status": 429, "code": "TooManyRequests", "headers": {"Retry-After": "2"}})()
        )
        group = await h.teams.messenger.open_group([ALICE, UserRef("teams", TENANT, "bob")], "Buddies")
    finally:
        await h.server.close()
    assert group.conversation_id.startswith("19:chat-")
    assert any(s >= 2 for s in h.time.sleeps)


async def test_each_attempt_is_exactly_one_request(harness, connector):
    """msrest configures urllib3 to retry on 5xx; our bounded attempts must be the only ones."""
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    ref = await harness.teams.messenger.post(conversation, Message.simple("v1"))
    connector.fail_next(503, times=50)
    with pytest.raises(DeliveryError):
        await harness.teams.messenger.update(ref, Message.simple("v2"))
    assert sum(c.method == "PUT" for c in connector.calls) == 4


async def test_with_authentication_on_every_send_carries_the_bots_token(harness, db, connector, monkeypatch):
    """The token request itself is MSAL's (to login.microsoftonline.com, out of reach here);
    everything after it is ours: the credentials in use, and the header on every Connector call."""
    from botframework.connector.auth import MicrosoftAppCredentials

    asked: list[str] = []

    def token(credentials, force_refresh: bool = False):  # type: ignore[no-untyped-def]
        asked.append(credentials.microsoft_app_id)
        return "bf-token-1"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", token)
    await harness.post(message(harness.service_url, "hello"))  # a reference, saved while auth was off
    secured = await start_harness(
        db, connector, TeamsSettings(app_id="app-123", app_password="s3cret", service_url=connector.url)
    )
    try:
        conversation = await secured.teams.messenger.open_dm(ALICE)
        await secured.teams.messenger.post(conversation, Message.simple("Your task is ready"))
    finally:
        await secured.server.close()
    [post] = connector.sent()
    assert post.headers["Authorization"] == "Bearer bf-token-1"
    assert asked and set(asked) == {"app-123"}


async def test_in_development_mode_sends_carry_no_token(harness, connector):
    await harness.post(message(harness.service_url, "hello"))
    conversation = await harness.teams.messenger.open_dm(ALICE)
    await harness.teams.messenger.post(conversation, Message.simple("hi"))
    [post] = connector.sent()
    assert "Authorization" not in post.headers
