"""Pure translation of incoming Activity JSON (dicts) into neutral interactions.

Kept free of botbuilder types, so a move to the Microsoft 365 Agents SDK (same Activity protocol)
reuses it unchanged.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from adapters.teams.references import TeamsUser, reference_from_activity, tenant_of
from adapters.teams.render_cards import FORM_KEY, OPEN_FORM_KEY
from conversations.core.interactions import (
    Actor,
    ButtonPressed,
    ChatKind,
    CommandInvoked,
    Installed,
    Interaction,
    MemberJoined,
)
from conversations.core.refs import ConversationRef, MessageRef, UserRef

PLATFORM = "teams"
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def user_id_of(account: dict[str, Any] | None) -> str:
    account = account or {}
    return str(account.get("aadObjectId") or account.get("id") or "")


def actor_of(activity: dict[str, Any], known: TeamsUser | None = None) -> Actor:
    sender = activity.get("from") or {}
    tenant = tenant_of(activity)
    return Actor(
        ref=UserRef(PLATFORM, tenant, user_id_of(sender)),
        display_name=str(sender.get("name") or (known.display_name if known else "")),
        email=known.upn if known else "",
    )


def conversation_of(activity: dict[str, Any]) -> ConversationRef | None:
    conversation = activity.get("conversation") or {}
    if not conversation.get("id"):
        return None
    reference = reference_from_activity(activity)
    return ConversationRef(
        PLATFORM, tenant_of(activity), conversation["id"], json.dumps(reference, sort_keys=True)
    )


def chat_of(activity: dict[str, Any]) -> ChatKind:
    """Where a message was sent: the personal chat with Buddy, a group chat, or a channel."""
    kind = (activity.get("conversation") or {}).get("conversationType") or "personal"
    return {"personal": ChatKind.DIRECT, "groupChat": ChatKind.GROUP}.get(kind, ChatKind.CHANNEL)


def command_text(activity: dict[str, Any], resolve: Callable[[str], str | None] | None = None) -> str:
    """The message text with the bot's @mention removed and other mentions as ``@<user id>``.

    ``resolve`` maps a Bot Framework id (``29:...``) to an AAD object id when the entity lacks one.
    """
    text = str(activity.get("text") or "")
    bot_id = (activity.get("recipient") or {}).get("id")
    replacements: dict[str, str] = {}
    for entity in activity.get("entities") or []:
        if entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        tag = entity.get("text") or ""
        if not tag:
            continue
        if mentioned.get("id") == bot_id:
            replacements[tag] = ""
        else:
            target = mentioned.get("aadObjectId") or (resolve(mentioned.get("id", "")) if resolve else None)
            replacements[tag] = "@" + str(target or mentioned.get("id") or "")
    for tag, replacement in replacements.items():
        text = text.replace(tag, replacement)
    text = _AT.sub(lambda m: m.group(1), text)  # a mention without an entity: keep the name
    text = html.unescape(_TAG.sub(" ", text)).replace("\xa0", " ")
    return " ".join(text.split())


def _bot_added(activity: dict[str, Any]) -> bool:
    bot_id = (activity.get("recipient") or {}).get("id")
    return any((m or {}).get("id") == bot_id for m in activity.get("membersAdded") or [])


def interactions_of(
    activity: dict[str, Any],
    known: TeamsUser | None = None,
    resolve: Callable[[str], str | None] | None = None,
) -> list[Interaction]:
    """The interactions in a message or conversationUpdate (invokes are handled by the bot)."""
    kind = activity.get("type")
    actor = actor_of(activity, known)
    conversation = conversation_of(activity)
    if kind == "message":
        value = activity.get("value")
        if isinstance(value, dict) and "action_id" in value:
            message = None
            if conversation is not None and activity.get("replyToId"):
                message = MessageRef(conversation, str(activity["replyToId"]))
            return [
                ButtonPressed(
                    actor, str(value["action_id"]), str(value.get("value", "")), conversation, message
                )
            ]
        if isinstance(value, dict) and (FORM_KEY in value or OPEN_FORM_KEY in value):
            return []  # a dialog's data sent as a plain message (a client without dialogs): ignore
        text = command_text(activity, resolve)
        return [CommandInvoked(actor, text, conversation, chat_of(activity))] if text else []
    if kind == "conversationUpdate":
        if _bot_added(activity):
            return [Installed(actor, conversation)]
        bot_id = (activity.get("recipient") or {}).get("id")
        conversation_type = (activity.get("conversation") or {}).get("conversationType")
        if conversation is None or conversation_type != "channel":
            return []
        joined: list[Interaction] = []
        for member in activity.get("membersAdded") or []:
            if (member or {}).get("id") == bot_id:
                continue
            ref = UserRef(PLATFORM, tenant_of(activity), user_id_of(member))
            joined.append(MemberJoined(Actor(ref, str(member.get("name") or "")), conversation))
        return joined
    return []
