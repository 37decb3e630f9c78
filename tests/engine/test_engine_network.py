"""The network beyond the scheme: organisers, channels, events with answers and places,
subscriptions, coffee introductions, experts and double dating, for people in no scheme too."""

from __future__ import annotations

from sqlalchemy import text

from conversations.core.interactions import ShowForm
from tests.engine.helpers import ADMIN, cohort, matched_pair, register

EVENT = {"title": "North West ops meet-up", "date": "2026-09-10", "start": "18:00", "end": "20:00",
         "timezone": "Europe/London", "place": "Manchester", "capacity": "2", "volunteers": "welcome desk, notes",
         "region": "north_west", "topics": ("leadership",), "description": "Drinks and a talk"}  # fmt: skip


def add_event(chat, **changes):  # type: ignore[no-untyped-def]
    assert isinstance(chat.say(ADMIN, "event add"), ShowForm)
    return chat.submit(ADMIN, {**EVENT, **changes})


def test_anyone_in_the_workspace_uses_the_network_without_registering(chat):
    chat.person(ADMIN, "Rachel Organiser")
    chat.say(ADMIN, 'channel add "#ops-north-west" https://chat.example/nw "Ops managers in the North West" '
                    "region=north_west").expect("Listed #ops-north-west")  # fmt: skip
    add_event(chat).expect("Added event 1")
    chat.person("U7", "Nadia Network")
    chat.say("U7", "community").expect(
        "#ops-north-west", "1. 📅 North West ops meet-up", "Thu 10 Sep 2026, 18:00–20:00"
    )
    chat.say("U7", "events").expect("2 of 2 places left", "Volunteers wanted: welcome desk, notes", "[Going]")
    chat.say("U7", "join #ops-north-west").expect("Here's #ops-north-west", "[Open #ops-north-west]")
    chat.say("U7", "join #nowhere").expect("There's no community channel called “#nowhere”")
    chat.say("U7", "event add").expect("only the network's organisers")


def test_event_form_refuses_past_dates_zero_places_and_ends_before_starts(chat):
    chat.person(ADMIN, "Rachel Organiser")
    said = add_event(chat, date="2026-09-01", capacity="0", end="17:00", link="http://x")
    errors = said.outcome.errors
    assert "in the past" in errors["date"] and "at least 1" in errors["capacity"]
    assert "after it starts" in errors["end"] and "https://" in errors["link"]
    chat.submit(ADMIN, {**EVENT, "start": "25:00", "place": ""}).expect(
        "HH:MM", "Give a place, an online link"
    )
    chat.say(ADMIN, "events").expect("No events are coming up")


def test_answers_fill_places_then_a_waiting_list_that_moves_up(chat, db):
    chat.person(ADMIN, "Rachel Organiser")
    add_event(chat)
    event_id = db.connect().execute(text("select id from network_events")).scalar()
    for who in ("U1", "U2", "U3"):
        chat.person(who, who)
    chat.press("U1", "event_going", str(event_id)).expect("see you there")
    chat.press("U2", "event_going", str(event_id)).expect("see you there")
    chat.press("U3", "event_going", str(event_id)).expect("full", "number 1 on the waiting list")
    chat.press("U1", "event_not_going", str(event_id)).expect("thanks for letting the organisers know")
    assert "A place came up at North West ops meet-up" in chat.transcript("U3")
    chat.say(ADMIN, "event attendees 1").expect("Going 2", "Not going 1", "@U2", "@U3")
    said = chat.say("U2", "event 1")
    assert said.outcome.message.file is None or "BEGIN:VCALENDAR" in said.outcome.message.file.content
    chat.press("U2", "event_volunteer", str(event_id))
    chat.submit("U2", {"role": "notes"}).expect("volunteering as notes")
    assert "volunteered as notes" in chat.transcript(ADMIN)


def test_a_reminder_goes_the_day_before_once(chat, clock):
    chat.person(ADMIN, "Rachel Organiser")
    add_event(chat)
    chat.press("U1", "event_going", "1")
    clock.advance(days=2, hours=10)  # Wednesday 19:00: the event is tomorrow at 18:00
    assert chat.engine.periodic()["event reminders"] == 1
    assert chat.engine.periodic()["event reminders"] == 0
    chat.deliver()
    assert "Reminder: North West ops meet-up is tomorrow" in chat.transcript("U1")


def test_announcements_reach_matching_subscribers_once_and_say_so_when_nobody_is_there(chat):
    chat.person(ADMIN, "Rachel Organiser")
    add_event(chat)
    chat.say(ADMIN, "event announce 1").expect("Nobody is subscribed")
    chat.say("U5", "subscribe north_west").expect("Subscribed")
    chat.say("U6", "subscribe london").expect("Subscribed")
    chat.say("U5", "subscribe nowhere").expect("isn't a region or topic I know")
    chat.say(ADMIN, "event announce 1").expect("Announced North West ops meet-up to 1 person")
    chat.say(ADMIN, "event announce 1").expect("already heard")
    assert "North West ops meet-up" in chat.transcript("U5") and "meet-up" not in chat.transcript("U6")
    chat.say(ADMIN, "event cancel 1").expect("Cancelled event 1")
    chat.say("U5", "events").expect("No events are coming up")
    chat.say("U5", "unsubscribe all").expect("Unsubscribed from 1 thing")


