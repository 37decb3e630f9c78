"""Every button and form that takes an id, pressed and submitted over real HTTP with crafted values
(another group, another cohort, another workspace, a person who left, a person who was erased,
junk), on Slack and on Teams, against the whole ``buddybot serve`` app on loopback.

Each answers 200 with a polite word to the person who pressed, no row changes, and nobody else
hears anything. The table of routes comes from the route table, so a new button is covered the
day it is added."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.teams.render_cards import FORM_KEY
from conversations.catalogue import table
from conversations.core.routes import ButtonRoute, FormRoute, Who
from tests.security.live import ADMIN, Answer, LiveApp
from tests.security.world import (
    ALPHA_COORDINATOR,
    HIDDEN_FROM_COORDINATOR,
    HIDDEN_FROM_MEMBER,
    MEMBER,
    VICTIMS,
    World,
    build,
    id_routes,
)
from tests.slack.fake_slack import TEAM
from tests.teams.fake_teams import TENANT, account, personal_conversation

OTHER_TEAM, OTHER_TENANT = "T0OTHER09", "tenant-9"
TEAMS_ADMIN = "ada"
# What any request may write: the adapters' notes of who they have talked to and what they have seen.
BOOKKEEPING = (
    "slack_event_ids",
    "slack_profiles",
    "teams_seen_activities",
    "teams_users",
    "teams_conversation_references",
)


def _attacker(route: ButtonRoute | FormRoute) -> str:
    """Alpha's coordinator for coordinators' routes; a member of Alpha for everyone else's."""
    return ALPHA_COORDINATOR if route.who in (Who.COORDINATOR, Who.ORGANISER, Who.ADMIN) else MEMBER


def _rows(live: LiveApp) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows for name, rows in live.tables().items() if not any(b in name for b in BOOKKEEPING)}


def _attack(
    live: LiveApp,
    world: World,
    send: Callable[[ButtonRoute | FormRoute, str, str], str],
    *,
    every: bool = True,
) -> int:
    """Every route with every crafted value (or, ``every`` false, one of each kind and a little
    junk: Slack's run has them all); ``send`` returns what the person was told."""
    before = _rows(live)
    tried = 0
    routes = id_routes(table().routes)
    assert len(routes) >= 30, [r for r in routes]
    for route in routes:
        attacker = _attacker(route)
        hidden = HIDDEN_FROM_COORDINATOR if attacker == ALPHA_COORDINATOR else HIDDEN_FROM_MEMBER
        values = world.crafted(route.target, attacker == ALPHA_COORDINATOR)
        if not every:
            values = list({label: (label, v) for label, v in reversed(values)}.values()) + values[-3:]
        for label, value in values:
            said = send(route, attacker, value)
            where = (
                type(route).__name__,
                getattr(route, "action_id", getattr(route, "form_id", "")),
                label,
                value,
            )
            assert said.strip(), ("nothing was said to the person who pressed", where)
            assert not [n for n in hidden if n in said], ("another person's name was shown", where, said)
            tried += 1
    after = _rows(live)
    changed = {
        t: sorted(set(after.get(t, [])) ^ set(before[t]))[:6] for t in before if before[t] != after.get(t)
    }
    assert not changed, changed
    assert live.healthy()
    return tried


