"""Slack: every malformed, unsigned or unknown request against the running app (real HTTP):
no 500, the status expected, no row changed, and the server still answers.

401 unsigned, 400 signed but malformed, 200 well-formed but of no use to Buddy (with a polite
word where a person is waiting)."""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.live import LiveApp, signature
from tests.slack.fake_slack import TEAM

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

COMMAND = {"command": "/buddy", "text": "help", "team_id": TEAM, "user_id": "U0AAA001", "user_name": "asha",
           "channel_id": "D1", "trigger_id": "1.2.3"}  # fmt: skip
ACTION = {
    "type": "block_actions",
    "team": {"id": TEAM},
    "user": {"id": "U0AAA001", "username": "asha", "team_id": TEAM},
    "trigger_id": "1.2.3",
    "actions": [{"type": "button", "action_id": "status", "block_id": "b", "value": "1"}],
    "channel": {"id": "D1"},
    "container": {"type": "message", "channel_id": "D1", "message_ts": "1.1"},
    "message": {"ts": "1.1"},
}
SUBMISSION = {
    "type": "view_submission",
    "team": {"id": TEAM},
    "user": {"id": "U0AAA001", "username": "asha", "team_id": TEAM},
    "view": {
        "id": "V1",
        "callback_id": "register",
        "private_metadata": "",
        "blocks": [],
        "state": {"values": {"name": {"name": {"type": "plain_text_input", "value": "Asha"}}}},
    },  # fmt: skip
}
EVENT = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev1", "api_app_id": "A1",
         "event": {"type": "app_home_opened", "user": "U0AAA001", "tab": "home"}}  # fmt: skip


