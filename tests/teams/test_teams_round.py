"""One whole round as Teams sees it, with the real engine and storage: register through the
dialog, match, introduction in a Graph group chat, a task, an answer through the dialog, a nudge.
Everything goes through /api/messages and comes back through the fake Bot Connector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.teams import TeamsSettings
from conversations.core.clock import FakeClock
from conversations.delivery.sender import Sender
from conversations.engine import Engine
from conversations.flows.bank import sync_builtin
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.conftest import START
from tests.engine.helpers import registration
from tests.teams.conftest import graph_settings, start_harness
from tests.teams.fake_teams import account, invoke, message

ADMIN, ALICE, BOB = "rachel", "alice", "bob"


def _as_teams_sends_it(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _texts(card: dict) -> str:
    out = []
    for element in card.get("body", []):
        out.append(element.get("text", ""))
        out.extend(f"{f['title']}: {f['value']}" for f in element.get("facts", []))
    return "\n".join(out)


class Round:
    def __init__(self, h, engine: Engine, sender: Sender, clock: FakeClock) -> None:
        self.h, self.engine, self.sender, self.clock = h, engine, sender, clock

    async def say(self, user: str, text: str, conversation: dict | None = None) -> list[dict]:
        before = len(self.h.connector.cards())
        status, _ = await self.h.post(message(self.h.service_url, text, user=user, conversation=conversation))
        assert status == 200
        await self.sender.drain()
        return self.h.connector.cards()[before:]

    async def press(self, user: str, button: dict, conversation: dict | None = None) -> list[dict]:
        before = len(self.h.connector.cards())
        activity = message(self.h.service_url, "", user=user, value=button["data"], conversation=conversation)
        status, _ = await self.h.post(activity)
        assert status == 200
        await self.sender.drain()
        return self.h.connector.cards()[before:]

    async def fill_dialog(
        self, user: str, opener: dict, values: dict, keep_initial: bool = False
    ) -> tuple[dict | None, list[dict]]:
        """Open the dialog from a card's button, submit it; returns the last answer and new cards.
        ``keep_initial``: inputs not in ``values`` send the value they were shown with, as Teams does."""
        before = len(self.h.connector.cards())
        _, answer = await self.h.post(
            invoke(self.h.service_url, "task/fetch", {"data": opener["data"]}, user=user)
        )
        while answer and answer["task"]["type"] == "continue":
            card = answer["task"]["value"]["card"]["content"]
            data = dict(card["actions"][0]["data"])
            ids = {e["id"] for e in card["body"] if "id" in e}
            if keep_initial:
                data |= {e["id"]: e["value"] for e in card["body"] if "id" in e and "value" in e}
            data |= {k: _as_teams_sends_it(v) for k, v in values.items() if k in ids}
            status, answer = await self.h.post(
                invoke(self.h.service_url, "task/submit", {"data": data}, user=user)
            )
            assert status == 200
            if answer and answer["task"]["type"] == "continue":
                errors = [
                    e["text"] for e in answer["task"]["value"]["card"]["content"]["body"] if e.get("color")
                ]
                pytest.fail(f"the dialog came back with errors: {errors}")
        await self.sender.drain()
        return answer, self.h.connector.cards()[before:]


def _button(cards: list[dict], title: str) -> dict:
    for card in reversed(cards):
        for action in card.get("actions", []) + [a for e in card["body"] for a in e.get("actions", [])]:
            if action["title"] == title:
                return action
    raise AssertionError(f"no button {title!r} in {[_texts(c) for c in cards]}")


async def start_round(db, connector, graph) -> Round:  # type: ignore[no-untyped-def]
    """The Teams app on loopback around the real engine and storage, Graph group chats on."""
    clock = FakeClock(START)
    settings = TeamsSettings(dev_mode=True, service_url=connector.url, graph=graph_settings(graph))
    h = await start_harness(db, connector, settings)
    uow = SqlUnitOfWorkFactory(db)
    engine = Engine(
        uow,
        clock=clock,
        seed=7,
        capabilities={"teams": h.teams.messenger.capabilities},
        admins=(f"tenant-1:{ADMIN}",),
    )
    engine.run(sync_builtin)
    sender = Sender(uow, {"teams": h.teams.messenger}, clock, on_failure=engine.delivery_failed)
    h.engine.answer = engine.handle
    return Round(h, engine, sender, clock)


async def test_a_whole_round_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    h, clock = r.h, r.clock
    for user in (ALICE, BOB):
        connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    try:
        await r.say(ADMIN, "cohort create Test Cohort")

        # register through the dialog: "join" answers with a card whose button opens it
        for user, name, role in ((ALICE, "Asha Patel", "clinician"), (BOB, "Ben Okafor", "general_manager")):
            cards = await r.say(user, "join")
            opener = cards[-1]["actions"][0]
            assert opener["data"]["msteams"] == {"type": "task/fetch"}
            answer, cards = await r.fill_dialog(user, opener, registration(name, role))
            assert answer is None  # the dialog closed
            assert "registered" in _texts(cards[-1]).lower() or cards

        # the coordinator matches them: a real group chat is created through Graph
        preview = await r.say(ADMIN, "match preview")
        assert "**Asha Patel** + **Ben Okafor**" in _texts(preview[-1])
        await r.say(ADMIN, "match confirm")
        [chat] = [c for c in graph.calls if c.path == "/graph/chats"]
        assert sorted(m["user@odata.bind"] for m in chat.body["members"]) == [
            "https://graph.microsoft.com/v1.0/users('alice')",
            "https://graph.microsoft.com/v1.0/users('bob')",
        ]
        group_id = "19:chat-1@thread.v2"
        [intro] = connector.cards(group_id)
        assert "Meet your buddy" in _texts(intro)

        # a task is posted to the group; Alice presses Respond there and answers in the dialog
        await r.say(ADMIN, "task send")
        task = connector.cards(group_id)[-1]
        assert "Task 1" in _texts(task) or "Problem page" in _texts(task)
        group = {"id": group_id, "conversationType": "groupChat", "tenantId": "tenant-1", "isGroup": True}
        opened = await r.press(ALICE, _button([task], "Respond"), conversation=group)
        opener = _button(opened, opened[-1]["actions"][0]["title"])
        answer, cards = await r.fill_dialog(
            ALICE, opener, {"answer": "Dear Ben, a short letter about rotas."}
        )
        assert answer is None
        everything = "\n".join(_texts(c) for c in connector.cards())
        assert "saved your letter" in everything
        assert "**Asha Patel** sent their letter" in everything

        # days later Ben is still quiet: the coordinator nudges
        clock.set(START + timedelta(days=7))
        nudged = await r.say(ADMIN, "nudge")
        assert "Nudged" in _texts(nudged[0])
        assert "Asha Patel would love to hear from you" in "\n".join(_texts(c) for c in connector.cards())
    finally:
        await h.server.close()