def _wait(seen: Callable[[], int], count: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while seen() <= count and time.monotonic() < deadline:
        time.sleep(0.005)


# ---- Slack ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, World]]:
    live = LiveApp(str(tmp_path_factory.mktemp("crafted") / "slack.db"),
                   admins=(f"{TEAM}:{ADMIN}", f"{OTHER_TEAM}:BA")).start()  # fmt: skip
    world = build(live, "slack", TEAM, OTHER_TEAM, ADMIN, "BA")
    yield live, world
    live.close()


def test_slack_every_button_and_form_refuses_crafted_ids_over_http(slack):
    live, world = slack
    fake = live.fake_slack

    def heard() -> int:
        return len(fake.calls) + len(fake.responses)

    def send(route: ButtonRoute | FormRoute, user: str, value: str) -> str:
        who = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}
        if isinstance(route, ButtonRoute):
            payload: dict[str, Any] = {
                "type": "block_actions", "team": {"id": TEAM}, "user": who, "api_app_id": "A0BUDDY1",
                "trigger_id": fake.trigger(), "response_url": fake.response_url(),
                "actions": [{"type": "button", "action_id": route.action_id, "block_id": "b1", "value": value,
                             "text": {"type": "plain_text", "text": "Go"}, "action_ts": "1.2"}],
                "container": {"type": "message", "message_ts": "1.1", "channel_id": "D0ATTACK"},
                "channel": {"id": "D0ATTACK"}, "message": {"ts": "1.1", "text": "x"},
            }  # fmt: skip
        else:
            payload = {
                "type": "view_submission", "team": {"id": TEAM}, "user": who, "api_app_id": "A0BUDDY1",
                "trigger_id": fake.trigger(),
                "view": {"id": "V0ATTACK", "type": "modal", "callback_id": route.form_id, "private_metadata": value,
                         "blocks": [], "state": {"values": {}}},
            }  # fmt: skip
        calls, responses, count = len(fake.calls), len(fake.responses), heard()
        answer = live.slack(
            urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
        )
        assert answer.status == 200, (route, value, answer)
        if not answer.body:
            _wait(heard, count)
        time.sleep(0.01)
        new_calls = fake.calls[calls:]
        for call in new_calls:
            assert call.args.get("user", user) == user, ("told someone else", call.method, call.args)
        return (
            answer.body.decode()
            + json.dumps([c.args for c in new_calls])
            + json.dumps(fake.responses[responses:])
        )

    tried = _attack(live, world, send)
    assert tried >= 500
    victims_dms = [c for c in fake.conversations.values() if c.kind == "im" and set(c.members) & set(VICTIMS)]
    assert not [m for c in victims_dms for m in c.messages], "a victim heard from Buddy"


# ---- Teams ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, World]]:
    live = LiveApp(str(tmp_path_factory.mktemp("crafted") / "teams.db"),
                   admins=(f"{TENANT}:{TEAMS_ADMIN}", f"{OTHER_TENANT}:BA")).start()  # fmt: skip
    world = build(live, "teams", TENANT, OTHER_TENANT, TEAMS_ADMIN, "BA")
    yield live, world
    live.close()


def test_teams_every_button_and_form_refuses_crafted_ids_over_http(teams):
    live, world = teams
    connector = live.connector
    counter = iter(range(10**9))

    def send(route: ButtonRoute | FormRoute, user: str, value: str) -> str:
        activity: dict[str, Any] = {
            "id": f"attack-{next(counter)}", "timestamp": "2025-01-06T09:00:00.000Z", "serviceUrl": connector.url,
            "channelId": "msteams", "from": account(user), "conversation": personal_conversation(user),
            "recipient": {"id": "28:bot-app-id", "name": "Buddy"}, "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
        }  # fmt: skip
        if isinstance(route, ButtonRoute):
            activity |= {
                "type": "message",
                "text": "",
                "value": {"action_id": route.action_id, "value": value},
            }
        else:
            activity |= {"type": "invoke", "name": "task/submit",
                         "value": {"data": {FORM_KEY: {"id": route.form_id, "state": value, "fields": []}}}}  # fmt: skip
        sent = len(connector.calls)
        answer: Answer = live.teams(json.dumps(activity).encode())
        assert answer.status == 200, (route, value, answer)
        new = connector.calls[sent:]
        mine = personal_conversation(user)["id"]
        for call in new:
            assert mine in call.path, ("told someone else", call.path)
        return answer.body.decode() + json.dumps([c.body for c in new])

    tried = _attack(live, world, send, every=False)
    assert tried >= 200
    assert not [c for c in connector.calls if any(f"personal-{v}" in c.path for v in VICTIMS)]
