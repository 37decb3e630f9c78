"""What reaches Bolt: signed, well-formed and of a bounded size. The one place Slack requests are
checked before any listener runs.

- **401** for anything unsigned: the two headers are checked for shape *before* the signature
  (slack_sdk's verifier raises on a non-integer timestamp or a non-ASCII signature, and Bolt would
  answer 500), then the signature and its age (``SignatureVerifier``).
- **400** for a signed body whose shape the listeners cannot read: not JSON, a JSON list, a payload
  that is a string, ``actions`` that is not a list, a submission without ``user``, a form element
  without ``type``... Each check names what is wrong (it goes to the log and the answer, never
  personal data).
- **200** with a polite word for a well-formed request Buddy has no use for: Slack's
  ``app_rate_limited`` notice (logged), an event or payload type no listener takes, and a command
  longer than Buddy accepts (answered without parsing it).

Nothing here touches the database or the engine, so none of these requests changes anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

# Slack's own limits: a message's text is cut at 40,000 characters and Slack advises under 4,000;
# a slash command's text is a single line typed into the message box. Buddy's longest real
# command (an event with a description) is a few hundred characters.
MAX_COMMAND_TEXT = 4000
TOO_LONG = (
    f"That's too long for a command (I read up to {MAX_COMMAND_TEXT:,} characters). "
    "Type `/buddy help` to see what I can do."
)
MAX_AGE = 300  # seconds a signed request stays valid (Slack's rule; replays after that are refused)
MAX_DEPTH = 64  # Slack's payloads nest a dozen levels at most


@dataclass(frozen=True)
class Verdict:
    """``status`` 0: pass the request to Bolt. Otherwise answer with ``status`` and ``body``.
    ``parsed``: a passing HTTP body as it was read and checked (what Bolt is given)."""

    status: int = 0
    body: Any = None
    reason: str = ""
    parsed: Any = None

    @property
    def passes(self) -> bool:
        return self.status == 0


PASS = Verdict()


class Malformed(ValueError):
    pass


def signed(secret: str, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Both headers present and well-formed, and the signature right and recent."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if not (signature.isascii() and signature.startswith("v0=") and len(signature) <= 128):
        return False
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        return False
    # Computed over the bytes as sent: slack_sdk's verifier decodes the body first and raises on
    # a body that is not UTF-8 (a signed one of those is malformed: 400, not 500).
    expected = (
        "v0="
        + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected.encode(), signature.encode())


def inspect(raw: bytes, content_type: str) -> Verdict:
    """A signed body: pass it on, answer it here, or refuse it as malformed (400)."""
    try:
        text = raw.decode("utf-8")
        if "application/json" in content_type:
            body = _loads(text)
            return _read(_json_body(body), body)
        if "application/x-www-form-urlencoded" in content_type:
            return _form_body(text)
        raise Malformed("the body is neither JSON nor a form")
    except Malformed as problem:
        return Verdict(400, {"error": str(problem)}, str(problem))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Verdict(400, {"error": "the body cannot be read"}, "the body cannot be read")


def inspect_envelope(kind: str, payload: Any) -> Verdict:
    """The same checks for what arrives over Socket Mode, where Slack has already authenticated the
    connection: an envelope's ``payload`` is the body HTTP would have carried, parsed. ``kind`` is
    the envelope's type (``events_api``, ``interactive``, ``slash_commands``)."""
    try:
        _depth(payload)
        if kind == "events_api":
            return _json_body(payload)
        if kind == "interactive":
            return _interactive(payload)
        if kind == "slash_commands":
            if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
                raise Malformed("a command's fields must be strings")
            _text(payload, "command", "a command", required=True)
            return _command(payload)
        return Verdict(200, None, f"no use for {str(kind)[:40]}")
    except Malformed as problem:
        return Verdict(400, {"error": str(problem)}, str(problem))
    except (ValueError, RecursionError):
        return Verdict(400, {"error": "the payload cannot be read"}, "the payload cannot be read")


