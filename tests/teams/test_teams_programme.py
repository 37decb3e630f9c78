"""The programme in Teams (issue 15), over HTTP on loopback: the introduction carries links to call
and book a meeting, the week-one check-in's Need help reaches the coordinator, and the portfolio
PDF is offered with a consent card and uploaded whole (read back with pypdf)."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from conversations.flows import programme
from tests.conftest import START
from tests.engine.helpers import registration
from tests.teams.fake_teams import account
from tests.teams.test_teams_files import CONSENT, answer_offer, attachments
from tests.teams.test_teams_round import ADMIN, ALICE, BOB, _button, _texts, start_round


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
            a.get("url", "") for a in intro.get("actions", [])]
        assert any(u.startswith("https://teams.microsoft.com/l/call/0/0?users=alice%40nhs.example") for u in links)
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
        assert any("Ben Okafor** in Test Cohort" in _texts(c) for c in connector.cards())

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
