"""``task send`` over Slack, with the real engine: repeating it without a key in the same period
posts nobody a second task, and the coordinator is told why and what to type instead."""

from __future__ import annotations

import json

from tests.slack.fake_slack import FakeSlack
from tests.slack.round import COORDINATOR, Round


async def test_repeating_task_send_posts_nobody_a_second_task_and_says_how_to_send_another(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.pair()
    group = r.group()

    def told() -> str:
        return json.dumps([c.args for c in fake.calls] + fake.responses)

    first = await r.say(COORDINATOR, "task send")
    await fake.wait_for(lambda: "Posted the task to 1 group" in told() + json.dumps(first))
    await r.deliver()
    tasks = [m for m in fake.messages_in(group) if "Task 1" in m["text"] + str(m["blocks"])]
    second = await r.say(COORDINATOR, "task send")
    await fake.wait_for(
        lambda: "Every active group has had a task this period" in told() + json.dumps(second)
    )
    assert "task send KEY" in told() + json.dumps(second)
    await r.deliver()
    assert len(tasks) == 1
    assert not [m for m in fake.messages_in(group) if "Task 2" in m["text"] + str(m["blocks"])]
