"""A whole buddy round as Slack sees it: signed requests in, Web API calls out, real engine and
database in between. Register through the modal, match, introduction in the group DM, a task,
a response through the modal, a nudge."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.clock import FakeClock
from tests.slack.fake_slack import BOT_USER, FakeSlack
from tests.slack.round import COORDINATOR, DOCTOR, LETTER, MANAGER, Round


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
    assert confirmed and "1 group introduced" in str(confirmed)

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
