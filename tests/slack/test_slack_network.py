"""The network in Slack (issue 16), over HTTP on loopback, for people in no buddy scheme too:
community channels, ``join #channel`` (conversations.invite where Buddy is in the channel, else a
link), subscriptions, events with Going, Maybe, Not going and Volunteer, the calendar file and the
attendee export uploaded, and a welcome once when someone joins a listed channel."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from icalendar import Calendar

from tests.slack.fake_slack import BOT_USER, TEAM, FakeSlack
from tests.slack.round import COORDINATOR, Round

ASHA, BEN, CHLOE, DEV, ELLA, EXPERT = "U0AAA001", "U0BBB002", "U0CCC003", "U0DDD004", "U0EEE005", "U0FFF006"
EVENT = {"title": "North West ops meet-up", "date": "2026-09-10", "start": "18:00", "end": "20:00",
         "timezone": "Europe/London", "place": "Manchester", "link": "", "capacity": "1",
         "volunteers": "welcome desk, notes", "region": "north_west", "topics": ["leadership"],
         "description": "Drinks and a talk"}  # fmt: skip


def dm(fake: FakeSlack, user: str) -> str:
    return fake.open_dm(user)


def texts(reply: dict[str, Any] | None) -> str:
    return str(reply)


async def open_form(r: Round, user: str, command: str, callback: str) -> dict[str, Any]:
    opened = len(r.fake.calls_to("views.open"))
    await r.say(user, command)
    view = r.fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == callback, view["callback_id"]
    return view


def uploaded(fake: FakeSlack, start: int) -> tuple[str, bytes]:
    done = fake.calls_to("files.completeUploadExternal")[start:]
    assert done, "no file was uploaded"
    channel = done[-1].args["channel_id"]
    [posted] = [m for m in fake.messages_in(channel) if m.get("files")][-1:]
    return fake.files[posted["files"][0]["id"]]


async def test_channels_join_subscribe_events_and_welcome_through_slack(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    fake.add_channel("C0NW", {BOT_USER, COORDINATOR})  # Buddy is in it: it can add people
    fake.add_channel("C0SOUTH", {COORDINATOR})  # Buddy isn't: people get the link
    reply = await r.say(COORDINATOR, 'channel add "#ops-north-west" https://slack.example/nw "Ops managers in the '
                                     'North West" id=C0NW region=north_west')  # fmt: skip
    assert "Listed" in texts(reply) and "add them" in texts(reply)
    await r.say(
        COORDINATOR, 'channel add "#ops-south" https://slack.example/south "Ops in the South" id=C0SOUTH'
    )

    # Asha is in no scheme: she finds the channels and joins
    reply = await r.say(ASHA, "community")
    assert "#ops-north-west" in texts(reply) and "#ops-south" in texts(reply)
    reply = await r.say(ASHA, "join #ops-north-west")
    assert "Adding you to" in texts(reply)
    await r.deliver()
    [invite] = fake.calls_to("conversations.invite")
    assert invite.args["channel"] == "C0NW" and invite.args["users"] == ASHA
    assert ASHA in fake.conversations["C0NW"].members
    assert any("You're in #ops-north-west" in t for t in r.dm_texts(ASHA))
    reply = await r.say(ASHA, "join #ops-south")
    await r.deliver()
    assert fake.calls_to("conversations.invite")[-1].args["channel"] == "C0SOUTH"  # refused: not_in_channel
    assert ASHA not in fake.conversations["C0SOUTH"].members
    assert "Here's *#ops-south*: open it and press Join" in str(
        fake.messages_in(dm(fake, ASHA))[-1]["blocks"]
    )
    assert r.button(dm(fake, ASHA), "Open #ops-south")["url"] == "https://slack.example/south"
    reply = await r.say(ASHA, "join #nowhere")
    assert "There's no community channel called “#nowhere” here" in texts(reply) and "#ops-south" in texts(
        reply
    )

    # an event: the form refuses a past date and no places, by field
    view = await open_form(r, COORDINATOR, "event add", "event_add")
    sent = await r.slack.submit(view, {**EVENT, "date": "2026-09-01", "capacity": "0"}, COORDINATOR)
    errors = sent.json()["errors"]
    assert "in the past" in errors["date"] and "at least 1" in errors["capacity"]
    sent = await r.slack.submit(view, EVENT, COORDINATOR)
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()

    reply = await r.say(COORDINATOR, "event announce 1")
    assert "Nobody is subscribed" in texts(reply)
    reply = await r.say(ASHA, "subscribe north_west")
    assert "Subscribed" in texts(reply)
    reply = await r.say(ASHA, "subscribe atlantis")
    assert "isn't a region or topic I know" in texts(reply)
    reply = await r.say(COORDINATOR, "event announce 1")
    assert "to 1 person" in texts(reply)
    await r.deliver()
    asha_dm = dm(fake, ASHA)
    for label in ("Going", "Maybe", "Not going", "Volunteer"):
        r.button(asha_dm, label)
    going = r.button(asha_dm, "Going")
    sent = await r.slack.press(going["action_id"], going["value"], user=ASHA, channel=asha_dm)
    assert sent.status == 200
    await r.slack.settle()
    await r.deliver()
    sent = await r.slack.press("event_going", going["value"], user=BEN, channel=dm(fake, BEN))
    await r.slack.settle()
    await r.deliver()
    assert "you're number 1 on the waiting list" in str(fake.responses[-1])  # one place, and it's taken
    for label in ("Not going", "Maybe"):
        button = r.button(asha_dm, label)
        await r.slack.press(button["action_id"], button["value"], user=CHLOE, channel=dm(fake, CHLOE))
        await r.slack.settle()
    assert "noted as a maybe" in str(fake.responses[-1])
    opened = len(fake.calls_to("views.open"))
    volunteer = r.button(asha_dm, "Volunteer")
    await r.slack.press(volunteer["action_id"], volunteer["value"], user=ASHA, channel=asha_dm)
    await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "event_volunteer"
    sent = await r.slack.submit(view, {"role": "notes"}, ASHA)
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()
    await r.deliver()
    assert any(f"<@{ASHA}> volunteered as *notes*" in t for t in r.dm_texts(COORDINATOR)), r.dm_texts(
        COORDINATOR
    )

    # the calendar file and the attendee export are uploaded to the person's DM
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    await r.say(ASHA, "event 1")
    await r.slack.settle()
    name, content = uploaded(fake, uploads)
    assert name == "buddy-event-1.ics"
    [entry] = Calendar.from_ical(content).walk("VEVENT")
    assert str(entry["summary"]) == "North West ops meet-up" and entry["dtstart"].dt.hour == 18
    assert str(entry["dtstart"].dt.tzinfo) == "Europe/London"
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    reply = await r.say(COORDINATOR, "event attendees 1")
    assert "Going 1, Maybe 1, Not going 0, On the waiting list 1" in texts(reply)
    await r.slack.settle()
    name, content = uploaded(fake, uploads)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert name == "buddy-event-1-attendees.csv"
    assert [(row["user_id"], row["answer"], row["volunteer_role"]) for row in rows] == [
        (ASHA, "going", "notes"), (CHLOE, "maybe", ""), (BEN, "waiting", "")]  # fmt: skip

    # Ben joins the listed channel: a welcome, once, with its purpose and what's coming up
    for n in (1, 2):
        sent = await r.slack.event({"type": "member_joined_channel", "user": BEN, "channel": "C0NW",
                                    "channel_type": "C", "team": TEAM}, f"Ev0JOIN{n}")  # fmt: skip
        assert sent.status == 200
        await r.slack.settle()
        await r.deliver()
    welcomes = [
        t for t in r.dm_texts(BEN) if "Welcome to *#ops-north-west*! Ops managers in the North West" in t
    ]
    assert len(welcomes) == 1 and "North West ops meet-up" in welcomes[0], r.dm_texts(BEN)


async def test_coffee_double_dating_and_experts_through_slack(round_: Round, fake: FakeSlack) -> None:
    from tests.slack.round import DOCTOR, MANAGER

    r = round_
    await r.say(COORDINATOR, "cohort create North")
    people = ((DOCTOR, "Asha Patel", "clinician", "Leeds Teaching Hospitals NHS Trust"),
              (MANAGER, "Ben Okafor", "general_manager", "Leeds Teaching Hospitals NHS Trust"),
              (CHLOE, "Chloe Wright", "clinician", "Salford Royal NHS Foundation Trust"),
              (DEV, "Dev Sharma", "general_manager", "Salford Royal NHS Foundation Trust"))  # fmt: skip
    for user, name, role, trust in people:
        await r.register(user, name, role, employer=trust)
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    pairs = {c.id for c in fake.conversations.values() if c.kind == "mpim"}
    assert len(pairs) == 2

    # double dating: both pairs in one group DM (conversations.open with four people: an MPIM)
    reply = await r.say(COORDINATOR, f"double <@{DOCTOR}> <@{CHLOE}>")
    assert "Introduced" in texts(reply)
    await r.deliver()
    [double] = [c for c in fake.conversations.values() if c.kind == "mpim" and c.id not in pairs]
    assert double.members == {DOCTOR, MANAGER, CHLOE, DEV, BOT_USER}
    assert "A double date!" in double.messages[-1]["text"] and "joint task" in double.messages[-1]["text"]
    reply = await r.say(COORDINATOR, f"double <@{MANAGER}> <@{DEV}>")
    assert "already been introduced" in texts(reply)

    # an expert: asked by a group, accepts, and joins the group in a new group DM
    reply = await r.say(COORDINATOR, f"expert add <@{EXPERT}> commissioning, finance")
    assert "expert on commissioning, finance" in texts(reply)
    reply = await r.say(DOCTOR, "ask expert commissioning")
    assert "I've asked an expert on commissioning" in texts(reply)
    await r.deliver()
    expert_dm = dm(fake, EXPERT)
    accept = r.button(expert_dm, "Accept")
    r.button(expert_dm, "Decline")
    await r.slack.press(accept["action_id"], accept["value"], user=DOCTOR, channel=expert_dm)
    await r.slack.settle()
    assert "wasn't addressed to you" in str(fake.responses[-1])  # only the expert can answer
    await r.slack.press(accept["action_id"], accept["value"], user=EXPERT, channel=expert_dm)
    await r.slack.settle()
    await r.deliver()
    [joined] = [c for c in fake.conversations.values() if c.kind == "mpim" and EXPERT in c.members]
    assert joined.members == {DOCTOR, MANAGER, EXPERT, BOT_USER}
    assert "has kindly agreed to join you" in joined.messages[-1]["text"]
    reply = await r.say(CHLOE, "ask expert commissioning")
    await r.deliver()
    decline = r.button(expert_dm, "Decline")
    await r.slack.press(decline["action_id"], decline["value"], user=EXPERT, channel=expert_dm)
    await r.slack.settle()
    await r.deliver()
    assert any("can't help this time" in t for t in r.dm_texts(DEV))

    # coffee: only those who opted in, across trusts, in a group DM; a check-in a week later
    for user, trust in ((DOCTOR, "Leeds"), (MANAGER, "Leeds"), (ELLA, "Salford")):
        reply = await r.say(user, f"coffee on trust={trust}")
        assert "signed up for coffee" in texts(reply)
    reply = await r.say(ELLA, "coffee every=4")
    assert "every=4 to choose how often" in texts(reply)
    reply = await r.say(ELLA, "coffee on every=99")
    assert "is how many weeks between introductions, from 1 to 12" in texts(reply)
    assert r.engine.periodic()["coffee introductions"] == 1
    await r.deliver()
    [coffee] = [c for c in fake.conversations.values() if c.kind == "mpim" and ELLA in c.members]
    assert len(coffee.members) == 3 and "☕ Meet" in coffee.messages[-1]["text"]
    r.engine.clock.set(r.engine.clock.now() + timedelta(days=8))  # type: ignore[attr-defined]
    assert r.engine.periodic()["coffee check-ins"] == 2
    await r.deliver()
    met = r.button(dm(fake, ELLA), "Yes, we met")
    await r.slack.press(met["action_id"], met["value"], user=ELLA, channel=dm(fake, ELLA))
    await r.slack.settle()
    assert "Lovely" in str(fake.responses[-1])
    reply = await r.say(COORDINATOR, "network")
    assert "Coffee: introductions (met)" in texts(reply) and "1 (1)" in texts(reply)
    reply = await r.say(ELLA, "coffee off")
    assert "Coffee introductions are off" in texts(reply)