def mutate(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``base`` with ``path`` (dotted; ``actions.0.x``) set to ``value``, or removed for ``DROP``."""
    out = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DROP:
        del node[key]
    else:
        node[key] = value
    return out


DROP = object()
WRONG = [DROP, 7, ["x"], {"x": 1}, True]  # not what the field must be (or missing)


def payload(body: Any) -> tuple[bytes, str]:
    return urlencode({"payload": body if isinstance(body, str) else json.dumps(body)}).encode(), FORM


def form(fields: dict[str, Any]) -> tuple[bytes, str]:
    return urlencode(fields).encode(), FORM


def raw_json(body: Any) -> tuple[bytes, str]:
    return (body if isinstance(body, bytes) else json.dumps(body).encode()), JSON_TYPE


def cases() -> list[Any]:
    """(id, body, content type, expected status, headers override)"""
    out: list[Any] = []

    def add(name: str, made: tuple[bytes, str], status: int) -> None:
        out.append(pytest.param(made[0], made[1], status, id=name))

    # signed, but the body cannot be read
    add("json-not-json", raw_json(b"{not json"), 400)
    add("json-list", raw_json([1, 2]), 400)
    add("json-string", raw_json("x"), 400)
    add("json-null", raw_json(None), 400)
    add("json-number", raw_json(3), 400)
    add("json-no-type", raw_json({}), 400)
    add("json-type-number", raw_json({"type": 5}), 400)
    add("json-not-utf8", (b"\xff\xfe{}", JSON_TYPE), 400)
    add("json-nested-20000", raw_json(b"[" * 20000 + b"]" * 20000), 400)
    add("json-objects-nested-20000", raw_json(b'{"a":' * 20000 + b"1" + b"}" * 20000), 400)
    add("text-plain", (b"hello", "text/plain"), 400)
    add("form-empty", form({}), 400)
    add("form-neither", form({"x": "1"}), 400)
    add("form-repeated", (b"payload=%7B%7D&payload=%7B%7D", FORM), 400)
    add("url-verification-no-challenge", raw_json({"type": "url_verification"}), 400)
    # payloads that are not objects
    for name, body in [("not-json", "{oops"), ("list", "[]"), ("string", '"x"'), ("null", "null"),
                       ("number", "1"), ("nested", "[" * 20000 + "]" * 20000), ("no-type", "{}")]:  # fmt: skip
        add(f"payload-{name}", payload(body), 400)
    # block_actions with each field wrong
    for path in ["user", "user.id", "actions", "actions.0", "actions.0.action_id"]:
        for i, value in enumerate(WRONG):
            add(f"action-{path}-{i}", payload(mutate(ACTION, path, value)), 400)
    for path in ["channel", "container", "message", "actions.0.value", "team"]:
        add(f"action-{path}-number", payload(mutate(ACTION, path, 9)), 400)
    add("action-actions-string", payload(mutate(ACTION, "actions", "status")), 400)
    add("action-selected-option-string", payload(mutate(ACTION, "actions.0.selected_option", "x")), 400)
    add("action-user-id-empty", payload(mutate(ACTION, "user.id", "")), 400)
    # view_submission with each field wrong
    for path in ["user", "user.id", "view", "view.state.values", "view.state.values.name",
                 "view.state.values.name.name", "view.state.values.name.name.type"]:  # fmt: skip
        for i, value in enumerate(WRONG):
            if value is DROP and path in (
                "view.state.values",
                "view.state.values.name",
                "view.state.values.name.name",
            ):
                continue  # no values at all is a well-formed, empty form
            add(f"submission-{path}-{i}", payload(mutate(SUBMISSION, path, value)), 400)
    for path in ["view.callback_id", "view.private_metadata", "view.blocks", "view.state"]:
        add(f"submission-{path}-number", payload(mutate(SUBMISSION, path, 4)), 400)
    for key, value in [("selected_option", "x"), ("selected_options", "x"), ("selected_options", [1]),
                       ("files", "x"), ("files", [3]), ("value", 5), ("selected_date", [])]:  # fmt: skip
        add(
            f"submission-element-{key}-{value!r}",
            payload(mutate(SUBMISSION, f"view.state.values.name.name.{key}", value)),
            400,
        )
    # commands
    for path in ["user_id", "team_id"]:
        add(f"command-no-{path}", form({k: v for k, v in COMMAND.items() if k != path}), 400)
        add(f"command-empty-{path}", form({**COMMAND, path: ""}), 400)
    add("command-no-slash", form({**COMMAND, "command": "buddy"}), 400)
    # events
    for path in ["event", "event.type", "event_id"]:
        for i, value in enumerate(WRONG):
            add(f"event-{path}-{i}", raw_json(mutate(EVENT, path, value)), 400)
    for path in ["event.user", "event.tab"]:
        add(f"event-{path}-number", raw_json(mutate(EVENT, path, 12)), 400)
    add("event-home-no-user", raw_json(mutate(EVENT, "event.user", DROP)), 400)
    add(
        "event-joined-no-channel",
        raw_json({**EVENT, "event": {"type": "member_joined_channel", "user": "U1"}}),
        400,
    )
    add(
        "event-message-user-object",
        raw_json({**EVENT, "event": {"type": "message", "user": {"id": "U1"}}}),
        400,
    )
    # well-formed, but nothing Buddy answers: 200, nothing done
    add("app-rate-limited", raw_json({"type": "app_rate_limited", "token": "t", "team_id": TEAM,
                                      "minute_rate_limited": 1518467820, "api_app_id": "A1"}), 200)  # fmt: skip
    add("unknown-body-type", raw_json({"type": "something_new"}), 200)
    add("unknown-event", raw_json({**EVENT, "event": {"type": "reaction_added", "user": "U1"}}), 200)
    add("unknown-payload", payload({"type": "shortcut", "user": {"id": "U1"}, "callback_id": "x"}), 200)
    add("block-suggestion", payload({"type": "block_suggestion", "user": {"id": "U1"}, "value": "a"}), 200)
    add("command-too-long", form({**COMMAND, "text": "match swap " * 90000}), 200)
    return out


CASES = cases()


def test_the_table_has_at_least_a_hundred_cases() -> None:
    assert len(CASES) >= 100, len(CASES)


@pytest.mark.parametrize(("body", "content_type", "status"), CASES)
def test_a_malformed_request_changes_nothing(
    live: LiveApp, body: bytes, content_type: str, status: int
) -> None:
    before = live.tables()
    answer = live.slack(body, content_type)
    assert answer.status == status, answer
    time.sleep(0.02)  # anything the app did after answering would be in the tables now
    assert live.tables() == before
    assert live.healthy()


UNSIGNED = [
    pytest.param({"timestamp": "abc"}, id="timestamp-abc"),
    pytest.param({"timestamp": "1.5"}, id="timestamp-1.5"),
    pytest.param({"timestamp": ""}, id="timestamp-empty"),
    pytest.param({"timestamp": "-5"}, id="timestamp-negative"),
    pytest.param({"timestamp": "1e9"}, id="timestamp-exponent"),
    pytest.param({"timestamp": "¹²³"}, id="timestamp-superscript-digits"),
    pytest.param({"timestamp": "99999999999999999999"}, id="timestamp-huge"),
    pytest.param({"timestamp": str(int(time.time()) - 3600)}, id="timestamp-an-hour-old"),
    pytest.param({"sig": ""}, id="signature-missing"),
    pytest.param({"sig": "v0=é" + "a" * 63}, id="signature-non-ascii"),
    pytest.param({"sig": "v0=" + "0" * 64}, id="signature-wrong"),
    pytest.param({"sig": "v1=abc"}, id="signature-other-version"),
    pytest.param({"sig": "v0="}, id="signature-empty-digest"),
]


@pytest.mark.parametrize("headers", UNSIGNED)
@pytest.mark.parametrize("made", [form(COMMAND), payload(ACTION), raw_json(EVENT), raw_json([1])],
                         ids=["command", "action", "event", "malformed"])  # fmt: skip
def test_an_unsigned_request_is_401(live: LiveApp, headers: dict[str, str], made: tuple[bytes, str]) -> None:
    before = live.tables()
    ts = headers.get("timestamp")
    sig = headers.get("sig")
    if sig is None and ts is not None:
        sig = signature(made[0], ts)  # rightly signed, but over a timestamp that is not valid
    answer = live.slack(made[0], made[1], timestamp=ts, sig=sig)
    assert answer.status == 401, answer
    assert live.tables() == before
    assert live.healthy()


def test_a_too_long_command_gets_a_polite_answer_without_parsing(live: LiveApp) -> None:
    started = time.monotonic()
    answer = live.slack(*form({**COMMAND, "text": "x " * 450_000}))
    assert answer.status == 200 and "too long for a command" in json.loads(answer.body)["text"]
    assert time.monotonic() - started < 3.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
FIELDS = ["type", "user", "actions", "view", "team", "channel", "container", "message", "trigger_id",
          "response_url", "event", "event_id", "team_id", "user_id", "command", "text", "state"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    base=st.sampled_from(["action", "submission", "event", "command"]),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=3),
)
def test_fuzzed_requests_never_get_a_500(live: LiveApp, base: str, changes: dict[str, Any]) -> None:
    if base == "command":
        made = form(
            {**COMMAND, **{k: json.dumps(v) if not isinstance(v, str) else v for k, v in changes.items()}}
        )
    elif base == "event":
        made = raw_json({**EVENT, **changes})
    else:
        made = payload({**(ACTION if base == "action" else SUBMISSION), **changes})
    answer = live.slack(*made)
    assert answer.status in (200, 400), answer
    assert live.healthy()
