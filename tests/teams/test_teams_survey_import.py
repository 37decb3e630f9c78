"""A Microsoft Forms workbook imported in Teams, end to end over HTTP: attached in the 1:1 chat with
``import``, the columns mapped in a dialog, the people looked up on the fake Microsoft Graph
(``GET /users/{mail}``), the preview, Import, and a welcome in each person's new 1:1 chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.schedule.email_lookup import EmailLookups
from tests.teams.fake_teams import invoke, message
from tests.teams.test_teams_round import ADMIN, _texts, start_round

FIXTURES = Path(__file__).parent.parent / "surveys" / "fixtures"
PEOPLE = {"asha.patel@nhs.net": ("aad-asha", "Asha Patel"), "ben.okafor@nhs.net": ("aad-ben", "Ben Okafor"),
          "chloe.wright@nhs.net": ("aad-chloe", "Chloe Wright"), "ella.brown@nhs.net": ("aad-ella", "Ella Brontë")}  # fmt: skip


def actions(card: dict) -> list[dict]:
    found = list(card.get("actions", []))
    for element in card.get("body", []):
        found += element.get("actions", [])
    return found


@pytest.mark.parametrize(
    ("export", "missing"),
    [("microsoft_forms.xlsx", 1), ("surveymonkey.xlsx", 1), ("surveymonkey.csv", 2), ("google_forms.csv", 1)],
)
async def test_each_export_is_imported_with_people_found_in_graph(db, connector, graph, export, missing):
    r = await start_round(db, connector, graph)
    h = r.h
    for mail, (object_id, name) in PEOPLE.items():
        graph.add_user(object_id, name, mail)
    graph.user_lookups_per_second = 50
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        survey = connector.attach(export, (FIXTURES / export).read_bytes())
        status, _ = await h.post(message(h.service_url, "import", user=ADMIN, attachments=[survey]))
        assert status == 200
        opener = connector.cards()[-1]["actions"][0]
        _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
        card = answer["task"]["value"]["card"]["content"]
        assert "Match the survey's columns" in str(card) and "The first 3 rows" in str(card)
        data = dict(card["actions"][0]["data"])
        data |= {e["id"]: e.get("value", "") for e in card["body"] if "id" in e}
        status, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        assert status == 200
        await r.sender.drain()
        assert "looking up 5 people by their work email in Microsoft Teams" in str(answer) + _texts(
            connector.cards()[-1]
        )

        lookups = EmailLookups(r.engine.run, {"teams": h.teams.directory})
        assert await lookups.drain() == 5
        asked = [c.path for c in graph.calls if c.path.startswith("/graph/users/")]
        assert len(asked) == 5 and any("sam.nobody@nhs.net" in p for p in asked)
        await r.sender.drain()
        preview = connector.cards()[-1]
        assert f"4 found, {missing} not found, 1 value to check" in _texts(preview)
        assert "no Microsoft Teams account with this email" in _texts(preview)
        [import_button] = [a for a in actions(preview) if a.get("title") == "Import 4"]
        cards = await r.press(ADMIN, import_button)
        assert any("4 new, 0 updated" in _texts(c) for c in cards)
        with r.engine.uow_factory() as uow:
            people = {p.user_id: p.status for p in uow.participants.in_cohort(1)}
        assert people == {
            "aad-asha": "invited",
            "aad-ben": "invited",
            "aad-chloe": "invited",
            "aad-ella": "invited",
        }
        welcomes = [c for c in connector.cards() if "Please check these details" in _texts(c)]
        assert len(welcomes) == 4
    finally:
        await h.server.close()


async def test_without_graph_nobody_can_be_found_by_email_and_the_preview_says_why(db, connector, graph):
    from adapters.teams import TeamsSettings
    from tests.teams.conftest import start_harness

    h = await start_harness(db, connector, TeamsSettings(dev_mode=True, service_url=connector.url))
    try:
        assert h.teams.directory is None and h.teams.messenger.capabilities.email_lookups == 0
    finally:
        await h.server.close()
