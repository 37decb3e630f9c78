"""Slack payloads -> neutral interactions. Pure functions over the JSON Slack sends."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.slack.messenger import PLATFORM
from adapters.slack.render_blocks import CHECKBOX_VALUE, base_action_id
from conversations.core.interactions import (
    Actor,
    ButtonPressed,
    ChatKind,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
)
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import FormValue

JSON = dict[str, Any]

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")


def normalise_command_text(text: str) -> str:
    """``/buddy`` text as the engine's parser wants it: mentions as ``@U123``, links as their URL,
    and Slack's ``&amp;``/``&lt;``/``&gt;`` back to characters. (The manifest sets should_escape.)"""
    text = _USER.sub(r"@\1", text or "")
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _SUBTEAM.sub(lambda m: "@" + (m.group(2) or m.group(1)).lstrip("@"), text)
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def team_of(body: JSON) -> str:
    """The workspace a payload belongs to (events, commands and interactive payloads differ)."""
    team = body.get("team")
    return (
        body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else None)
        or (body.get("user") or {}).get("team_id")
        or (body.get("event") or {}).get("team")
        or ""
    )


def actor(team: str, user_id: str, display_name: str = "", email: str = "") -> Actor:
    return Actor(UserRef(PLATFORM, team, user_id), display_name=display_name, email=email)


def conversation(team: str, channel_id: str | None) -> ConversationRef | None:
    return ConversationRef(PLATFORM, team, channel_id) if channel_id else None


def chat_of_command(body: JSON) -> ChatKind:
    """Where ``/buddy`` was typed: a DM's id starts with D; a group DM is named ``mpdm-…``."""
    channel, name = str(body.get("channel_id") or ""), str(body.get("channel_name") or "")
    if channel.startswith("D") or name == "directmessage":
        return ChatKind.DIRECT
    return ChatKind.GROUP if name.startswith("mpdm-") else ChatKind.CHANNEL


def command(body: JSON, display_name: str = "", email: str = "") -> CommandInvoked:
    team = team_of(body)
    return CommandInvoked(
        actor(team, body["user_id"], display_name or body.get("user_name", ""), email),
        normalise_command_text(body.get("text", "")),
        conversation(team, body.get("channel_id")),
        chat_of_command(body),
    )


def direct_message(body: JSON, display_name: str = "", email: str = "") -> CommandInvoked | None:
    """Words typed in the app's DM (``message.im``), as a command; None for what is not a person's
    plain new message (the bot's own posts, edits, deletions, joins)."""
    event = body.get("event") or {}
    if (
        event.get("channel_type") != "im"
        or event.get("subtype")
        or event.get("bot_id")
        or not event.get("user")
    ):
        return None
    text = normalise_command_text(event.get("text") or "")
    team = team_of(body)
    return CommandInvoked(
        actor(team, event["user"], display_name, email),
        text,
        conversation(team, event.get("channel")),
        ChatKind.DIRECT,
    )


def button(body: JSON, display_name: str = "", email: str = "") -> ButtonPressed | None:
    """The first action of a ``block_actions`` payload; None if it carries none."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    team = team_of(body)
    user = body.get("user") or {}
    conv = conversation(
        team, (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    )
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    value = action.get("value")
    if value is None and action.get("selected_option"):
        value = action["selected_option"].get("value")
    return ButtonPressed(
        actor(team, user["id"], display_name or user.get("name") or user.get("username", ""), email),
        base_action_id(action.get("action_id", "")),
        value or "",
        conv,
        MessageRef(conv, ts) if conv and ts else None,
    )


def element_value(element: JSON, files: Mapping[str, str] | None = None) -> FormValue:
    """An input's value; for a ``file_input``, the text of its first file as fetched (``files``,
    by file id: see :mod:`adapters.slack.files`)."""
    kind = element.get("type")
    if kind == "file_input":
        ids = [str(f.get("id")) for f in element.get("files") or [] if isinstance(f, dict)]
        return (files or {}).get(ids[0], "") if ids else ""
    if kind == "checkboxes":
        return any(o.get("value") == CHECKBOX_VALUE for o in element.get("selected_options") or [])
    if kind in ("multi_static_select", "multi_external_select"):
        return tuple(o["value"] for o in element.get("selected_options") or [])
    if kind in ("static_select", "external_select", "radio_buttons"):
        return ((element.get("selected_option") or {}).get("value")) or ""
    if kind == "datepicker":
        return element.get("selected_date") or ""
    return element.get("value") or ""


def form_values(view: JSON, files: Mapping[str, str] | None = None) -> dict[str, FormValue]:
    """``view.state.values`` keyed by field id (our block_id)."""
    values: dict[str, FormValue] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            values[block_id] = element_value(element, files)
    return values


def form_submission(
    body: JSON, display_name: str = "", email: str = "", files: Mapping[str, str] | None = None
) -> FormSubmitted:
    view = body["view"]
    user = body.get("user") or {}
    return FormSubmitted(
        actor(team_of(body), user["id"], display_name or user.get("name") or user.get("username", ""), email),
        view.get("callback_id", ""),
        view.get("private_metadata", ""),
        form_values(view, files),
    )


def input_block_ids(view: JSON) -> list[str]:
    """The block ids Slack will accept in ``response_action: errors``, in display order."""
    ids = [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]
    return ids or list(((view.get("state") or {}).get("values") or {}).keys())


def field_errors(errors: dict[str, str], view: JSON) -> dict[str, str]:
    """Engine errors keyed to block ids; a form-level error (``_form``, or a field the view lacks)
    goes beside the first input so the person sees it."""
    ids = input_block_ids(view)
    out: dict[str, str] = {}
    for key, message in errors.items():
        target = key if key in ids else (ids[0] if ids else key)
        out[target] = f"{out[target]} {message}" if target in out else message
    return {k: v[:2000] for k, v in out.items()}


def member_joined(body: JSON, display_name: str = "", email: str = "") -> MemberJoined:
    event = body["event"]
    team = team_of(body)
    return MemberJoined(
        actor(team, event["user"], display_name, email), ConversationRef(PLATFORM, team, event["channel"])
    )


def home_opened(body: JSON, display_name: str = "", email: str = "") -> HomeOpened:
    return HomeOpened(actor(team_of(body), body["event"]["user"], display_name, email))
