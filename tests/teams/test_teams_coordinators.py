"""Coordinators' tools over Teams' HTTP: groups with buttons, the inbox round trip through a
dialog, announcements, and the chart as an image inside the card."""

from __future__ import annotations

from tests.engine.helpers import registration
from tests.teams.fake_teams import account
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, Round, _button, _texts, start_round


async def _matched(r: Round, connector) -> None:  # type: ignore[no-untyped-def]
    for user in (ALICE, BOB):
        connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    await r.say(ADMIN, "cohort create Test Cohort")
    for user, name, role in ((ALICE, "Asha Patel", "clinician"), (BOB, "Ben Okafor", "general_manager")):
        cards = await r.say(user, "join")
        await r.fill_dialog(user, cards[-1]["actions"][0], registration(name, role))
    await r.say(ADMIN, "match preview")
    await r.say(ADMIN, "match confirm")


def _everything(connector) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(_texts(c) for c in connector.cards())


async def test_groups_inbox_announce_and_chart_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        listed = await r.say(ADMIN, "groups")
        assert "Asha Patel" in _texts(listed[-1]) and "Page 1 of 1" in _texts(listed[-1])
        assert _button(listed, "Message group")["data"]["msteams"] == {"type": "task/fetch"}

        # a buddy writes to Buddy; the coordinator replies through a dialog; the reply reaches her
        said = await r.say(ALICE, "Hi, my buddy hasn't replied for two weeks")
        assert "passed that on to your coordinators" in _texts(said[0])
        assert "hasn't replied for two weeks" in _everything(connector)
        answer, _ = await r.fill_dialog(ADMIN, _button(connector.cards(), "Reply"), {"text": "I'll talk to Ben today."})
        assert answer is None
        assert "I'll talk to Ben today." in _everything(connector)

        # an announcement: the dialog, the preview, then Send
        cards = await r.say(ADMIN, "announce")
        opener = cards[-1]["actions"][0]
        answer, cards = await r.fill_dialog(ADMIN, opener, {"text": "Drinks on Friday", "audience": "matched"})
        assert answer is None
        await r.press(ADMIN, _button(connector.cards(), "Send to 2 people"))
        assert _everything(connector).count("Drinks on Friday") >= 3  # the preview and both buddies

        # the chart is an image inside the card
        chart = await r.say(ADMIN, "status chart")
        [image] = [e for e in chart[-1]["body"] if e.get("type") == "Image"]
        assert image["url"].startswith("data:image/png;base64,") and "registrations per week" in image["altText"]

        # a forged button value gets a polite answer
        forged = {"data": {"action_id": "group_end", "value": "424242"}}
        answered = await r.press(ADMIN, forged)
        assert "That group no longer exists" in _texts(answered[-1])
    finally:
        await r.h.server.close()


async def test_sentences_in_a_group_chat_are_not_passed_on(db, connector, graph):
    """@Buddy in a group chat with a sentence: a pointer to the 1:1 chat, nothing forwarded."""
    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        group = {"id": "19:buddies@thread.v2", "conversationType": "groupChat", "tenantId": "tenant-1",
                 "isGroup": True}  # fmt: skip
        said = await r.say(ALICE, "Hi, my buddy hasn't replied for two weeks", conversation=group)
        assert "I haven't passed that on" in _texts(said[0]) and "1:1 chat" in _texts(said[0])
        assert "hasn't replied for two weeks" not in "\n".join(_texts(c) for c in said[1:])
        inbox = await r.say(ADMIN, "inbox")
        assert "is empty" in _texts(inbox[-1])
        said = await r.say(ALICE, "Hi, my buddy hasn't replied for two weeks")  # the personal chat
        assert "passed that on to your coordinators" in _texts(said[0])
        inbox = await r.say(ADMIN, "inbox")
        assert "hasn't replied for two weeks" in _texts(inbox[-1])
    finally:
        await r.h.server.close()