def _loads(text: str) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Malformed("not JSON") from error
    _depth(value)
    return value


def _depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed("nested too deeply")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


# Fields Bolt itself reads from any body (to build its context) before a listener runs.
_TEXTS = ("type", "token", "team_id", "user_id", "enterprise_id", "api_app_id", "trigger_id", "response_url",
          "context_team_id", "context_enterprise_id", "bot_access_token", "function_execution_id",
          "channel_id", "event_id", "user_team", "source_team")  # fmt: skip
_OBJECTS = (
    "event",
    "message",
    "previous_message",
    "container",
    "view",
    "function_data",
    "state",
    "bot_profile",
)
_IDS = ("user", "channel", "team", "enterprise")  # a string id, or an object with a string ``id``


def _common(body: dict[str, Any], where: str) -> None:
    for key in _TEXTS:
        _text(body, key, where)
    for key in _OBJECTS:
        _object(body, key, where)
    for key in _IDS:
        value = body.get(key)
        if isinstance(value, dict):
            _text(value, "id", f"{where}: {key}")
        elif value is not None and not isinstance(value, str):
            raise Malformed(f"{where}: {key} must be an id or an object")
    for key in ("is_ext_shared_channel", "is_enterprise_install"):  # a form (a command) sends "false"
        if body.get(key) not in (None, True, False, "true", "false"):
            raise Malformed(f"{where}: {key} must be true or false")
    authorizations = body.get("authorizations")
    if authorizations is not None and (
        not isinstance(authorizations, list) or not all(isinstance(a, dict) for a in authorizations)
    ):
        raise Malformed(f"{where}: authorizations must be a list of objects")
    for nested in ("event", "message", "previous_message"):
        if isinstance(body.get(nested), dict):
            _common(body[nested], f"{where}.{nested}")


def _form_body(text: str) -> Verdict:
    fields = parse_qs(text, keep_blank_values=True, max_num_fields=100)
    if any(len(v) != 1 for v in fields.values()):
        raise Malformed("a form field is repeated")
    form = {k: v[0] for k, v in fields.items()}
    if "payload" in form:
        payload = _loads(form["payload"])
        return _read(_interactive(payload), payload)
    if "command" in form:
        return _read(_command(form), form)
    if form.get("ssl_check") == "1":
        return Verdict(parsed=form)  # Bolt answers Slack's certificate check
    raise Malformed("the form has neither a command nor a payload")


def _read(verdict: Verdict, body: Any) -> Verdict:
    return Verdict(parsed=body) if verdict.passes else verdict


def _command(form: dict[str, str]) -> Verdict:
    _common(form, "a command")
    _text(form, "user_id", "a command", required=True)
    _text(form, "team_id", "a command", required=True)
    if not form["command"].startswith("/"):
        raise Malformed("a command must start with /")
    if len(form.get("text", "")) > MAX_COMMAND_TEXT:
        log.info("a command of %d characters answered without parsing it", len(form["text"]))
        return Verdict(200, {"response_type": "ephemeral", "text": TOO_LONG}, "command too long")
    return PASS


def _json_body(body: Any) -> Verdict:
    if not isinstance(body, dict):
        raise Malformed("the JSON body must be an object")
    kind = _text(body, "type", "the body", required=True)
    _common(body, "the body")
    if kind == "url_verification":
        _text(body, "challenge", "url_verification", required=True)
        return PASS
    if kind == "app_rate_limited":
        log.warning(
            "Slack is holding back events for workspace %s (app_rate_limited, minute %s)",
            str(body.get("team_id", ""))[:20],
            str(body.get("minute_rate_limited", ""))[:20],
        )
        return Verdict(200, None, "app_rate_limited")
    if kind != "event_callback":
        return Verdict(200, None, f"no use for {kind[:40]}")
    _text(body, "event_id", "an event", required=True)
    _team(body)
    event = body.get("event")
    if not isinstance(event, dict):
        raise Malformed("event must be an object")
    event_type = _text(event, "type", "event", required=True)
    if event_type not in ("app_home_opened", "member_joined_channel", "message"):
        return Verdict(200, None, f"no use for {event_type[:40]}")
    for key in ("user", "channel", "text", "tab", "channel_type", "subtype", "bot_id", "ts", "team"):
        _text(event, key, "event")
    if event_type in ("app_home_opened", "member_joined_channel"):
        _text(event, "user", event_type, required=True)
    if event_type == "member_joined_channel":
        _text(event, "channel", event_type, required=True)
    return PASS


