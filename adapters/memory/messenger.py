"""A Messenger that keeps everything in memory and records what each person saw.

It behaves like a small chat service: direct messages, group conversations of 2..8 people
(the same members give the same conversation, like Slack's multi-person DMs), posts tagged with
their outbox key, and failures injected per user to exercise the engine's error paths.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.core.markup import plain
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Actions, Button, Context, Header, Home, Message, Section
from conversations.ports.messenger import Capabilities, DeliveryError


@dataclass
class Post:
    conversation: ConversationRef
    message: Message
    message_id: str
    tag: str

    @property
    def text(self) -> str:
        return render_text(self.message)

    def buttons(self) -> list[Button]:
        return [b for block in self.message.blocks if isinstance(block, Actions) for b in block.buttons]


def render_text(message: Message) -> str:
    """Plain text of everything a person would read in the message."""
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header | Context):
            parts.append(plain(block.text))
        elif isinstance(block, Section):
            if block.text:
                parts.append(plain(block.text))
            parts += [f"{plain(label)}: {plain(value)}" for label, value in block.fields]
        elif isinstance(block, Actions):
            parts.append(" ".join(f"[{b.label}]" for b in block.buttons))
    if message.image is not None:
        parts.append(f"[image: {message.image.alt}]")
    return "\n".join(parts) or plain(message.text)


class MemoryMessenger:
    def __init__(self, platform: str = "memory", capabilities: Capabilities | None = None) -> None:
        self.platform = platform
        self.capabilities = capabilities or Capabilities(group_dm=True, home_tab=True)
        self.members: dict[str, tuple[str, ...]] = {}  # conversation id -> user ids
        self.posts: list[Post] = []
        self.homes: dict[str, Home] = {}
        self.fail: dict[str, DeliveryError] = {}  # user id -> error raised on any send to them
        self._ids = itertools.count(1)
        self._seen: dict[str, list[Post]] = defaultdict(list)

    async def open_dm(self, user: UserRef) -> ConversationRef:
        self._check(user.user_id)
        return self._conversation(user.workspace, (user.user_id,))

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        if not self.capabilities.group_dm:
            raise DeliveryError("group conversations are not supported")
        if not 2 <= len(users) <= self.capabilities.max_group_size:
            raise DeliveryError(f"a group needs 2 to {self.capabilities.max_group_size} people")
        for u in users:
            self._check(u.user_id)
        return self._conversation(users[0].workspace, tuple(sorted(u.user_id for u in users)))

    def _conversation(self, workspace: str, user_ids: tuple[str, ...]) -> ConversationRef:
        prefix = "D" if len(user_ids) == 1 else "G"
        conversation_id = f"{prefix}-{'-'.join(user_ids)}"
        self.members[conversation_id] = user_ids
        return ConversationRef(self.platform, workspace, conversation_id)

    def _check(self, user_id: str) -> None:
        if user_id in self.fail:
            error = self.fail[user_id]
            error.user_id = error.user_id or user_id
            raise error

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        members = self.members.get(conversation.conversation_id)
        if members is None:
            raise DeliveryError("channel_not_found")
        for user_id in members:
            self._check(user_id)
        post = Post(conversation, message, f"m{next(self._ids)}", tag)
        self.posts.append(post)
        for user_id in members:
            self._seen[user_id].append(post)
        return MessageRef(conversation, post.message_id)

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        for post in self.posts:
            if post.tag == tag and post.conversation.conversation_id == conversation.conversation_id:
                return MessageRef(conversation, post.message_id)
        return None

    async def update(self, ref: MessageRef, message: Message) -> None:
        for post in self.posts:
            if post.message_id == ref.message_id:
                post.message = message
                return
        raise DeliveryError("message_not_found")

    async def publish_home(self, user: UserRef, home: Home) -> None:
        self.homes[user.user_id] = home

    async def invite(self, channel: ConversationRef, user: UserRef) -> bool:
        """Adds the person to a channel the test opened with :meth:`channel` (the bot is in it)."""
        self._check(user.user_id)
        members = self.members.get(channel.conversation_id)
        if members is None:
            return False  # the bot is not in that channel
        if user.user_id not in members:
            self.members[channel.conversation_id] = (*members, user.user_id)
        return True

    def channel(self, channel_id: str, *user_ids: str) -> None:
        """A channel the bot is in, with these members (for invitations)."""
        self.members[channel_id] = tuple(user_ids)

    # ---- what people saw ----------------------------------------------------------------------

    def seen(self, user_id: str) -> list[Post]:
        return list(self._seen[user_id])

    def transcript(self, user_id: str) -> list[str]:
        return [p.text for p in self._seen[user_id]]

    def in_conversation(self, conversation_id: str) -> list[Post]:
        return [p for p in self.posts if p.conversation.conversation_id == conversation_id]
