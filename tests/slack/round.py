"""A whole buddy round as Slack sees it: the people, the fixture's pieces and what they saw."""

from __future__ import annotations

from typing import Any

from conversations.delivery.sender import Sender
from conversations.engine import Engine
from tests.engine.helpers import registration
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SlackHarness

COORDINATOR, DOCTOR, MANAGER = "U0COORD1", "U0AAA001", "U0BBB002"
LETTER = "Dear Buddy, " + " ".join(["word"] * 40) + " <!channel> & <@U0CCC003>"


class Round:
    def __init__(self, slack: SlackHarness, fake: FakeSlack, sender: Sender, engine: Engine) -> None:
        self.slack, self.fake, self.sender, self.engine = slack, fake, sender, engine

    async def say(self, user: str, text: str) -> dict[str, Any] | None:
        sent = await self.slack.command(text, user)
        assert sent.status == 200, sent
        await self.slack.settle()
        return sent.json()

    async def deliver(self) -> None:
        report = await self.sender.drain()
        assert report.failed == 0 and report.unknown == 0, report

    async def register(self, user: str, name: str, role: str, **overrides: object) -> None:
        opened = len(self.fake.calls_to("views.open"))
        await self.say(user, "join")
        view = self.fake.calls_to("views.open")[opened].args["view"]
        assert view["callback_id"] == "register"
        sent = await self.slack.submit(view, registration(name, role, **overrides), user)
        assert sent.status == 200 and sent.text == "", sent.text  # accepted: the modal closes
        await self.slack.settle()

    async def pair(self, cohort: str = "June") -> None:
        """A new cohort where Asha (clinician) and Ben (general manager) register, are matched and
        introduced."""
        await self.say(COORDINATOR, f"cohort create {cohort}")
        await self.register(DOCTOR, "Asha Patel", "clinician")
        await self.register(MANAGER, "Ben Okafor", "general_manager")
        await self.say(COORDINATOR, "match preview")
        await self.say(COORDINATOR, "match confirm")
        await self.deliver()

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