def _interactive(payload: Any) -> Verdict:
    if not isinstance(payload, dict):
        raise Malformed("payload must be a JSON object")
    kind = _text(payload, "type", "payload", required=True)
    _common(payload, "payload")
    _team(payload)
    for key in ("trigger_id", "response_url", "api_app_id"):
        _text(payload, key, "payload")
    if kind == "block_actions":
        _user(payload)
        for key in ("channel", "container", "message", "view"):
            _object(payload, key, "payload")
        for key in ("id",):
            _text(payload.get("channel") or {}, key, "channel")
        for key in ("channel_id", "message_ts"):
            _text(payload.get("container") or {}, key, "container")
        _text(payload.get("message") or {}, "ts", "message")
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Malformed("actions must be a list of at least one action")
        for action in actions:
            if not isinstance(action, dict):
                raise Malformed("each action must be an object")
            _text(action, "action_id", "an action", required=True)
            _text(action, "value", "an action")
            option = _object(action, "selected_option", "an action")
            if option is not None:
                _text(option, "value", "selected_option")
        return PASS
    if kind in ("view_submission", "view_closed"):
        _user(payload)
        view = payload.get("view")
        if not isinstance(view, dict):
            raise Malformed("view must be an object")
        _text(view, "callback_id", "view", required=True)
        for key in ("private_metadata", "id"):
            _text(view, key, "view")
        blocks = view.get("blocks", [])
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise Malformed("view.blocks must be a list of objects")
        for block in blocks:
            _text(block, "block_id", "a block")
            _text(block, "type", "a block")
        state = _object(view, "state", "view") or {}
        values = state.get("values", {})
        if not isinstance(values, dict):
            raise Malformed("view.state.values must be an object")
        for block_values in values.values():
            if not isinstance(block_values, dict):
                raise Malformed("each block in view.state.values must be an object")
            for element in block_values.values():
                _element(element)
        return PASS
    return Verdict(200, None, f"no use for {kind[:40]}")


def _element(element: Any) -> None:
    if not isinstance(element, dict):
        raise Malformed("a form element must be an object")
    _text(element, "type", "a form element", required=True)
    for key in ("value", "selected_date"):
        if element.get(key) is not None:
            _text(element, key, "a form element")
    option = element.get("selected_option")
    if option is not None:
        if not isinstance(option, dict):
            raise Malformed("selected_option must be an object")
        _text(option, "value", "selected_option")
    for key in ("selected_options", "files"):
        items = element.get(key)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise Malformed(f"{key} must be a list of objects")
        for item in items:
            _text(item, "value" if key == "selected_options" else "id", key)


def _user(payload: dict[str, Any]) -> None:
    user = payload.get("user")
    if not isinstance(user, dict):
        raise Malformed("user must be an object")
    _text(user, "id", "user", required=True)
    for key in ("name", "username", "team_id"):
        _text(user, key, "user")


def _team(body: dict[str, Any]) -> None:
    _text(body, "team_id", "the body")
    team = body.get("team")
    if team is not None and not isinstance(team, dict | str):
        raise Malformed("team must be an object")
    if isinstance(team, dict):
        _text(team, "id", "team")


def _object(body: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise Malformed(f"{where}: {key} must be an object")
    return value


def _text(body: Any, key: str, where: str, *, required: bool = False) -> str:
    if not isinstance(body, dict):
        raise Malformed(f"{where} must be an object")
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise Malformed(f"{where}: {key} must be {'a non-empty' if required else 'a'} string")
    return value
