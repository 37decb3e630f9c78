"""The network in Teams (issue 16), over HTTP on loopback with the real engine: ``join #channel``
adds the person to the channel's team through Graph (``POST /teams/{id}/members``), or gives the
link; community, subscriptions, an event's buttons, its calendar file and attendee export offered
as files, and a welcome when someone is added to a listed channel."""

from __future__ import annotations

from icalendar import Calendar

from tests.teams.fake_teams import TENANT, account, activity, invoke
from tests.teams.test_teams_files import CONSENT, answer_offer, attachments
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, _button, _texts, start_round

TEAM_ID = "6a1b4f3e-58a2-4b8d-9c1e-2f7d0a9b3c41"
CHANNEL = "19:ops-nw@thread.tacv2"
LINK = f"https://teams.microsoft.com/l/channel/19%3aops-nw%40thread.tacv2/Ops?groupId={TEAM_ID}&tenantId={TENANT}"
OTHER = "0f0e0d0c-0b0a-4998-8877-665544332211"  # a team Graph doesn't know: the link instead
EVENT = {"title": "North West ops meet-up", "date": "2026-09-10", "start": "18:00", "end": "20:00",
         "timezone": "Europe/London", "place": "Manchester", "link": "", "capacity": "1",
         "volunteers": "welcome desk, notes", "region": "north_west", "topics": "", "description": "A talk"}  # fmt: skip


def said(cards: list[dict]) -> str:
    return "\n".join(_texts(c) for c in cards)


async def refused(r, user: str, opener: dict, values: dict) -> list[str]:  # type: ignore[no-untyped-def]
    """Submit the dialog once with ``values``; the errors it comes back with."""
    _, answer = await r.h.post(invoke(r.h.service_url, "task/fetch", {"data": opener["data"]}, user=user))
    card = answer["task"]["value"]["card"]["content"]
    data = dict(card["actions"][0]["data"]) | {k: str(v) for k, v in values.items()}
    status, answer = await r.h.post(invoke(r.h.service_url, "task/submit", {"data": data}, user=user))
    assert status == 200 and answer["task"]["type"] == "continue"
    return [e["text"] for e in answer["task"]["value"]["card"]["content"]["body"] if e.get("color")]


