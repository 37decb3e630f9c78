"""Queueing messages: every post the engine makes is an outbox row, written in the same
transaction as the change that caused it, under a unique key so that it is queued only once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conversations.core.model import OutboxItem
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.views import Message
from conversations.core.views_codec import message_to_dict
from conversations.ports.store import UnitOfWork


def to_user(user: UserRef) -> dict[str, Any]:
    return {"kind": "user", "platform": user.platform, "workspace": user.workspace, "user_id": user.user_id}


def to_group(users: Sequence[UserRef], topic: str = "") -> dict[str, Any]:
    first = users[0]
    return {
        "kind": "group",
        "platform": first.platform,
        "workspace": first.workspace,
        "user_ids": [u.user_id for u in users],
        "topic": topic,
    }


def to_conversation(conversation: ConversationRef) -> dict[str, Any]:
    return {
        "kind": "conversation",
        "platform": conversation.platform,
        "workspace": conversation.workspace,
        "conversation_id": conversation.conversation_id,
        "extra": conversation.extra,
    }


def to_invite(user: UserRef, channel: ConversationRef, fallback: Message) -> dict[str, Any]:
    """Add ``user`` to ``channel``, then tell them in their DM; if the platform won't add them (the
    bot isn't in the channel, say), send ``fallback`` (a link) instead. ``channel.extra`` carries
    the channel's link, from which a platform may read more (Teams: the team's id)."""
    return {**to_user(user), "kind": "invite", "channel_id": channel.conversation_id, "extra": channel.extra,
            "fallback": message_to_dict(fallback)}  # fmt: skip


def queue(
    uow: UnitOfWork,
    key: str,
    recipient: dict[str, Any],
    message: Message,
    now: datetime,
    *,
    match_id: int | None = None,
) -> bool:
    """Queue ``message``; False (and nothing queued) if ``key`` was queued before."""
    item = OutboxItem(
        key=key[:255],
        recipient=recipient,
        message=message_to_dict(message),
        created_at=now,
        match_id=match_id,
    )
    return uow.outbox.add(item)


def queue_many(
    uow: UnitOfWork,
    entries: Sequence[tuple[str, dict[str, Any], Message]],
    now: datetime,
    *,
    staged: bool = False,
) -> int:
    """Queue several (key, recipient, message) at once, each only if its key is new; how many.
    ``staged`` ones are not sent until a later transaction releases them (``pending``)."""
    status = "staged" if staged else "pending"
    return uow.outbox.add_many(
        [OutboxItem(key=key[:255], recipient=recipient, message=message_to_dict(message), created_at=now,
                    status=status) for key, recipient, message in entries]
    )  # fmt: skip
