"""SlackMessenger against the fake Slack Web API on loopback."""

from __future__ import annotations

import pytest

from adapters.slack.messenger import SlackMessenger, static_token
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.views import Actions, Button, Home, Message, Section
from conversations.ports.messenger import DeliveryError
from tests.slack.fake_slack import BOT_TOKEN, BOT_USER, TEAM, FakeSlack

A, B, C = (UserRef("slack", TEAM, u) for u in ("U0AAA001", "U0BBB002", "U0CCC003"))


@pytest.fixture
def messenger(web_client) -> SlackMessenger:
    return SlackMessenger(web_client, static_token(BOT_TOKEN))


async def test_dm_post_update_and_find_by_tag(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    assert conv.conversation_id.startswith("D") and conv.workspace == TEAM
    msg = Message("Your task", (Section("**Task 1**"), Actions((Button("Done", "task_done", "t1"),))))
    ref = await messenger.post(conv, msg, tag="task:1:U0AAA001")
    (call,) = fake.calls_to("chat.postMessage")
    assert call.token == BOT_TOKEN
    assert call.args["metadata"] == {
        "event_type": "buddy_outbox",
        "event_payload": {"key": "task:1:U0AAA001"},
    }
    assert call.args["blocks"][0]["text"]["text"] == "*Task 1*"
    assert "unfurl_links" not in call.args

    assert await messenger.find_tagged(conv, "task:1:U0AAA001") == ref
    assert await messenger.find_tagged(conv, "task:2:U0AAA001") is None

    await messenger.update(ref, Message.simple("Done, thanks"))
    assert fake.messages_in(conv.conversation_id)[0]["text"] == "Done, thanks"


async def test_user_text_is_posted_without_unfurls(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    await messenger.post(conv, Message("x", (Section("see https://x.org"),), carries_user_text=True))
    args = fake.calls_to("chat.postMessage")[0].args
    assert args["unfurl_links"] is False and args["unfurl_media"] is False


async def test_group_dm_with_the_bot(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_group([A, B, C], topic="June buddies")
    assert conv.conversation_id.startswith("G")
    assert fake.conversations[conv.conversation_id].members == {A.user_id, B.user_id, C.user_id, BOT_USER}
    assert fake.calls_to("conversations.open")[0].args["users"] == "U0AAA001,U0BBB002,U0CCC003"
    assert (await messenger.open_group([C, A, B])).conversation_id == conv.conversation_id
    await messenger.post(conv, Message.simple("Meet each other"), tag="intro:1")
    assert fake.messages_in(conv.conversation_id)[0]["metadata"]["event_payload"]["key"] == "intro:1"


async def test_group_size_is_checked_before_calling_slack(messenger: SlackMessenger, fake: FakeSlack) -> None:
    nine = [UserRef("slack", TEAM, f"U0X{i:05d}") for i in range(9)]
    with pytest.raises(DeliveryError) as caught:
        await messenger.open_group(nine)
    assert caught.value.code == "too_many_users" and not caught.value.retryable
    with pytest.raises(DeliveryError):
        await messenger.open_group([A])
    assert fake.calls_to("conversations.open") == []


async def test_fake_slack_itself_rejects_nine_people_and_51_blocks(web_client) -> None:
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError, match="too_many_users"):
        await web_client.conversations_open(
            token=BOT_TOKEN, users=",".join(f"U0AAA{i:03d}" for i in range(9))
        )
    conv = (await web_client.conversations_open(token=BOT_TOKEN, users="U0AAA001"))["channel"]["id"]
    blocks = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await web_client.chat_postMessage(token=BOT_TOKEN, channel=conv, text="x", blocks=blocks)


async def test_long_messages_stay_postable(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    await messenger.post(conv, Message("many", tuple(Section(f"line {i}") for i in range(120))))
    assert len(fake.messages_in(conv.conversation_id)[0]["blocks"]) == 50


async def test_home_is_published(messenger: SlackMessenger, fake: FakeSlack) -> None:
    await messenger.publish_home(A, Home((Section("Hello"),)))
    assert fake.homes[A.user_id]["type"] == "home"


@pytest.mark.parametrize(
    ("user", "code"),
    [("U0NOPE99", "user_not_found"), (BOT_USER, "cannot_dm_bot"), ("U0GONE01", "user_disabled")],
)
async def test_unreachable_people(messenger: SlackMessenger, user: str, code: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        await messenger.open_dm(UserRef("slack", TEAM, user))
    assert caught.value.code == code and caught.value.unreachable and not caught.value.retryable


async def test_unknown_or_foreign_channels_are_permanent(messenger: SlackMessenger, fake: FakeSlack) -> None:
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(ConversationRef("slack", TEAM, "C0MISSING"), Message.simple("hi"))
    assert (
        caught.value.code == "channel_not_found" and not caught.value.retryable and not caught.value.unknown
    )
    fake.add_channel("C0OTHERS", {"U0AAA001"})
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(ConversationRef("slack", TEAM, "C0OTHERS"), Message.simple("hi"))
    assert caught.value.code == "not_in_channel" and not caught.value.unreachable


async def test_bad_token_is_permanent(web_client, fake: FakeSlack) -> None:
    messenger = SlackMessenger(web_client, static_token("xoxb-revoked"))
    with pytest.raises(DeliveryError) as caught:
        await messenger.open_dm(A)
    assert caught.value.code == "invalid_auth" and not caught.value.retryable


async def test_short_rate_limit_is_waited_out(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    fake.rate_limit("chat.postMessage", times=1, retry_after=0)
    await messenger.post(conv, Message.simple("hi"))
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages_in(conv.conversation_id)) == 1


async def test_long_rate_limit_becomes_a_retryable_error(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    fake.rate_limit("chat.postMessage", times=1, retry_after=120)
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(conv, Message.simple("hi"))
    assert caught.value.retryable and caught.value.retry_after == 120
    assert fake.messages_in(conv.conversation_id) == []


async def test_lost_answer_is_unknown_and_checkable(messenger: SlackMessenger, fake: FakeSlack) -> None:
    conv = await messenger.open_dm(A)
    fake.drop_after("chat.postMessage")
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(conv, Message.simple("hi"), tag="nudge:7")
    assert caught.value.unknown and not caught.value.retryable
    assert len(fake.calls_to("chat.postMessage")) == 1  # no automatic resend
    assert await messenger.find_tagged(conv, "nudge:7") is not None


async def test_server_errors(messenger: SlackMessenger, fake: FakeSlack) -> None:
    fake.fail("conversations.open", "internal_error", status=500)
    with pytest.raises(DeliveryError) as caught:
        await messenger.open_dm(A)
    assert caught.value.retryable and not caught.value.unknown
    conv = await messenger.open_dm(A)
    fake.fail("chat.postMessage", "internal_error", status=500)
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(conv, Message.simple("hi"))
    assert caught.value.unknown and not caught.value.retryable
