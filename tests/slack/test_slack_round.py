"""A whole buddy round as Slack sees it: signed requests in, Web API calls out, real engine and
database in between. Register through the modal, match, introduction in the group DM, a task,
a response through the modal, a nudge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.slack.messenger import SlackMessenger, static_token
from conversations.bank import sync_builtin
from conversations.clock import FakeClock
from conversations.delivery import Sender
from conversations.engine import Engine
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.helpers import registration
from tests.slack.fake_slack import BOT_TOKEN, BOT_USER, FakeSlack
from tests.slack.harness import SlackHarness

COORDINATOR, DOCTOR, MANAGER = "U0COORD1", "U0AAA001", "U0BBB002"
LETTER = "Dear Buddy, " + " ".join(["word"] * 40) + " <!channel> & <@U0CCC003>"


class Round:
    def __init__(self, slack: SlackHarness, fake: FakeSlack, sender: Sender) -> None:
        self.slack, self.fake, self.sender = slack, fake, sender

    async def say(self, user: str, text: str) -> dict[str, Any] | None:
        sent = await self.slack.command(text, user)
        assert sent.status == 200, sent
        await self.slack.settle()
        return sent.json()

    async def deliver(self) -> None:
        report = await self.sender.drain()
        assert report.failed == 0 and report.unknown == 0, report

    async def register(self, user: str, name: str, role: str) -> None:
        opened = len(self.fake.calls_to("views.open"))
        await self.say(user, "join")
        view = self.fake.calls_to("views.open")[opened].args["view"]
        assert view["callback_id"] == "register"
        sent = await self.slack.submit(view, registration(name, role), user)
        assert sent.status == 200 and sent.text == "", sent.text  # accepted: the modal closes
        await self.slack.settle()

    def group(self) -> str:
        [gid] = [c.id for c in self.fake.conversations.values() if c.kind == "mpim"]
        return gid

    def texts(self, channel: str) -> list[str]:
        return [m["text"] for m in self.fake.messages_in(channel)]

    def dm_texts(self, user: str) -> list[str]:
        return [
            m["text"]
            for c in self.fake.conversations.values()
            if c.kind == "im" and user in c.members
            for m in c.messages
        ]

    def button(self, channel: str, label: str) -> dict[str, Any]:
        for message in reversed(self.fake.messages_in(channel)):
            for block in message["blocks"]:
                for el in block.get("elements", []):
                    if el.get("type") == "button" and el["text"]["text"] == label:
                        return el
        raise AssertionError(f"no {label!r} button in {channel}")


@pytest.fixture
async def round_(fake: FakeSlack, web_client, db, clock: FakeClock) -> AsyncIterator[Round]:
    uow = SqlUnitOfWorkFactory(db)
    messenger = SlackMessenger(web_client, static_token(BOT_TOKEN))
    engine = Engine(
        uow, clock=clock, seed=7, capabilities={"slack": messenger.capabilities}, admins=(COORDINATOR,)
    )
    engine.run(sync_builtin)
    sender = Sender(uow, {"slack": messenger}, clock, on_failure=engine.delivery_failed)
    slack = await SlackHarness(fake, engine.handle).start()
    yield Round(slack, fake, sender)
    await slack.close()


async def test_a_whole_round(round_: Round, fake: FakeSlack, clock: FakeClock) -> None:
    r = round_
    reply = await r.say(COORDINATOR, "cohort create June")
    assert reply and reply["response_type"] == "ephemeral"

    await r.register(DOCTOR, "Asha Patel", "clinician")
    await r.register(MANAGER, "Ben Okafor", "general_manager")
    assert any("registered" in t for t in r.dm_texts(DOCTOR))

    preview = await r.say(COORDINATOR, "match preview")
    shown = str(preview)
    assert "Asha Patel" in shown and "Ben Okafor" in shown
    confirmed = await r.say(COORDINATOR, "match confirm")
    assert confirmed and "1 groups introduced" in str(confirmed)

    await r.deliver()
    group = r.group()
    assert fake.conversations[group].members == {DOCTOR, MANAGER, BOT_USER}
    [intro] = [m for m in fake.messages_in(group) if "Meet your buddy" in m["text"] + str(m["blocks"])]
    assert intro["metadata"]["event_type"] == "buddy_outbox"

    start = clock.now()
    await r.say(COORDINATOR, "task send")
    await r.deliver()
    respond = r.button(group, "Respond")

    opened = len(fake.calls_to("views.open"))
    assert (await r.slack.press(respond["action_id"], respond["value"], DOCTOR, channel=group)).status == 200
    await r.slack.settle()
    form = fake.calls_to("views.open")[opened].args["view"]
    sent = await r.slack.submit(form, {"answer": LETTER}, DOCTOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    assert any("saved your letter" in t for t in r.dm_texts(DOCTOR))

    await r.deliver()
    notices = [m for c in fake.conversations.values() if MANAGER in c.members for m in c.messages
               if "*Asha Patel* sent their letter" in m["text"]]  # fmt: skip
    assert notices

    clock.set(start + timedelta(days=8))
    nudged = await r.say(COORDINATOR, "nudge")
    assert nudged and "Nudged" in str(nudged)
    await r.deliver()
    [nudge] = [t for t in r.dm_texts(MANAGER) if "would love to hear from you" in t]
    assert nudge.startswith("Hello Ben Okafor: Asha Patel")  # the quiet partner, in their DM

    # user text never reaches Slack as a live mention or ping
    posted = [
        str(c.args) for c in fake.calls if c.method in ("chat.postMessage", "views.open", "chat.update")
    ]
    assert not any("<!channel>" in p or "<@U0CCC003>" in p for p in posted)