async def test_join_adds_people_to_the_team_events_and_a_welcome_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    h = r.h
    graph.teams[TEAM_ID] = {"rachel"}
    try:
        cards = await r.say(ADMIN, f'channel add "#ops-north-west" {LINK} "Ops managers in the North West" '
                                   f"id={CHANNEL} region=north_west")  # fmt: skip
        assert "Listed" in said(cards)
        await r.say(ADMIN, f'channel add "#ops-south" https://teams.microsoft.com/l/channel/19%3as%40thread.tacv2/S'
                           f'?groupId={OTHER} "Ops in the South" id=19:s@thread.tacv2')  # fmt: skip

        # Alice is in no scheme: she lists the channels, and joining adds her to the team
        assert "#ops-north-west" in said(await r.say(ALICE, "community"))
        cards = await r.say(ALICE, "join #ops-north-west")
        assert "Adding you to" in said(cards) and any("You're in" in _texts(c) for c in cards)
        [added] = [c for c in graph.calls if c.path == f"/graph/teams/{TEAM_ID}/members"]
        assert added.body == {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": [],
                              "user@odata.bind": "https://graph.microsoft.com/v1.0/users('alice')"}  # fmt: skip
        assert graph.teams[TEAM_ID] == {"rachel", "alice"}
        cards = await r.say(ALICE, "join #ops-south")  # Graph answers 404: she gets the link
        assert "open it and press Join" in said(cards)
        assert _button(cards, "Open #ops-south")["url"].endswith(f"groupId={OTHER}")
        assert "There's no community channel called “#nowhere”" in said(await r.say(ALICE, "join #nowhere"))

        # an event, with the form's errors by field first
        cards = await r.say(ADMIN, "event add")
        opener = (
            _button(cards, "Add an event") if any("actions" in c for c in cards) else cards[-1]["actions"][0]
        )
        errors = await refused(r, ADMIN, opener, {**EVENT, "date": "2026-09-01", "capacity": "0"})
        assert any("in the past" in e for e in errors) and any("at least 1" in e for e in errors), errors
        assert "Subscribed" in said(await r.say(ALICE, "subscribe north_west"))
        answer, _ = await r.fill_dialog(ADMIN, opener, EVENT)
        assert answer is None
        assert "to 1 person" in said(await r.say(ADMIN, "event announce 1"))
        card = [c for c in connector.cards() if "North West ops meet-up" in _texts(c)]
        for label in ("Going", "Maybe", "Not going", "Volunteer"):
            _button(card, label)
        assert "see you there" in said(await r.press(ALICE, _button(card, "Going")))
        assert "number 1 on the waiting list" in said(await r.press(BOB, _button(card, "Going")))
        await r.fill_dialog(ALICE, _button(card, "Volunteer"), {"role": "notes"})

        # the calendar file and the attendee list are offered as files, and uploaded on Accept
        await r.say(ALICE, "event 1")
        offer = attachments(connector, CONSENT)[-1]
        assert offer["name"] == "buddy-event-1.ics"
        status, _ = await answer_offer(
            h, connector, "accept", offer["content"]["acceptContext"]["buddy_file"], ALICE
        )
        assert status == 200
        [entry] = Calendar.from_ical(connector.uploads["export.csv"][0]).walk("VEVENT")
        assert str(entry["summary"]) == "North West ops meet-up" and str(entry["location"]) == "Manchester"
        cards = await r.say(ADMIN, "event attendees 1")
        assert "Going 1" in said(cards) and "On the waiting list 1" in said(cards)
        offer = attachments(connector, CONSENT)[-1]
        assert offer["name"] == "buddy-event-1-attendees.csv"
        await answer_offer(h, connector, "accept", offer["content"]["acceptContext"]["buddy_file"], ADMIN)
        rows = connector.uploads["export.csv"][0].decode().splitlines()
        assert rows[0] == "user_id,answer,volunteer_role,answered_at" and rows[1].startswith(
            "alice,going,notes,"
        )

        # Bob is added to the listed channel's team: Buddy welcomes him once, in his chat
        for _ in range(2):
            update = activity("conversationUpdate", h.service_url, ADMIN, membersAdded=[account(BOB, "Bob")],
                              conversation={"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT},
                              channelData={"tenant": {"id": TENANT}, "team": {"id": CHANNEL},
                                           "eventType": "teamMemberAdded"})  # fmt: skip
            status, _ = await h.post(update)
            assert status == 200
            await r.sender.drain()
        welcomes = [c for c in connector.cards() if "Welcome to **#ops-north-west**" in _texts(c)
                    or "Welcome to #ops-north-west" in _texts(c)]  # fmt: skip
        assert len(welcomes) == 1 and "North West ops meet-up" in _texts(welcomes[0])
    finally:
        await h.server.close()


async def test_without_graph_a_double_date_reaches_each_person_with_a_link_to_one_chat(db, connector):
    from adapters.teams import TeamsSettings
    from conversations.core.clock import FakeClock
    from conversations.delivery.sender import Sender
    from conversations.engine import Engine
    from conversations.flows.bank import sync_builtin
    from storage.unit_of_work import SqlUnitOfWorkFactory
    from tests.conftest import START
    from tests.engine.helpers import registration
    from tests.teams.conftest import start_harness
    from tests.teams.test_teams_round import Round

    h = await start_harness(db, connector, TeamsSettings(dev_mode=True, service_url=connector.url))
    engine = Engine(SqlUnitOfWorkFactory(db), clock=FakeClock(START), seed=7,
                    capabilities={"teams": h.teams.messenger.capabilities}, admins=(f"{TENANT}:{ADMIN}",))  # fmt: skip
    engine.run(sync_builtin)
    h.engine.answer = engine.handle
    r = Round(
        h, engine, Sender(SqlUnitOfWorkFactory(db), {"teams": h.teams.messenger}, engine.clock), engine.clock
    )
    people = (("alice", "Asha Patel", "clinician", "Leeds"), ("bob", "Ben Okafor", "general_manager", "Leeds"),
              ("carol", "Cara Jones", "clinician", "Salford"), ("dan", "Dev Shah", "general_manager", "Salford"))  # fmt: skip
    try:
        await r.say(ADMIN, "cohort create North")
        for user, name, role, trust in people:
            connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
            cards = await r.say(user, "join")
            await r.fill_dialog(
                user, cards[-1]["actions"][0], registration(name, role, employer=f"{trust} NHS Trust")
            )
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        assert "Introduced" in said(await r.say(ADMIN, "double @alice @carol"))
        dates = [c for c in connector.cards() if "A double date!" in _texts(c)]
        assert len(dates) == 4  # one in each person's own chat: no group chats without Graph
        link = _button(dates, "Open a group chat")["url"]
        assert link == ("https://teams.microsoft.com/l/chat/0/0?users=alice%40nhs.example,bob%40nhs.example,"
                        "carol%40nhs.example,dan%40nhs.example&topicName=Double%20date")  # fmt: skip
        assert "already been introduced" in said(await r.say(ADMIN, "double @bob @dan"))
    finally:
        await h.server.close()


async def test_double_dating_experts_and_coffee_in_graph_group_chats(db, connector, graph):
    from datetime import timedelta

    from tests.engine.helpers import registration

    r = await start_round(db, connector, graph)
    h = r.h
    people = (("alice", "Asha Patel", "clinician", "Leeds"), ("bob", "Ben Okafor", "general_manager", "Leeds"),
              ("carol", "Cara Jones", "clinician", "Salford"), ("dan", "Dev Shah", "general_manager", "Salford"))  # fmt: skip
    try:
        await r.say(ADMIN, "cohort create North")
        for user, name, role, trust in people:
            cards = await r.say(user, "join")
            await r.fill_dialog(
                user, cards[-1]["actions"][0], registration(name, role, employer=f"{trust} NHS Trust")
            )
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")

        def chats() -> list[list[str]]:
            return [sorted(m["user@odata.bind"].split("'")[1] for m in c.body["members"])
                    for c in graph.calls if c.path == "/graph/chats"]  # fmt: skip

        assert len(chats()) == 2  # the two pairs
        assert "Introduced" in said(await r.say(ADMIN, "double @alice @carol"))
        assert chats()[-1] == ["alice", "bob", "carol", "dan"]
        assert "A double date!" in _texts(connector.cards("19:chat-3@thread.v2")[-1])  # in that group chat

        # an expert: Accept puts them in a group chat with the pair; Decline tells the other pair
        graph.add_user("erin", "Erin Expert", "erin@nhs.net")  # in the tenant, but has never used Buddy
        assert "expert on commissioning" in said(await r.say(ADMIN, "expert add @erin commissioning"))
        assert "I've asked an expert" in said(await r.say(ALICE, "ask expert commissioning"))
        asked = [c for c in connector.cards() if "would like an expert on **commissioning**" in _texts(c)]
        _button(asked, "Decline")
        assert "wasn't addressed to you" in said(await r.press(BOB, _button(asked, "Accept")))
        assert "opened a chat with the group" in said(await r.press("erin", _button(asked, "Accept")))
        assert chats()[-1] == ["alice", "bob", "erin"]
        await r.say("carol", "ask expert commissioning")
        asked = [c for c in connector.cards() if "Cara Jones" in _texts(c) and "expert" in _texts(c)]
        assert "told the group kindly" in said(await r.press("erin", _button(asked, "Decline")))
        assert any("can't help this time" in _texts(c) for c in connector.cards())

        # coffee: two who opted in, from different trusts, in a group chat; a check-in a week on
        assert "signed up for coffee" in said(await r.say("frank", "coffee on trust=Leeds"))
        assert "signed up for coffee" in said(await r.say("gina", "coffee on trust=Salford"))
        assert r.engine.periodic()["coffee introductions"] == 1
        await r.sender.drain()
        assert chats()[-1] == ["frank", "gina"]
        r.clock.set(r.clock.now() + timedelta(days=8))
        assert r.engine.periodic()["coffee check-ins"] == 2
        await r.sender.drain()
        check = [c for c in connector.cards() if "manage a coffee?" in _texts(c)]
        assert "Lovely" in said(await r.press("gina", _button(check, "Yes, we met")))
        assert "Coffee: introductions (met)" in said(await r.say(ADMIN, "network"))
        assert "Coffee introductions are off" in said(await r.say("gina", "coffee off"))
    finally:
        await h.server.close()
