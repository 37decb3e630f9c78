"""The programme in Teams (issue 15), over HTTP on loopback: the introduction carries links to call
and book a meeting, the week-one check-in's Need help lands in the coordinators' inbox and their
reply comes back, the portfolio PDF and Markdown are offered with a consent card and uploaded whole
(read back), a rating and its comment dialog, the evaluation dialog, the certificate PDF,
``cohort copy`` and its invitations, and the coordinator approving a waiting-list match."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from conversations.flows import programme
from tests.conftest import START
from tests.engine.helpers import registration
from tests.teams.fake_teams import account, invoke
from tests.teams.test_teams_files import CONSENT, answer_offer, attachments, consent
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, Round, _button, _texts, start_round

GROUP = {
    "id": "19:chat-1@thread.v2",
    "conversationType": "groupChat",
    "tenantId": "tenant-1",
    "isGroup": True,
}
LETTER = "Dear Buddy, " + " ".join(["word"] * 40)


def _everything(connector) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(_texts(c) for c in connector.cards())


async def _latest(r: Round, title: str) -> dict:  # type: ignore[type-arg]
    """The newest button called ``title`` (a post the sender's pacing held back for a second is
    sent once the clock has moved on)."""
    for _ in range(3):
        try:
            return _button(r.h.connector.cards(), title)
        except AssertionError:
            r.clock.advance(seconds=2)
            await r.sender.drain()
    return _button(r.h.connector.cards(), title)


async def _pair(r: Round, connector) -> None:  # type: ignore[no-untyped-def]
    for user in (ALICE, BOB, "cara", "dev"):
        connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    await r.say(ADMIN, "cohort create Test Cohort")
    for user, name, role in ((ALICE, "Asha Patel", "clinician"), (BOB, "Ben Okafor", "general_manager")):
        cards = await r.say(user, "join")
        await r.fill_dialog(user, cards[-1]["actions"][0], registration(name, role))
    await r.say(ADMIN, "match preview")
    await r.say(ADMIN, "match confirm")


async def _answer(r: Round, user: str, text: str) -> None:
    task = [c for c in r.h.connector.cards(GROUP["id"]) if "Respond" in str(c)][-1]
    opened = await r.press(user, _button([task], "Respond"), conversation=GROUP)
    answer, _ = await r.fill_dialog(user, opened[-1]["actions"][0], {"answer": text})
    assert answer is None


async def _file(r: Round, user: str, suffix: str) -> bytes:
    """Accept the newest file offered with ``suffix``; the bytes Buddy uploaded."""
    offer = [a for a in attachments(r.h.connector, CONSENT) if a["name"].endswith(suffix)][-1]
    name = offer["name"]
    request = consent(r.h.connector, "accept", offer["content"]["acceptContext"]["buddy_file"], name)
    status, _ = await r.h.post(invoke(r.h.service_url, "fileConsent/invoke", request, user=user))
    assert status == 200
    data, _ = r.h.connector.uploads[name]
    assert len(data) == offer["content"]["sizeInBytes"]
    return data


async def test_meeting_links_check_in_and_portfolio_pdf_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    h, clock = r.h, r.clock
    for user in (ALICE, BOB):
        connector.members[f"29:{user}"] = {**account(user), "userPrincipalName": f"{user}@nhs.example"}
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        for user, name, role in ((ALICE, "Asha Patel", "clinician"), (BOB, "Ben Okafor", "general_manager")):
            cards = await r.say(user, "join")
            await r.fill_dialog(user, cards[-1]["actions"][0], registration(name, role))
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        [intro] = connector.cards("19:chat-1@thread.v2")
        links = [a.get("url", "") for e in intro["body"] for a in e.get("actions", [])] + [
            a.get("url", "") for a in intro.get("actions", [])
        ]
        assert any(
            u.startswith("https://teams.microsoft.com/l/call/0/0?users=alice%40nhs.example") for u in links
        )
        assert any(u.startswith("https://teams.microsoft.com/l/meeting/new?subject=") for u in links)

        await r.say(ADMIN, "task send")
        clock.set(START + timedelta(days=7))
        r.engine.reconcile(1)
        r.engine.run(lambda ctx: programme.cohort_tick(ctx, 1))
        await r.sender.drain()
        asked = [c for c in connector.cards() if "Did you meet" in _texts(c)]
        assert asked
        helped = await r.press(BOB, _button(asked, "Need help"))
        assert any("asked your coordinators" in _texts(c) for c in helped)
        [card] = [c for c in connector.cards() if "Ben Okafor wrote to the coordinators" in _texts(c)]
        assert "haven't been able to meet Asha Patel" in _texts(card)
        answer, _ = await r.fill_dialog(
            ADMIN, _button([card], "Reply"), {"text": "I'll set up a call for you both."}
        )
        assert answer is None
        assert "I'll set up a call for you both." in _everything(connector)

        await r.say(ALICE, "portfolio markdown")
        markdown = (await _file(r, ALICE, ".md")).decode()
        assert "# Buddy scheme portfolio: Asha Patel" in markdown and "## Problem page" in markdown

        await r.say(ALICE, "portfolio")
        offer = [a for a in attachments(connector, CONSENT) if a["name"].endswith(".pdf")][-1]
        file_id = offer["content"]["acceptContext"]["buddy_file"]
        name = offer["name"]
        status, _ = await answer_offer(h, connector, "accept", file_id, ALICE)
        assert status == 200
        data, _ = connector.uploads[name] if name in connector.uploads else connector.uploads["export.csv"]
        assert data[:5] == b"%PDF-" and len(data) == offer["content"]["sizeInBytes"]
        text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
        assert "Buddy scheme portfolio: Asha Patel" in text and "Problem page" in text
    finally:
        await h.server.close()


async def test_rating_comment_survey_and_certificate_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _pair(r, connector)
        await r.say(ADMIN, "task send")
        for user, text in (
            (ALICE, LETTER),
            (BOB, LETTER),
            (ALICE, "Dear Ben, try this."),
            (BOB, "Dear Asha, try that."),
        ):
            await _answer(r, user, text)
        assert "you've completed" in _everything(connector)
        rated = await r.press(ALICE, await _latest(r, "4"))
        assert "you rated _Problem page_ 4 out of 5" in "".join(_texts(c) for c in rated)
        await r.press(BOB, await _latest(r, "2"))
        answer, _ = await r.fill_dialog(
            ALICE, _button(rated, "Add a comment"), {"comment": "More time, please"}
        )
        assert answer is None
        status = await r.say(ADMIN, "status")
        assert "3.0 / 5 from 2 ratings, 1 comments" in _texts(status[-1])

        ended = await r.say(ADMIN, "round end")
        assert "Closed 1 group" in "".join(_texts(c) for c in ended)
        answer, cards = await r.fill_dialog(ALICE, await _latest(r, "Answer the survey"), {
            "understand": "4", "confidence": "5", "recommend": "yes", "change": "More socials"})  # fmt: skip
        assert answer is None and "Thank you: your answers will help" in "".join(_texts(c) for c in cards)
        status = await r.say(ADMIN, "status")
        assert "1 of 2 answered" in _texts(status[-1]) and "Programme ended" in _texts(status[-1])
        assert "0 groups" not in _texts(status[-1])

        await r.press(ALICE, await _latest(r, "Get my certificate"))
        text = PdfReader(io.BytesIO(await _file(r, ALICE, ".pdf"))).pages[0].extract_text()
        assert "Certificate of participation" in text and "Asha Patel" in text and "Problem page" in text
    finally:
        await r.h.server.close()


async def test_cohort_copy_and_the_waiting_list_through_teams(db, connector, graph):
    r = await start_round(db, connector, graph)
    try:
        await _pair(r, connector)
        cards = await r.say("cara", "join")
        await r.fill_dialog("cara", cards[-1]["actions"][0], registration("Cara Jones", "clinician"))
        await r.say(ADMIN, "match preview")
        await r.say(ADMIN, "match confirm")
        where = await r.say("cara", "where am i")
        assert "number 1 of 1 on the waiting list" in _texts(where[-1])
        cards = await r.say("dev", "join")
        await r.fill_dialog("dev", cards[-1]["actions"][0], registration("Dev Shah", "general_manager"))
        approved = await r.press(ADMIN, await _latest(r, "Match them"))
        assert "introduced Cara Jones and Dev Shah" in "".join(_texts(c) for c in approved)
        assert "top of the waiting list" in _everything(connector)

        copied = await r.say(ADMIN, "cohort copy Pilot 2027")
        assert "Created **Pilot 2027**" in "".join(_texts(c) for c in copied)
        assert "invited 4 past participants" in "".join(_texts(c) for c in copied)
        [invite] = [c for c in connector.cards() if "Hello Ben Okafor: a new cohort" in _texts(c)]
        stayed = await r.press(BOB, _button([invite], "Stay on as a network member"))
        assert "You're staying on as a network member" in "".join(_texts(c) for c in stayed)
        refused = await r.say(ALICE, "cohort copy Pilot 2028")
        assert "for scheme coordinators" in _texts(refused[-1])
    finally:
        await r.h.server.close()
