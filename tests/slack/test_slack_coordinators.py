"""Coordinators' tools over Slack's HTTP: groups and their buttons, the inbox (a buddy's DM, Reply
in a modal, the answer in their DM), announcements, the chart as an uploaded image and the XLSX."""

from __future__ import annotations

import itertools
from typing import Any

from tests.slack.fake_slack import FakeSlack
from tests.slack.round import COORDINATOR, DOCTOR, MANAGER, Round

_events = itertools.count(500)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in blocks for e in b.get("elements", []) if e.get("type") == "button"}


async def matched(r: Round) -> None:
    await r.say(COORDINATOR, "cohort create June")
    await r.register(DOCTOR, "Asha Patel", "clinician")
    await r.register(MANAGER, "Ben Okafor", "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()


async def type_in_dm(r: Round, user: str, text: str) -> str:
    dm = r.fake.open_dm(user)
    event = {"type": "message", "channel_type": "im", "channel": dm, "user": user, "text": text,
             "ts": f"{next(_events)}.000100"}  # fmt: skip
    assert (await r.slack.event(event, f"Ev0CO{next(_events):04d}")).status == 200
    await r.slack.settle()
    return dm


async def test_groups_and_ending_a_group(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await matched(r)
    listed = await r.say(COORDINATOR, "groups")
    assert listed and "Asha Patel" in str(listed["blocks"]) and len(listed["blocks"]) <= 50
    end = buttons(listed["blocks"])["End group"]
    assert (await r.slack.press(end["action_id"], end["value"], COORDINATOR, channel="D0COORD")).status == 200
    await r.slack.settle()
    assert any("now on the waiting list" in str(resp) for resp in fake.responses)
    waiting = await r.say(COORDINATOR, "waiting")
    assert waiting and "1. Asha Patel" in str(waiting["blocks"]) or "Asha Patel" in str(waiting)
    # a forged value is refused politely, never a 500
    assert (await r.slack.press(end["action_id"], "999999", COORDINATOR, channel="D0COORD")).status == 200
    await r.slack.settle()
    assert any("no longer exists" in str(resp) for resp in fake.responses)


async def test_a_buddys_dm_reaches_the_coordinator_and_the_reply_comes_back(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await matched(r)
    dm = await type_in_dm(r, DOCTOR, "Hi, my buddy hasn't replied for two weeks")
    assert "passed that on to your coordinators" in str(fake.messages_in(dm)[-1])
    await r.deliver()
    [card] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "hasn't replied for two weeks" in str(m)]
    reply = buttons(card["blocks"])["Reply"]
    opened = len(fake.calls_to("views.open"))
    await r.slack.press(reply["action_id"], reply["value"], COORDINATOR, channel=fake.open_dm(COORDINATOR))
    await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "inbox_reply"
    sent = await r.slack.submit(view, {"text": "I'll talk to Ben today."}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    await r.deliver()
    assert any("I'll talk to Ben today." in str(m) for m in fake.messages_in(dm)), fake.messages_in(dm)


async def test_sentences_in_a_group_dm_are_not_passed_on(round_: Round, fake: FakeSlack) -> None:
    """A group DM's messages never reach Buddy as its own DM's do (only ``message.im`` is
    subscribed, and an ``mpim`` event is ignored); ``/buddy`` typed there answers privately and
    passes nothing on."""
    r = round_
    await matched(r)
    group = r.group()
    event = {"type": "message", "channel_type": "mpim", "channel": group, "user": DOCTOR,
             "text": "Hi Ben, shall we meet on Tuesday?", "ts": f"{next(_events)}.000100"}  # fmt: skip
    before = len(fake.messages_in(group))
    assert (await r.slack.event(event, f"Ev0CO{next(_events):04d}")).status == 200
    await r.slack.settle()
    assert len(fake.messages_in(group)) == before  # Buddy stays out of their chat
    sent = await r.slack.command("Hi, my buddy hasn't replied for two weeks", DOCTOR,
                                 channel_id=group, channel_name="mpdm-asha--ben-1")  # fmt: skip
    assert sent.status == 200
    await r.slack.settle()
    said = str(sent.json() or "") + str(fake.responses)
    assert "I haven't passed that on" in said and "1:1 chat" in said
    await r.deliver()
    coordinator = str(fake.messages_in(fake.open_dm(COORDINATOR)))
    assert "hasn't replied for two weeks" not in coordinator and "Shall we meet" not in coordinator
    # the same words in Buddy's DM do reach the coordinators
    await type_in_dm(r, DOCTOR, "Hi, my buddy hasn't replied for two weeks")
    await r.deliver()
    assert "hasn't replied for two weeks" in str(fake.messages_in(fake.open_dm(COORDINATOR)))


async def test_announce_through_the_modal(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await matched(r)
    opened = len(fake.calls_to("views.open"))
    await r.say(COORDINATOR, "announce")
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "announce"
    sent = await r.slack.submit(view, {"text": "Drinks on Friday", "audience": "matched"}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    [preview] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Send to 2 people" in str(m)]
    send = buttons(preview["blocks"])["Send to 2 people"]
    await r.slack.press(send["action_id"], send["value"], COORDINATOR, channel=fake.open_dm(COORDINATOR))
    await r.slack.settle()
    await r.deliver()
    assert "Drinks on Friday" in str(fake.messages_in(fake.open_dm(DOCTOR)))
    assert "Drinks on Friday" in str(fake.messages_in(fake.open_dm(MANAGER)))


async def test_chart_and_spreadsheet_are_uploaded(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await matched(r)
    await r.say(COORDINATOR, "status chart")
    await r.say(COORDINATOR, "export xlsx")
    await fake.wait_for(lambda: len(fake.files) >= 2)
    names = {name: content for name, content in fake.files.values()}
    png = next(c for n, c in names.items() if n.endswith(".png"))
    xlsx = next(c for n, c in names.items() if n.endswith(".xlsx"))
    assert png.startswith(b"\x89PNG") and xlsx.startswith(b"PK")
    # the weekly summary goes through the outbox: the post, then its chart uploaded to the same DM
    before = len(fake.files)
    await r.say(COORDINATOR, "summary")
    await r.deliver()
    assert len(fake.files) == before + 1
    dm = fake.open_dm(COORDINATOR)
    assert any("Weekly summary" in m["text"] for m in fake.messages_in(dm))
    assert any(m.get("files") for m in fake.messages_in(dm))
