"""SlackMessenger: the engine's Messenger port over the Slack Web API."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.errors import TRANSPORT_ERRORS, from_api_error, from_transport_error
from adapters.slack.render_blocks import render_home, render_message
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, ImageAttachment, Message
from conversations.ports.messenger import Capabilities, DeliveryError, Limit, Pace

PLATFORM = "slack"
OUTBOX_EVENT = "buddy_outbox"  # message metadata event_type that tags outbox posts
HISTORY_PAGES = 5  # find_tagged reads at most this many pages of 200 messages

TokenProvider = Callable[[str], Awaitable[str]]  # workspace (team id) -> bot token


log = logging.getLogger(__name__)

DEFAULT_WORKSPACE_RATE = 5.0  # messages a second; BUDDY_SLACK_WORKSPACE_RATE (adapters/slack/settings.py)


def slack_pace(workspace_per_second: float = DEFAULT_WORKSPACE_RATE) -> Pace:
    """chat.postMessage: about one message per second per channel, plus a workspace-wide cap that
    Slack does not publish ("several hundred a minute"); 5/s is a safe default, tune it per install.

    The workspace window admits small bursts (a twentieth of a second's worth), so a send that
    wakes a little late is made up for by the next instead of lowering the rate for good."""
    burst = max(1, round(workspace_per_second / 20))
    return Pace((Limit(1, 1.0),), (Limit(burst, burst / workspace_per_second),))


def static_token(token: str) -> TokenProvider:
    """One workspace, one bot token (SLACK_BOT_TOKEN)."""

    async def provide(_workspace: str) -> str:
        return token

    return provide


class SlackMessenger:
    """``workspace_rate``: messages a second across one workspace, for every worker together."""

    capabilities = Capabilities(
        group_dm=True,
        home_tab=True,
        message_update=True,
        max_group_size=8,
        send_files=True,
        channel_invite=True,
        email_lookups=50.0,  # users.lookupByEmail, Tier 3 (adapters/slack/directory.py)
        pacing=slack_pace(),
    )

    def __init__(
        self, client: AsyncWebClient, tokens: TokenProvider, *, workspace_rate: float = DEFAULT_WORKSPACE_RATE
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.capabilities = replace(SlackMessenger.capabilities, pacing=slack_pace(workspace_rate))

    async def _call(self, method: str, workspace: str, *, idempotent: bool, **kwargs: Any) -> dict[str, Any]:
        try:
            token = await self.tokens(workspace)
        except LookupError as e:
            raise DeliveryError("not_installed") from e
        try:
            sdk_method = getattr(self.client, method.replace(".", "_"))  # e.g. chat_postMessage
            response = await sdk_method(token=token, **kwargs)
        except SlackApiError as e:
            raise from_api_error(e, idempotent=idempotent) from e
        except TRANSPORT_ERRORS as e:
            raise from_transport_error(e, idempotent=idempotent) from e
        return response.data if isinstance(response.data, dict) else {}

    async def open_dm(self, user: UserRef) -> ConversationRef:
        _check_platform(user)
        data = await self._call("conversations.open", user.workspace, idempotent=True, users=user.user_id)
        return ConversationRef(PLATFORM, user.workspace, data["channel"]["id"])

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        """A multi-person DM with 2..8 people and the bot (Slack returns the existing one if any).
        ``topic`` is not set: the introduction message carries it, and setting a group DM's topic
        would need another call that can fail after the conversation exists."""
        ids = list(dict.fromkeys(u.user_id for u in users))
        if not 2 <= len(ids) <= self.capabilities.max_group_size:
            raise DeliveryError("too_many_users" if len(ids) > 2 else "not_enough_users")
        workspaces = {u.workspace for u in users}
        if len(workspaces) != 1:
            raise DeliveryError("users_in_several_workspaces")
        for u in users:
            _check_platform(u)
        workspace = workspaces.pop()
        data = await self._call("conversations.open", workspace, idempotent=True, users=",".join(ids))
        return ConversationRef(PLATFORM, workspace, data["channel"]["id"])

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        body: dict[str, Any] = {"channel": conversation.conversation_id, **render_message(message)}
        if message.carries_user_text:
            body.update(unfurl_links=False, unfurl_media=False)
        if tag:
            body["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"key": tag}}
        data = await self._call("chat.postMessage", conversation.workspace, idempotent=False, **body)
        if message.image is not None:
            await self._upload_image(conversation, message.image)
        return MessageRef(conversation, str(data["ts"]))

    async def _upload_image(self, conversation: ConversationRef, image: ImageAttachment) -> None:
        """A message's picture (a chart) follows it as an uploaded image. The post has gone already,
        so a failed upload is logged rather than retried (a retry would post the text twice)."""
        try:
            await self._call("files.upload_v2", conversation.workspace, idempotent=False,
                             channel=conversation.conversation_id, content=image.png, filename=image.filename,
                             title=image.filename, alt_txt=image.alt[:1000])  # fmt: skip
        except (DeliveryError, SlackRequestError) as e:
            log.warning("could not upload an image to %s: %s", conversation.conversation_id, e)

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        """Look for an outbox post by its tag in the conversation's recent history."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": conversation.conversation_id,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                args["cursor"] = cursor
            data = await self._call("conversations.history", conversation.workspace, idempotent=True, **args)
            for m in data.get("messages", []):
                meta = m.get("metadata") or {}
                if (
                    meta.get("event_type") == OUTBOX_EVENT
                    and (meta.get("event_payload") or {}).get("key") == tag
                ):
                    return MessageRef(conversation, str(m["ts"]))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                break
        return None

    async def update(self, ref: MessageRef, message: Message) -> None:
        conv = ref.conversation
        body = {"channel": conv.conversation_id, "ts": ref.message_id, **render_message(message)}
        await self._call("chat.update", conv.workspace, idempotent=True, **body)

    async def publish_home(self, user: UserRef, home: Home) -> None:
        _check_platform(user)
        await self._call(
            "views.publish", user.workspace, idempotent=True, user_id=user.user_id, view=render_home(home)
        )

    async def invite(self, channel: ConversationRef, user: UserRef) -> bool:
        """conversations.invite (channels:manage, groups:write): the bot must be in the channel."""
        _check_platform(user)
        try:
            await self._call("conversations.invite", channel.workspace, idempotent=True,
                             channel=channel.conversation_id, users=user.user_id)  # fmt: skip
        except DeliveryError as error:
            if error.code == "already_in_channel":
                return True
            if error.retryable or error.unknown:
                raise
            log.info("conversations.invite refused (%s): sending the link instead", error.code)
            return False
        return True


def _check_platform(ref: UserRef) -> None:
    if ref.platform != PLATFORM:
        raise DeliveryError(f"not a Slack user: {ref.platform}")
