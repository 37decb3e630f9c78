"""Coordinators' tools over Teams' HTTP: groups with buttons, the inbox round trip through a
dialog, announcements, and the chart as an image inside the card."""

from __future__ import annotations

from tests.engine.helpers import registration
from tests.teams.fake_teams import account, invoke
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, Round, _button, _texts, start_round


async def _join(r: Round, connector, user: str, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    cards = await r.say(user, "join")
    await r.fill_dialog(user, cards[-1]["actions"][0], registration(name, role))


async def _matched(r: Round, connector) -> None:  # type: ignore[no-untyped-def]
    await r.say(ADMIN, "cohort create Test Cohort")
    await _join(r, connector, ALICE, "Asha Patel", "clinician")
    await _join(r, connector, BOB, "Ben Okafor", "general_manager")
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
        answer, _ = await r.fill_dialog(
            ADMIN, _button(connector.cards(), "Reply"), {"text": "I'll talk to Ben today."}
        )
        assert answer is None
        assert "I'll talk to Ben today." in _everything(connector)

        # an announcement: the dialog, the preview, then Send
        cards = await r.say(ADMIN, "announce")
        opener = cards[-1]["actions"][0]
        answer, cards = await r.fill_dialog(
            ADMIN, opener, {"text": "Drinks on Friday", "audience": "matched"}
        )
        assert answer is None
        await r.press(ADMIN, _button(connector.cards(), "Send to 2 people"))
        assert _everything(connector).count("Drinks on Friday") >= 3  # the preview and both buddies

        # the chart is an image inside the card
        chart = await r.say(ADMIN, "status chart")
        [image] = [e for e in chart[-1]["body"] if e.get("type") == "Image"]
        assert (
            image["url"].startswith("data:image/png;base64,") and "registrations per week" in image["altText"]
        )

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


async def _letters(r: Round) -> None:
    await r.say(ADMIN, "task send")
    for user, text in ((ALICE, "Managers juggle the rota every single week, which I never saw."),
                       (BOB, "Clinicians carry the risk of each decision, which I never saw.")):  # fmt: skip
        respond = _button(r.h.connector.cards("19:chat-1@thread.v2"), "Respond")
        answer, _ = await r.fill_dialog(user, respond, {"answer": text})
        assert answer is None


TASK = {"key": "rota_swap", "title": "Rota swap", "summary": "How a rota gets made",
        "instructions": "Each write how your rota is made, then compare.", "individual_words": "120",
        "reply_words": "80", "joint_words": "", "competencies": ("MLCF|Working with others",), "minutes": "30",
        "due_days": "7"}  # fmt: skip


async def test_answers_digest_and_task_authoring_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        await _letters(r)
        shown = _texts((await r.say(ADMIN, "answers"))[-1])
        assert "rota every single week" in shown and "risk of each decision" in shown

        cards = await r.say(ADMIN, "digest")
        answer, _ = await r.fill_dialog(
            ADMIN,
            cards[-1]["actions"][0],
            {"intro": "From week one:", "send_to": "cohort"},
            keep_initial=True,
        )
        assert answer is None and "rota every single week" in _everything(connector)
        answer, _ = await r.fill_dialog(ADMIN, _button(connector.cards(), "Edit digest"),
                                        {"intro": "From week one, edited:", "send_to": "cohort"}, keep_initial=True)  # fmt: skip
        assert answer is None
        sent = await r.press(ADMIN, _button(connector.cards(), "Send digest"))
        assert "Sent the learning points to 2 people" in _texts(sent[0])
        assert "From week one, edited:" in _everything(connector)

        cards = await r.say(ADMIN, "task add")
        answer, added = await r.fill_dialog(ADMIN, cards[-1]["actions"][0], TASK)
        assert (
            answer is None and "Rota swap" in _everything(connector) and "rota_swap" in _everything(connector)
        )
        cards = await r.say(ADMIN, "task edit rota_swap")
        answer, _ = await r.fill_dialog(
            ADMIN, cards[-1]["actions"][0], {**TASK, "title": "Rota swap, revised"}
        )
        assert answer is None and "Rota swap, revised" in _everything(connector)
        ordered = await r.say(ADMIN, "task order rota_swap")
        assert "rota_swap" in _texts(ordered[-1])
    finally:
        await r.h.server.close()


async def test_people_pairs_and_group_buttons_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        card = await r.say(ADMIN, f"person @{ALICE}")
        assert "Asha Patel" in _texts(card[-1])
        card = await r.press(ADMIN, _button(card, "Pause"))
        card = await r.press(ADMIN, _button(card, "Resume"))
        assert _button(card, "Pause")

        shown = await r.say(ADMIN, f"pair @{ALICE} @{BOB}")
        assert "Rules this breaks" in _texts(shown[-1])
        paired = await r.press(ADMIN, _button(shown, "Pair them anyway"))
        assert "Paired Asha Patel and Ben Okafor" in _texts(paired[0])

        listed = await r.say(ADMIN, "groups")
        answer, _ = await r.fill_dialog(
            ADMIN, _button(listed, "Message group"), {"text": "Drop-in on Thursday at noon."}
        )
        assert answer is None
        r.clock.advance(seconds=5)  # one post a second in a chat: the new group's introduction went first
        await r.sender.drain()
        assert "Drop-in on Thursday at noon." in _everything(connector)
        rematched = await r.press(ADMIN, _button(listed, "Re-match"))
        assert "Re-matched" in _texts(rematched[0])
        waiting = await r.say(ADMIN, "waiting")
        assert "Asha Patel" in _texts(waiting[-1])

        card = await r.say(ADMIN, f"person @{BOB}")
        card = await r.press(ADMIN, _button(card, "Remove from scheme"))
        assert "left" in _texts(card[0]) and "Pause" not in str(card[0])
        card = await r.say(ADMIN, f"person @{ALICE}")
        await r.press(ADMIN, _button(card, "Pause"))
        card = await r.say(ADMIN, f"person @{ALICE}")
        card = await r.press(ADMIN, _button(card, "Move to waiting list"))
        assert "waiting" in _texts(card[0])

        # the inbox's Resolve
        await r.say(ALICE, "Hi, can we change our meeting day please?")
        resolved = await r.press(ADMIN, _button(connector.cards(), "Resolve"))
        assert "Resolved" in _texts(resolved[0])
        assert "is empty" in _texts((await r.say(ADMIN, "inbox"))[-1])
    finally:
        await r.h.server.close()


async def test_spreadsheet_coordinator_remove_announce_edit_and_contact_through_teams(db, connector, graph):
    import io

    from openpyxl import load_workbook

    from tests.teams.test_teams_files import CONSENT, attachments, consent

    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        cards = await r.say(ADMIN, "export xlsx")
        [offer] = attachments(connector, CONSENT)
        assert offer["name"].endswith(".xlsx")
        name = offer["name"]
        status, _ = await r.h.post(invoke(r.h.service_url, "fileConsent/invoke",
                                          consent(connector, "accept", offer["content"]["acceptContext"]["buddy_file"],
                                                  name), user=ADMIN))  # fmt: skip
        assert status == 200
        book = load_workbook(io.BytesIO(connector.uploads[name][0]))
        assert book.sheetnames == ["Participants", "Groups", "Progress per task", "Answers"]
        assert "Asha Patel; Ben Okafor" in str(list(book["Groups"].values))

        added = await r.say(ADMIN, f"coordinator add @{BOB}")
        assert "now coordinates" in _texts(added[-1])
        removed = await r.say(ADMIN, f"coordinator remove @{BOB}")
        assert "no longer coordinates" in _texts(removed[-1])
        last = await r.say(ADMIN, f"coordinator remove @{ADMIN}")
        assert "the only coordinator" in _texts(last[-1])

        cards = await r.say(ADMIN, "announce")
        await r.fill_dialog(
            ADMIN, cards[-1]["actions"][0], {"text": "Drinks on Friday", "audience": "matched"}
        )
        answer, _ = await r.fill_dialog(ADMIN, _button(connector.cards(), "Edit"),
                                        {"text": "Drinks on Friday at six", "audience": "everyone"})  # fmt: skip
        assert answer is None and "Drinks on Friday at six" in _everything(connector)

        cards = await r.say(ALICE, "contact")
        answer, _ = await r.fill_dialog(ALICE, cards[-1]["actions"][0], {"text": "Can I change my buddy?"})
        assert answer is None
        assert "Can I change my buddy?" in _texts((await r.say(ADMIN, "inbox"))[-1])
    finally:
        await r.h.server.close()


async def test_the_groups_list_pages_through_teams(db, connector, graph):
    """Sixteen groups: fifteen on the first card with Next page; Next and Previous move between them."""
    r = await start_round(db, connector, graph)
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        for n in range(16):
            await _join(r, connector, f"doc{n}", f"Doctor {n}", "clinician")
            await _join(r, connector, f"man{n}", f"Manager {n}", "general_manager")
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        first = await r.say(ADMIN, "groups")
        assert "Page 1 of 2" in _texts(first[-1]) and str(first[-1]).count("End group") == 15
        second = await r.press(ADMIN, _button(first, "Next page"))
        assert "Page 2 of 2" in _texts(second[-1]) and str(second[-1]).count("End group") == 1
        back = await r.press(ADMIN, _button(second, "Previous page"))
        assert "Page 1 of 2" in _texts(back[-1])
        forged = {"data": {**_button(second, "Previous page")["data"], "value": "1:all:9"}}
        answered = await r.press(ADMIN, forged)
        assert "only 2 pages" in _texts(answered[-1])
    finally:
        await r.h.server.close()


async def test_a_late_joiner_and_the_weekly_summary_through_teams(db, connector, graph):
    """A waiting doctor, a manager who fits joins, the coordinator presses Match them; then the
    weekly summary arrives with its chart inside the card."""
    r = await start_round(db, connector, graph)
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        await _join(r, connector, ALICE, "Asha Patel", "clinician")
        await _join(r, connector, "carol", "Chloe Wright", "clinician")
        await _join(r, connector, BOB, "Ben Okafor", "general_manager")
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        await _join(r, connector, "dev", "Dev Sharma", "general_manager")
        ask = _button(connector.cards(), "Match them")
        done = await r.press(ADMIN, ask)
        assert any("introduced" in _texts(c) and "Dev Sharma" in _texts(c) for c in done)
        assert "Dev Sharma" in _everything(connector) and "Meet your buddy" in _everything(connector)
        again = await r.press(ADMIN, ask)
        assert "nothing to do" in _texts(again[-1])

        cards = await r.say(ADMIN, "summary")
        assert any("Sent this week's summary, with its chart, to 1 coordinator." in _texts(c) for c in cards)
        [summary] = [c for c in cards if "Weekly summary" in _texts(c)]
        [image] = [e for e in summary["body"] if e.get("type") == "Image"]
        assert image["url"].startswith("data:image/png;base64,") and "per week" in image["altText"]
    finally:
        await r.h.server.close()


async def test_status_buttons_and_a_second_task_through_teams(db, connector, graph):
    """The status card's Chart shows the picture in a card and Spreadsheet offers the file; a second
    task warns first, Send anyway posts it, and a buddy's `task` lists both."""
    from tests.teams.test_teams_files import CONSENT, attachments

    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        status = await r.say(ADMIN, "status")
        chart = await r.press(ADMIN, _button(status, "Chart"))
        assert any(e.get("type") == "Image" for e in chart[-1]["body"])
        await r.press(ADMIN, _button(status, "Spreadsheet"))
        assert attachments(connector, CONSENT)[-1]["name"].endswith(".xlsx")

        await r.say(ADMIN, "task send")
        warned = await r.say(ADMIN, "task send virtual_shadowing")
        assert "1 group still has a task open" in _texts(warned[-1])
        posted = await r.press(ADMIN, _button(warned, "Send anyway"))
        assert any("Posted the task to 1 group." in _texts(c) for c in posted)
        mine = await r.say(ALICE, "task")
        assert "Problem page" in _texts(mine[-1]) and "Virtual shadowing" in _texts(mine[-1])
    finally:
        await r.h.server.close()


async def test_alerts_that_tell_the_truth_through_teams(db, connector, graph):
    """Ten days on: a whole silent group's alert ends the group with everyone on the waiting list;
    then, with one buddy writing and the other silent, Re-match the one waiting finds her someone new."""
    from datetime import timedelta

    r = await start_round(db, connector, graph)
    try:
        await _matched(r, connector)
        await r.say(ADMIN, "task send")
        start = r.clock.now()
        r.clock.set(start + timedelta(days=10))
        await r.say(ADMIN, "nudge")
        assert _button(connector.cards(), "Message the group")["data"]["msteams"] == {"type": "task/fetch"}
        ended = await r.press(ADMIN, _button(connector.cards(), "End group: all to waiting list"))
        assert any("Asha Patel and Ben Okafor are now on the waiting list" in _texts(c) for c in ended)

        await _join(r, connector, "carol", "Chloe Wright", "general_manager")
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        await r.say(ADMIN, "task send")
        opened = await r.press(ALICE, _button(connector.cards(), "Respond"))
        answer, _ = await r.fill_dialog(ALICE, _button(opened, opened[-1]["actions"][0]["title"]),
                                        {"answer": "Dear Chloe, a short letter about rotas and the winter."})  # fmt: skip
        assert answer is None
        r.clock.set(start + timedelta(days=20))
        await r.say(ADMIN, "nudge")
        alert = [c for c in connector.cards() if "Re-match the one waiting" in str(c)][-1]
        assert "Chloe Wright" in _texts(alert) and "is waiting" in _texts(alert)
        await _join(r, connector, "dev", "Dev Sharma", "general_manager")
        rematched = await r.press(ADMIN, _button([alert], "Re-match the one waiting"))
        assert any(
            "Asha Patel has a new buddy, Dev Sharma, and I've introduced them" in _texts(c) for c in rematched
        )
    finally:
        await r.h.server.close()
