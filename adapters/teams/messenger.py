"""TeamsMessenger: the engine's Messenger port on the Bot Connector (and Graph for group chats).

Sends go through ``CloudAdapter.continue_conversation`` with a conversation reference saved from
an earlier activity (see :mod:`adapters.teams.references`), so they work after a restart. Each
send is paced per conversation and per tenant (:mod:`adapters.teams.retry`), retried on 429, 412,
502, 503 and 504 with jittered back-off honouring ``Retry-After``, and otherwise mapped to a
:class:`DeliveryError`. botbuilder's own HTTP retries are switched off: they would resend a post
whose answer was lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams.directory import GRAPH_LOOKUPS_PER_MINUTE
from adapters.teams.errors import Failure, classify
from adapters.teams.graph import GraphClient
from adapters.teams.references import ReferenceStore
from adapters.teams.render_cards import CARD_CONTENT_TYPE, message_card
from adapters.teams.render_markup import to_plain
from adapters.teams.retry import (
    DEFAULT_POLICY,
    TEAMS_PACE,
    TENANT_WINDOWS,
    Pacer,
    RetryPolicy,
    Sleep,
    backoff_delay,
)
from adapters.teams.settings import TeamsSettings
from conversations.core.markup import parse
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Actions, Home, Message, Section
from conversations.ports.messenger import Capabilities, DeliveryError

log = logging.getLogger(__name__)
PLATFORM = "teams"
GROUP_CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0?users={emails}&topicName={topic}"


def capabilities_for(settings: TeamsSettings) -> Capabilities:
    """Group chats only with Graph; no home tab; cards can be updated; files after consent."""
    return Capabilities(
        group_dm=settings.graph is not None,
        # without Graph, each person gets a link that opens a chat with everyone (it needs their UPNs)
        group_link_template="" if settings.graph is not None else GROUP_CHAT_LINK,
        home_tab=False,
        message_update=True,
        max_group_size=8,
        send_files=True,
        channel_invite=settings.graph is not None,  # POST /teams/{team-id}/members
        email_lookups=GRAPH_LOOKUPS_PER_MINUTE if settings.graph is not None else 0.0,  # GET /users/{mail}
        pacing=TEAMS_PACE,
    )


def message_activity(message: Message, names: dict[str, str] | None = None) -> Activity:
    """The activity for a neutral message: the card, and a plain summary for notifications."""
    card = message_card(message, names)
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
        summary=to_plain(message.text)[:250],
    )


def team_of_link(link: str) -> str:
    """The team's id in a Teams channel link (``.../l/channel/19%3a...?groupId=<team id>&tenantId=...``)."""
    found = parse_qs(urlsplit(link).query).get("groupId", [""])[0].strip()
    return found if len(found) == 36 and found.replace("-", "").isalnum() else ""


def mentioned_ids(message: Message) -> set[str]:
    texts: list[str] = [message.text]
    for block in message.blocks:
        if isinstance(block, Section):
            texts.append(block.text)
            texts.extend(v for _, v in block.fields)
        elif not isinstance(block, Actions):
            texts.append(getattr(block, "text", ""))
    return {s.target for t in texts for s in parse(t) if s.kind == "mention"}