def test_coffee_introduces_people_from_different_trusts_once_and_only_if_they_opted_in(chat, clock):
    for who, trust in (("U1", "Leeds"), ("U2", "Leeds"), ("U3", "Salford")):
        chat.person(who, who)
        chat.say(who, f"coffee on trust={trust}").expect("signed up for coffee")
    chat.person("U4", "Never asked")
    assert chat.engine.periodic()["coffee introductions"] == 1
    chat.deliver()
    introduced = [u for u in ("U1", "U2", "U3") if "Meet" in chat.transcript(u)]
    assert "U3" in introduced and len(introduced) == 2 and "Meet" not in chat.transcript("U4")
    clock.advance(days=8)
    assert chat.engine.periodic()["coffee check-ins"] == 2
    chat.deliver()
    chat.press_in_last("U3", "Yes, we met").expect("Lovely")
    chat.say(ADMIN, "network").expect("Coffee: introductions (met): 1 (1)")
    clock.advance(weeks=2)
    chat.say("U1", "coffee off")
    chat.say("U2", "coffee off")
    assert chat.engine.periodic()["coffee introductions"] == 0  # never the same two again


def test_experts_join_a_group_that_asks_and_coordinators_double_date_groups(chat):
    matched_pair(chat)
    chat.say(ADMIN, "expert add @U9 commissioning, finance").expect("expert on commissioning, finance")
    chat.say("U1", "ask expert commissioning").expect("I've asked an expert on commissioning")
    chat.press_in_last("U9", "Accept").expect("opened a chat with the group")
    assert "has kindly agreed to join you" in chat.transcript("U1")
    chat.press_in_last("U9", "Accept").expect("already accepted")
    chat.press("U1", "expert_accept", "1").expect("wasn't addressed to you")
    register(chat, "U3", "Cara Clinician", employer="Salford Royal NHS Foundation Trust")
    register(chat, "U4", "Dev Manager", "general_manager", employer="Salford Royal NHS Foundation Trust")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "double @U1 @U3").expect("Introduced", "in one group chat")
    assert "A double date!" in chat.transcript("U4")
    chat.say(ADMIN, "double @U2 @U4").expect("already been introduced")
    chat.say(ADMIN, "double auto").expect("couldn't find two groups")


def test_erasure_removes_what_the_network_holds(chat, db):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    chat.say("U1", "subscribe north_west")
    chat.say("U1", "coffee on trust=Leeds")
    add_event(chat)
    chat.press("U1", "event_going", "1")
    chat.say("U1", "mydata").expect("Network subscriptions", "North West", "Coffee opt-in", "Leeds", "Event answers",
                                    "North West ops meet-up")  # fmt: skip
    from conversations.core.refs import UserRef
    from conversations.flows.erasure import forget

    chat.engine.run(lambda ctx: forget(ctx, UserRef("memory", "T1", "U1")))
    with db.connect() as conn:
        for table in ("network_subscriptions", "coffee_optins", "network_rsvps"):
            assert conn.execute(text(f"select count(*) from {table}")).scalar() == 0, table  # noqa: S608


def test_the_retention_schedule_covers_the_network(chat, clock, db):
    from conversations.flows import retention

    matched_pair(chat)
    chat.person(ADMIN, "Rachel Organiser")
    add_event(chat)
    chat.press("U1", "event_going", "1")
    chat.press("U2", "event_volunteer", "1")
    chat.submit("U2", {"role": "notes"})
    chat.say("U5", "subscribe north_west")
    for who, trust in (("U5", "Leeds"), ("U6", "Salford")):
        chat.say(who, f"coffee on trust={trust}")
    assert chat.engine.periodic()["coffee introductions"] == 1
    chat.say("U6", "coffee off")
    chat.say(ADMIN, "expert add @U9 commissioning")
    chat.say("U1", "ask expert commissioning")
    policy = retention.Retention()
    assert "network events: 365 days after they ended" in policy.describe()

    clock.advance(days=100)  # the event ended 97 days ago: who answered goes, the event stays
    due = chat.engine.run(lambda ctx: retention.plan(ctx, policy))
    assert (due.event_answers, due.events, due.coffee_intros, due.coffee_off, due.expert_requests) == (
        2,
        0,
        0,
        0,
        0,
    )
    chat.engine.run(lambda ctx: retention.apply(ctx, policy))
    clock.advance(days=300)
    due = chat.engine.run(lambda ctx: retention.plan(ctx, policy))
    assert (due.event_answers, due.events, due.coffee_intros, due.coffee_off, due.expert_requests) == (
        0,
        1,
        1,
        1,
        1,
    )
    while chat.engine.run(lambda ctx: retention.apply(ctx, policy)).total():
        pass
    with db.connect() as conn:
        for table in ("network_rsvps", "network_events", "coffee_intros", "expert_requests"):
            assert conn.execute(text(f"select count(*) from {table}")).scalar() == 0, table  # noqa: S608
        assert conn.execute(text("select user_id from coffee_optins")).scalars().all() == ["U5"]  # still on
        assert conn.execute(text("select count(*) from network_subscriptions")).scalar() == 1  # while wanted
    chat.say(ADMIN, "network").expect("Events (upcoming): 0 (0)")
