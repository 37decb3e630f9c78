"""Teams: every malformed, unauthenticated or unknown activity against the running app (real HTTP):
no 500, the status expected, no row changed, and the server still answers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.live import LiveApp
from tests.teams.fake_teams import activity

SERVICE = "http://127.0.0.1:9/connector"  # never called: none of these activities runs a turn
DROP = object()
WRONG = [DROP, None, 7, "", ["x"]]


def base(kind: str) -> dict[str, Any]:
    if kind == "message":
        return activity("message", SERVICE, text="help", activity_id="m1")
    if kind == "conversationUpdate":
        return activity("conversationUpdate", SERVICE, membersAdded=[{"id": "29:x"}], activity_id="c1")
    return activity(
        "invoke", SERVICE, name="task/fetch", value={"data": {"action_id": "status"}}, activity_id="i1"
    )


def mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[part]
    if value is DROP:
        node.pop(last, None)
    else:
        node[last] = value
    return out


def cases() -> list[Any]:
    out: list[Any] = []

    def add(name: str, body: Any, status: int) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        out.append(pytest.param(raw, status, id=name))

    add("not-json", b"{nope", 400)
    add("not-utf8", b"\xff\xfe{}", 400)
    add("list", [], 400)
    add("string", "x", 400)
    add("null", None, 400)
    add("number", 5, 400)
    add("no-type", {}, 400)
    add("nested-20000", b"[" * 20000 + b"]" * 20000, 400)
    add("nested-objects-20000", b'{"a":' * 20000 + b"1" + b"}" * 20000, 400)
    add("nested-in-value", {**base("message"), "value": json.loads("[" * 100 + "]" * 100)}, 400)
    for kind in ("message", "invoke", "conversationUpdate"):
        for path in ("conversation", "conversation.id", "from", "from.id", "type"):
            for i, value in enumerate(WRONG):
                add(f"{kind}-{path}-{i}", mutate(base(kind), path, value), 400)
        for path, value in [("channelData", "x"), ("channelData", 5), ("channelData.tenant", "x"),
                            ("recipient", "x"), ("entities", "x"), ("entities", [1]), ("membersAdded", "x"),
                            ("membersAdded", [None]), ("attachments", "x"), ("attachments", [2]), ("text", 5),
                            ("text", {"a": 1}), ("id", 5), ("serviceUrl", 5), ("channelId", []),
                            ("conversation.tenantId", 3), ("from.aadObjectId", 4)]:  # fmt: skip
            add(f"{kind}-{path}-{value!r}", mutate(base(kind), path, value), 400)
    add(
        "mention-not-object",
        mutate(base("message"), "entities", [{"type": "mention", "mentioned": "x"}]),
        400,
    )
    add("message-value-string", mutate(base("message"), "value", "x"), 400)
    for name in ("task/fetch", "task/submit", "fileConsent/invoke", "adaptiveCard/action"):
        for i, value in enumerate([None, "x", 5, ["x"]]):
            add(f"{name}-value-{i}", {**base("invoke"), "name": name, "value": value}, 400)
    add("task-fetch-data-string", {**base("invoke"), "value": {"data": "x"}}, 400)
    add("card-action-no-action", {**base("invoke"), "name": "adaptiveCard/action", "value": {}}, 400)
    add(
        "card-action-string", {**base("invoke"), "name": "adaptiveCard/action", "value": {"action": "x"}}, 400
    )
    add("card-action-data-string", {**base("invoke"), "name": "adaptiveCard/action",
                                    "value": {"action": {"type": "Action.Execute", "data": "x"}}}, 400)  # fmt: skip
    add("file-consent-context-string", {**base("invoke"), "name": "fileConsent/invoke",
                                        "value": {"action": "accept", "context": "x"}}, 400)  # fmt: skip
    # well-formed, but nothing Buddy does: 200, no turn
    for kind in ("typing", "event", "endOfConversation", "messageReaction", "trace", "somethingNew"):
        add(f"unknown-{kind}", {**base("message"), "type": kind}, 200)
    add("unknown-invoke", {**base("invoke"), "name": "composeExtension/query", "value": {}}, 200)
    add("invoke-without-name", {**base("invoke"), "name": None}, 200)
    return out


CASES = cases()


def test_the_table_has_at_least_a_hundred_cases() -> None:
    assert len(CASES) >= 100, len(CASES)


@pytest.mark.parametrize(("body", "status"), CASES)
def test_a_malformed_activity_changes_nothing(live: LiveApp, body: bytes, status: int) -> None:
    before = live.tables()
    answer = live.teams(body)
    assert answer.status == status, answer
    assert live.tables() == before
    assert live.healthy()


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "garbage", "Bearer not.a.jwt", "Bearer ¡¡¡"])
def test_a_malformed_authorization_is_401(live: LiveApp, header: str) -> None:
    before = live.tables()
    answer = live.teams(json.dumps(base("message")).encode(), {"Authorization": header})
    assert answer.status == 401, answer
    assert live.tables() == before


def test_a_body_that_is_not_json_content_is_415(live: LiveApp) -> None:
    answer = live.post(
        "/api/messages", b"type=message", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status == 415


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
FIELDS = ["type", "conversation", "from", "recipient", "channelData", "entities", "membersAdded", "value",
          "name", "text", "attachments", "serviceUrl", "id", "replyToId"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from(["message", "invoke", "conversationUpdate"]),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=3),
)
def test_fuzzed_activities_never_get_a_500(live: LiveApp, kind: str, changes: dict[str, Any]) -> None:
    body = {**base(kind), **changes, "serviceUrl": SERVICE}
    answer = live.teams(json.dumps(body).encode())
    assert answer.status in (200, 400), answer
    assert live.healthy()