class TeamsMessenger:
    def __init__(
        self,
        adapter: CloudAdapter,
        settings: TeamsSettings,
        references: ReferenceStore,
        *,
        graph: GraphClient | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        pacer: Pacer | None = None,
        tenant_pacer: Pacer | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.adapter = adapter
        self.settings = settings
        self.references = references
        self.graph = graph
        self.policy = policy
        self.pacer = pacer or Pacer(sleep=sleep)
        self.tenant_pacer = tenant_pacer or Pacer(TENANT_WINDOWS, sleep=sleep)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.capabilities = capabilities_for(settings)

    # ---- conversations ---------------------------------------------------------------------

    async def open_dm(self, user: UserRef) -> ConversationRef:
        tenant = user.workspace
        reference = await asyncio.to_thread(self.references.personal_for, tenant, user.user_id)
        if reference is None:
            reference = await self._create_personal(user)
        return _conversation_ref(tenant, reference)

    async def _create_personal(self, user: UserRef) -> dict[str, Any]:
        tenant = user.workspace
        service_url = (
            await asyncio.to_thread(self.references.service_url_for, tenant) or self.settings.service_url
        )
        bot = await asyncio.to_thread(self.references.bot_account, tenant) or {
            "id": f"28:{self.settings.app_id}"
        }
        known = await asyncio.to_thread(self.references.user, tenant, user.user_id)
        if self.graph is not None and known is None:  # never wrote to us: the app may not be theirs yet
            await self._install_for(user)
        member_id = known.bot_user_id if known and known.bot_user_id else user.user_id
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
            members=[ChannelAccount(id=member_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: dict[str, Any] = {}

        async def capture(turn_context: TurnContext) -> None:
            created["id"] = turn_context.activity.conversation.id

        async def call() -> None:
            await self.adapter.create_conversation(
                self.settings.app_id, capture, parameters, channel_id="msteams", service_url=service_url
            )

        # creating a 1:1 chat is idempotent in Teams (it returns the existing one), so retrying is safe
        try:
            await self._with_retries(f"tenant:{tenant}", call, paced=False)
        except DeliveryError as error:
            if self.graph is None and error.code == "teams_BotNotInConversationRoster":
                # they don't have the app, and without Graph it cannot be added for them: final
                raise DeliveryError("teams_app_not_installed") from error
            raise
        reference = {
            "activityId": None,
            "bot": bot,
            "channelId": "msteams",
            "conversation": {"id": created["id"], "conversationType": "personal", "tenantId": tenant},
            "serviceUrl": service_url,
            "user": {"id": member_id, "aadObjectId": user.user_id},
        }
        await asyncio.to_thread(self.references.save, reference, tenant)
        return reference

    async def _install_for(self, user: UserRef) -> None:
        """Install the app for someone who has never written to the bot (a person imported from a
        survey), so that it can open a 1:1 chat with them; nothing when they have it already."""
        try:
            if await self.graph.install_for_user(user.user_id):  # type: ignore[union-attr]
                log.info("installed the app for a person in tenant %s", user.workspace)
        except DeliveryError as error:
            if error.retryable or error.unknown:
                raise
            # refused (no permission, app not in the catalogue, blocked by policy): without the app
            # the person cannot be written to; their coordinator is told why
            raise DeliveryError(f"teams_app_not_installed_{error.code}") from error

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        if self.graph is None:
            raise DeliveryError("teams_group_chat_needs_graph")
        if not users:
            raise DeliveryError("teams_group_without_members")
        tenant = users[0].workspace
        chat_id = await self.graph.create_group_chat([u.user_id for u in users], topic)
        await self.graph.install_app(chat_id)
        service_url = (
            await asyncio.to_thread(self.references.service_url_for, tenant) or self.settings.service_url
        )
        bot = await asyncio.to_thread(self.references.bot_account, tenant) or {
            "id": f"28:{self.settings.app_id}"
        }
        reference = {
            "activityId": None,
            "bot": bot,
            "channelId": "msteams",
            "conversation": {
                "id": chat_id,
                "conversationType": "groupChat",
                "isGroup": True,
                "tenantId": tenant,
            },
            "serviceUrl": service_url,
            "user": None,
        }
        await asyncio.to_thread(self.references.save, reference, tenant)
        return _conversation_ref(tenant, reference)

    # ---- messages --------------------------------------------------------------------------

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        reference = await self._reference(conversation)
        names = await asyncio.to_thread(
            self.references.display_names, conversation.workspace, mentioned_ids(message)
        )
        activity = message_activity(message, names)
        sent: dict[str, str] = {}

        async def send(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            sent["id"] = (response.id if response else "") or ""

        await self._continue(conversation, reference, send)
        return MessageRef(conversation, sent.get("id", ""))

    async def update(self, ref: MessageRef, message: Message) -> None:
        reference = await self._reference(ref.conversation)
        names = await asyncio.to_thread(
            self.references.display_names, ref.conversation.workspace, mentioned_ids(message)
        )
        activity = message_activity(message, names)
        activity.id = ref.message_id

        async def send(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._continue(ref.conversation, reference, send)

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        """The Bot Connector cannot read a chat's history, so a post's outcome cannot be checked.

        Raising (rather than answering "not found") keeps an ambiguous post out of the resend
        queue: the sender leaves it for a person to settle instead of posting it twice.
        """
        raise DeliveryError("teams_cannot_check_history", unknown=True)

    async def publish_home(self, user: UserRef, home: Home) -> None:
        raise DeliveryError("teams_has_no_home_tab")

    async def invite(self, channel: ConversationRef, user: UserRef) -> bool:
        """Add the person to the team that holds the channel, through Graph; the team's id is the
        ``groupId`` of the channel's link (``channel.extra``). False (they get the link instead)
        without Graph, without a team id, or when Graph refuses (a blocked user is 404, say)."""
        team_id = team_of_link(channel.extra)
        if self.graph is None or not team_id:
            return False
        try:
            await self.graph.add_team_member(team_id, user.user_id)
        except DeliveryError as error:
            if error.retryable or error.unknown:
                raise
            log.info("adding someone to a team was refused (%s): sending the link instead", error.code)
            return False
        return True

    # ---- plumbing --------------------------------------------------------------------------

    async def _reference(self, conversation: ConversationRef) -> dict[str, Any]:
        if conversation.extra:
            try:
                return dict(json.loads(conversation.extra))
            except ValueError:
                log.warning(
                    "conversation %s has an unreadable reference; looking it up", conversation.conversation_id
                )
        reference = await asyncio.to_thread(self.references.get, conversation.conversation_id)
        if reference is None:
            raise DeliveryError("teams_no_conversation_reference")
        return reference

    async def _continue(
        self,
        conversation: ConversationRef,
        reference: dict[str, Any],
        logic: Callable[[TurnContext], Awaitable[None]],
    ) -> None:
        reference = dict(reference, activityId=None)  # a new post, not a reply to the activity we saved
        bf_reference = ConversationReference().deserialize(reference)

        async def callback(turn_context: TurnContext) -> None:
            disable_sdk_retries(turn_context)
            # botbuilder gives the continuation a random activity id and would send a "reply" to it;
            # without one it posts to the conversation (POST .../activities)
            turn_context.activity.id = None
            await logic(turn_context)

        async def call() -> None:
            await self.adapter.continue_conversation(bf_reference, callback, self.settings.app_id)

        await self._with_retries(conversation.conversation_id, call, tenant=conversation.workspace)

    async def _with_retries(
        self, key: str, call: Callable[[], Awaitable[None]], *, tenant: str = "", paced: bool = True
    ) -> None:
        for attempt in range(1, self.policy.attempts + 1):
            if paced:
                await self.pacer.acquire(key)
            if tenant:
                await self.tenant_pacer.acquire(tenant)
            try:
                await call()
                return
            except DeliveryError:
                raise
            except Exception as error:  # noqa: BLE001 - every SDK failure is classified below
                failure = classify(error)
            log.warning("teams send to %s failed: %s (attempt %d)", key, failure.code, attempt)
            if not failure.retryable:
                raise failure.to_delivery_error() from None
            too_long = (failure.retry_after or 0) > self.policy.max_retry_after
            if attempt == self.policy.attempts or too_long:
                raise failure.to_delivery_error(retryable_now=True) from None
            await self.sleep(backoff_delay(attempt, self.policy, self.rng, failure.retry_after))
        raise AssertionError("unreachable")


def disable_sdk_retries(turn_context: TurnContext) -> None:
    """msrest retries POSTs on 5xx and read errors by default: a lost answer would post twice."""
    client = turn_context.turn_state.get(turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    config = getattr(client, "config", None)
    policy = getattr(getattr(config, "retry_policy", None), "policy", None)
    if policy is not None:  # a urllib3 Retry, shared with the session: change it in place
        policy.total = policy.connect = policy.read = policy.status = 0
        policy.status_forcelist = frozenset()
        policy.raise_on_status = False


def _conversation_ref(tenant: str, reference: dict[str, Any]) -> ConversationRef:
    conversation_id = (reference.get("conversation") or {}).get("id", "")
    return ConversationRef(PLATFORM, tenant, conversation_id, json.dumps(reference, sort_keys=True))


__all__ = ["Failure", "TeamsMessenger", "capabilities_for", "message_activity"]
