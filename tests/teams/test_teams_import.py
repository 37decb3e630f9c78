"""A coordinator imports a survey export from Teams: dialogs cannot take files, so the dialog
asks for the file's text, pasted; a bad export comes back in the dialog with each problem."""

from __future__ import annotations

from tests.teams.fake_teams import invoke
from tests.teams.test_teams_round import ADMIN, _as_teams_sends_it, _texts, start_round

HEADER = (
    "Teams user ID,Full name,I am a,Profession,Grade,Speciality,Trust,Type of organisation,Region,Consent"
)
ASHA = "alice,Asha Patel,Clinician,Doctor,CT2,Psychiatry,Northshire,Mental health trust,North West,Yes"
BAD = "bob,Ben Okafor,General manager,Manager,,,Northshire,Mental health trust,Mars,Yes"


async def test_a_coordinator_pastes_an_export_into_the_import_dialog(db, connector, graph):
    r = await start_round(db, connector, graph)
    h, uow = r.h, r.engine.uow_factory
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        cards = await r.say(ADMIN, "import")
        opener = cards[-1]["actions"][0]
        _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
        card = answer["task"]["value"]["card"]["content"]
        [box] = [e for e in card["body"] if e.get("id") == "file"]
        assert box["type"] == "Input.Text" and box["isMultiline"] and "paste" in box["label"]

        data = dict(card["actions"][0]["data"]) | {
            "file": "\n".join([HEADER, ASHA, BAD]),
            "skip_invalid": "false",
        }
        _, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        assert answer["task"]["type"] == "continue"  # shown again, with the problems
        again = answer["task"]["value"]["card"]["content"]
        shown = " ".join(e.get("text", "") + e.get("errorMessage", "") for e in again["body"])
        assert "Nothing imported: 1 row has problems: line 3:" in shown and "Mars" in shown
        with uow() as unit:
            assert unit.participants.in_cohort(1) == []

        data = dict(again["actions"][0]["data"]) | {
            "file": "\n".join([HEADER, ASHA]),
            "skip_invalid": _as_teams_sends_it(False),
        }
        _, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        assert answer is None  # the dialog closed
        assert "Imported: 1 new, 0 updated" in _texts(h.connector.cards()[-1])
        with uow() as unit:
            assert [p.user_id for p in unit.participants.in_cohort(1)] == ["alice"]
    finally:
        await h.server.close()
