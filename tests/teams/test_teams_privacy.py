"""People's rights in Teams, over real HTTP: ``mydata`` comes with a file consent card (the file is
uploaded once they accept); ``forget me`` asks with a button and erases on the press, including
what the Teams adapter keeps about the person (directory entry, 1:1 chat reference, files)."""

from __future__ import annotations

import json

from sqlalchemy import select

from adapters.teams.tables import conversation_references, users
from bot.caches import wire_teams
from conversations.flows import personal
from tests.engine.helpers import registration
from tests.teams.fake_teams import account
from tests.teams.test_teams_files import CONSENT, answer_offer, attachments
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, _button, _texts, start_round


async def _registered(r, connector) -> None:  # type: ignore[no-untyped-def]
    for user in (ALICE, BOB):
        connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    await r.say(ADMIN, "cohort create Test Cohort")
    for user, name, role in ((ALICE, "Asha Patel", "clinician"), (BOB, "Ben Okafor", "general_manager")):
        cards = await r.say(user, "join")
        await r.fill_dialog(user, cards[-1]["actions"][0], registration(name, role))


async def test_mydata_is_offered_as_a_file_and_uploaded_once_accepted(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _registered(r, connector)
        cards = await r.say(ALICE, "mydata json")
        assert any("everything Buddy holds about you" in _texts(c) for c in cards)
        [offer] = attachments(connector, CONSENT)
        assert offer["name"].endswith(".json")
        file_id = offer["content"]["acceptContext"]["buddy_file"]
        await answer_offer(r.h, connector, "accept", file_id, BOB)  # only the person it was offered to
        assert connector.uploads == {}
        status, _ = await answer_offer(r.h, connector, "accept", file_id, ALICE)
        assert status == 200
        [(data, _headers)] = connector.uploads.values()
        held = json.loads(data.decode())["held"]
        assert held["profile"][0]["name"] == "Asha Patel"
        assert [c["kind"] for c in held["consent records"]] == ["participation", "quotes"]
    finally:
        await r.h.server.close()


async def test_forget_me_erases_on_the_button_and_the_adapters_caches_go_too(db, connector, graph):
    r = await start_round(db, connector, graph)
    wire_teams(r.h.teams.references)
    try:
        await _registered(r, connector)
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        with db.connect() as conn:
            assert conn.execute(select(users.c.user_id).where(users.c.user_id == ALICE)).all()
        asked = await r.say(ALICE, "forget me")
        assert "Erase everything Buddy holds about you?" in _texts(asked[-1])
        done = await r.press(ALICE, _button(asked, "Erase my data"))
        assert "Buddy has erased what it held about you" in _texts(done[0])
        texts = [_texts(c) for c in connector.cards()]
        assert any("asked Buddy to erase their data" in t and "Asha" not in t for t in texts)
        with db.connect() as conn:
            assert conn.execute(select(users).where(users.c.user_id == ALICE)).all() == []
            assert conn.execute(select(conversation_references).where(
                conversation_references.c.user_id == ALICE)).all() == []  # fmt: skip
        with r.engine.uow_factory() as uow:
            assert all(p.display_name != "Asha Patel" for p in uow.participants.in_cohort(1))
    finally:
        personal.CACHES.pop("Teams directory entry, chats and files", None)
        await r.h.server.close()


async def test_an_answer_with_patient_data_comes_back_in_the_dialog_naming_it(db, connector, graph):
    from tests.teams.fake_teams import invoke

    r = await start_round(db, connector, graph)
    try:
        await _registered(r, connector)
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        await r.say(ADMIN, "task send")
        respond = _button(connector.cards("19:chat-1@thread.v2"), "Respond")
        _, answer = await r.h.post(
            invoke(r.h.service_url, "task/fetch", {"data": respond["data"]}, user=ALICE)
        )
        card = answer["task"]["value"]["card"]["content"]
        data = {
            **card["actions"][0]["data"],
            "answer": "Dear Ben, patient 943 476 5919 waited all night on the ward.",
        }
        _, answer = await r.h.post(invoke(r.h.service_url, "task/submit", {"data": data}, user=ALICE))
        again = answer["task"]["value"]["card"]["content"]["body"]
        shown = " ".join(e.get("text", "") for e in again if e.get("color") == "Attention")
        assert "an NHS number" in shown and "5919" not in shown
        with r.engine.uow_factory() as uow:
            assert uow.responses.for_cohort(1) == []
    finally:
        await r.h.server.close()


async def test_notice_consent_and_the_audit_in_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _registered(r, connector)
        assert "Privacy notice" in " ".join(_texts(c) for c in await r.say(ALICE, "privacy"))
        withdrawn = " ".join(_texts(c) for c in await r.say(ALICE, "consent withdraw"))
        assert "paused" in withdrawn and "erase everything" in withdrawn
        await r.say(ADMIN, "export")
        audit = " ".join(_texts(c) for c in await r.say(ADMIN, "audit"))
        assert "export in Test Cohort" in audit and "consent withdraw in Test Cohort" in audit
    finally:
        await r.h.server.close()
