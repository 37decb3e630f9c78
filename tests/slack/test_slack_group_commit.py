"""Group commit over HTTP: many people's commands and clicks arriving together at the real Slack
adapter and engine (as ``buddybot serve`` wires them: a runner with ``Engine.handle_many``). Each
person gets their own answer, in the ack or at their ``response_url``; every row changes once;
and the calls that waited together were committed together."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy import event, text

from adapters.runner import EngineRunner
from adapters.slack.app import build_app
from adapters.slack.background import Background
from conversations.core.interactions import Interaction
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.harness import SIGNING_SECRET, SlackHarness
from tests.slack.round import COORDINATOR, Round

PEOPLE = ["U0AAA001", "U0BBB002", "U0CCC003", "U0DDD004", "U0EEE005", "U0FFF006", "U0GGG007", "U0HHH008"]


async def test_people_acting_together_each_get_their_answer_and_share_commits(
    round_: Round, fake: FakeSlack, db
):
    await round_.say(COORDINATOR, "cohort create June")
    for n, user in enumerate(PEOPLE):
        await round_.register(user, f"Person {n}", "clinician" if n % 2 else "general_manager")
    engine = round_.engine
    held = threading.Event()  # the lane's thread waits until everyone has asked
    sizes: list[int] = []

    def handle(interaction: Interaction) -> Any:
        assert held.wait(10)
        sizes.append(1)  # the first may reach the lane before the others and go alone
        return engine.handle(interaction)

    def handle_many(interactions: Any, run_in: Any) -> list[object]:
        assert held.wait(10)
        sizes.append(len(interactions))
        return engine.handle_many(interactions, run_in)

    runner = EngineRunner(handle, handle_many=handle_many)
    background = Background()  # the clicks' work after their acks
    bolt = build_app(handle, signing_secret=SIGNING_SECRET, token=BOT_TOKEN, client=round_.slack.client,
                     background=background, runner=runner)  # fmt: skip
    slack = SlackHarness(fake, handle, bolt_app=bolt)
    slack.background = background
    await slack.start()
    commits = [0]
    event.listen(db, "commit", lambda _c: commits.__setitem__(0, commits[0] + 1))
    try:
        before = len(fake.responses)
        half = len(PEOPLE) // 2
        commands = [slack.command("pause", user) for user in PEOPLE[:half]]
        clicks = [slack.interactive(slack.action_payload("pause", "", user)) for user in PEOPLE[half:]]
        sending = asyncio.gather(*commands, *clicks)
        await asyncio.sleep(0.3)  # every request is in, waiting for the engine
        held.set()
        sent = await sending
        await slack.settle()
    finally:
        await slack.close()
        runner.close()

    assert all(s.status == 200 for s in sent)
    for s in sent[:half]:  # a command's answer is its ack
        assert s.json()["text"].startswith("Paused: no tasks or reminders"), s.text
    answers = [r["text"] for r in fake.responses[before:]]  # a click's answer goes to its response_url
    assert len(answers) == len(PEOPLE) - half and all(a.startswith("Paused:") for a in answers), answers
    with db.connect() as conn:
        statuses = dict(conn.execute(text("SELECT user_id, status FROM participants")).all())
    assert {statuses[u] for u in PEOPLE} == {"paused"}
    assert sum(sizes) == len(PEOPLE) and max(sizes) > 1  # they waited together, and went together
    assert commits[0] < len(PEOPLE)
