"""The Messenger port: how the engine reaches people. Adapters implement it.

Capabilities let the engine choose a fallback (a 1:1 introduction to each buddy when group
conversations cannot be opened) instead of asking which platform it is on. They also carry the
platform's sending limits (:class:`Pace`), declared once by each adapter: the sender paces every
messenger by what it declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message


@dataclass(frozen=True)
class Limit:
    """At most ``count`` sends in any ``seconds``."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Pace:
    """A platform's sending limits: per conversation, and across one workspace (or tenant)."""

    per_conversation: tuple[Limit, ...] = ()
    per_workspace: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    group_dm: bool = True  # can open one conversation with 2..8 people and the bot
    home_tab: bool = False
    message_update: bool = True
    max_group_size: int = 8
    # Without group DMs: a link that opens a chat with every buddy, ``{emails}`` and ``{topic}``
    # filled in (Teams: https://teams.microsoft.com/l/chat/0/0?users={emails}&topicName={topic}).
    group_link_template: str = ""
    send_files: bool = False  # can send a file (an export) to a person
    # can add a person to a channel: Slack conversations.invite (the bot must be in it); Teams, with
    # Graph, adds them to the channel's team (its link's groupId)
    channel_invite: bool = False
    email_lookups: float = 0.0  # people found by work email per minute (0: cannot; see ports/directory.py)
    pacing: Pace = Pace()  # the platform's sending limits (none: the sender does not pace it)


class DeliveryError(Exception):
    """A send failed. ``retryable`` failures may be tried again after ``retry_after`` seconds;
    ``unknown`` means the request may or may not have taken effect (never resend blindly)."""

    def __init__(
        self,
        code: str,
        *,
        retryable: bool = False,
        unknown: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
        user_id: str = "",
    ) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable
        self.unknown = unknown
        self.retry_after = retry_after
        self.unreachable = unreachable  # the person blocked the bot or left the workspace
        self.user_id = user_id  # who, when the messenger can tell (a group post fails for one member)


class Messenger(Protocol):
    capabilities: Capabilities

    async def open_dm(self, user: UserRef) -> ConversationRef: ...

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef: ...

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        """Post; ``tag`` is the outbox key, kept as message metadata where the platform allows, so an
        ambiguous failure can be checked with :meth:`find_tagged` instead of posting twice."""
        ...

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None: ...

    async def update(self, ref: MessageRef, message: Message) -> None: ...

    async def publish_home(self, user: UserRef, home: Home) -> None: ...

    async def invite(self, channel: ConversationRef, user: UserRef) -> bool:
        """Add ``user`` to ``channel``: True when they are in it now, False when the platform won't
        (the bot is not in the channel, or cannot add people); DeliveryError for a failure to retry."""
        ...
