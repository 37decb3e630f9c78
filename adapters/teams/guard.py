"""What reaches botbuilder: an activity whose shape the bot can read. The one place Teams
activities are checked before a turn runs (authentication is checked in :mod:`.handler`).

- **400** for an activity the bot cannot read: not JSON, nested deeper than any activity is (a
  20,000-deep body would overflow the parser), ``conversation`` missing or without an ``id``,
  ``channelData`` that is not an object, an invoke's ``value`` of the wrong kind...
- **200** and no turn for a well-formed activity Buddy has no use for (typing, an event, an invoke
  it does not handle): nothing is claimed, saved or changed.

Pure functions over the JSON: no botbuilder, no database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64  # Teams activities nest a dozen levels; cards in a value a few more
# Teams refuses messages over about 28 KB; a person cannot type a longer one to Buddy.
MAX_TEXT_BYTES = 28 * 1024
HANDLED_TYPES = frozenset({"message", "conversationUpdate", "invoke", "installationUpdate"})
HANDLED_INVOKES = frozenset({"task/fetch", "task/submit", "adaptiveCard/action", "fileConsent/invoke"})


class Malformed(ValueError):
    pass


@dataclass(frozen=True)
class Verdict:
    """``status`` 0: run the turn. Otherwise answer ``status`` (and ``body``) without one."""

    status: int = 0
    body: Any = None
    reason: str = ""


RUN = Verdict()


def parse(raw: bytes) -> Any:
    """JSON, refused (``Malformed``) when it is not JSON or is nested too deeply."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Malformed("the body is not UTF-8") from error
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:  # count nesting before parsing: json.loads recurses once per level
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise Malformed("the body is nested too deeply")
        elif ch in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Malformed("the body is not JSON") from error


def inspect(body: Any) -> Verdict:
    try:
        return _activity(body)
    except Malformed as problem:
        return Verdict(400, {"error": str(problem)}, str(problem))


def _activity(body: Any) -> Verdict:
    if not isinstance(body, dict):
        raise Malformed("the body is not an activity")
    kind = _text(body, "type", "the activity", required=True)
    for key in ("id", "channelId", "serviceUrl", "name", "replyToId", "locale", "timestamp"):
        _text(body, key, "the activity")
    if kind not in HANDLED_TYPES:
        return Verdict(200, None, f"no use for {kind[:40]}")
    conversation = body.get("conversation")
    if not isinstance(conversation, dict):
        raise Malformed("conversation must be an object")
    _text(conversation, "id", "conversation", required=True)
    for key in ("conversationType", "tenantId", "name"):
        _text(conversation, key, "conversation")
    sender = body.get("from")
    if not isinstance(sender, dict):
        raise Malformed("from must be an object")
    _text(sender, "id", "from", required=True)
    for key in ("aadObjectId", "name"):
        _text(sender, key, "from")
    recipient = _object(body, "recipient")
    if recipient is not None:
        _text(recipient, "id", "recipient")
    channel_data = _object(body, "channelData")
    if channel_data is not None:
        for key in ("tenant", "team", "channel"):
            inner = _object(channel_data, key)
            if inner is not None:
                _text(inner, "id", f"channelData.{key}")
    for key in ("entities", "membersAdded", "membersRemoved", "attachments"):
        items = body.get(key)
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
            raise Malformed(f"{key} must be a list of objects")
    for entity in body.get("entities") or []:
        _text(entity, "type", "an entity")
        _text(entity, "text", "an entity")
        mentioned = _object(entity, "mentioned")
        if mentioned is not None:
            _text(mentioned, "id", "a mention")
            _text(mentioned, "aadObjectId", "a mention")
    for member in (body.get("membersAdded") or []) + (body.get("membersRemoved") or []):
        _text(member, "id", "a member")
        _text(member, "name", "a member")
    for attachment in body.get("attachments") or []:
        _text(attachment, "contentType", "an attachment")
        _text(attachment, "name", "an attachment")
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise Malformed("text must be a string")
    value = body.get("value")
    if kind == "message" and value is not None and not isinstance(value, dict):
        raise Malformed("a message's value must be an object")
    if kind == "invoke":
        name = body.get("name") or ""
        if name not in HANDLED_INVOKES:
            return Verdict(200, {}, f"no use for invoke {name[:40]}")
        if not isinstance(value, dict):
            raise Malformed(f"{name}: value must be an object")
        if name in ("task/fetch", "task/submit"):
            data = value.get("data")
            if data is not None and not isinstance(data, dict):
                raise Malformed(f"{name}: value.data must be an object")
        if name == "adaptiveCard/action":
            action = _object(value, "action")
            if action is None:
                raise Malformed("adaptiveCard/action: value.action must be an object")
            _text(action, "type", "value.action")
            data = action.get("data")
            if data is not None and not isinstance(data, dict):
                raise Malformed("adaptiveCard/action: value.action.data must be an object")
        if name == "fileConsent/invoke":
            _text(value, "action", "fileConsent/invoke")
            if _object(value, "context") is None and "context" in value and value["context"] is not None:
                raise Malformed("fileConsent/invoke: context must be an object")
            _object(value, "uploadInfo")
    return RUN


def too_long(text: str) -> bool:
    return len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "replace")) > MAX_TEXT_BYTES


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise Malformed(f"{key} must be an object")
    return value


def _text(body: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise Malformed(f"{where}: {key} must be {'a non-empty' if required else 'a'} string")
    return value


def dumps(body: Any) -> str:
    return json.dumps(body)
