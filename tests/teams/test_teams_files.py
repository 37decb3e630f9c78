"""A coordinator imports a survey export from Teams: dialogs cannot take files, so the dialog
asks for the file's text, pasted; a bad export comes back in the dialog with each problem."""

from __future__ import annotations

from tests.teams.fake_teams import invoke, message
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


CONSENT = "application/vnd.microsoft.teams.card.file.consent"
INFO = "application/vnd.microsoft.teams.card.file.info"


def attachments(connector, content_type: str) -> list[dict]:
    return [
        a
        for c in connector.sent()
        for a in (c.body or {}).get("attachments") or []
        if a["contentType"] == content_type
    ]


def consent(connector, action: str, file_id: str, name: str = "export.csv") -> dict:
    return {
        "type": "fileUpload", "action": action, "context": {"buddy_file": file_id},
        "uploadInfo": {"name": name, "uploadUrl": connector.upload_url(name), "uniqueId": "u-1", "fileType": "csv",
                       "contentUrl": f"https://nhs-my.sharepoint.com/personal/rachel/Documents/{name}"},
    }  # fmt: skip


async def answer_offer(h, connector, action: str, file_id: str, user: str) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """The person presses Accept or Decline on the file consent card."""
    return await h.post(
        invoke(h.service_url, "fileConsent/invoke", consent(connector, action, file_id), user=user)
    )


async def test_export_is_offered_as_a_file_and_uploaded_once_the_coordinator_accepts(db, connector, graph):
    r = await start_round(db, connector, graph)
    h = r.h
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        r.engine.import_csv("Test Cohort", "\n".join([HEADER, ASHA]))
        cards = await r.say(ADMIN, "export")
        assert "1 person" in _texts(cards[0])
        [offer] = attachments(connector, CONSENT)
        assert offer["name"].endswith(".csv") and offer["content"]["sizeInBytes"] > 0
        file_id = offer["content"]["acceptContext"]["buddy_file"]

        status, _ = await answer_offer(h, connector, "accept", file_id, ADMIN)
        assert status == 200
        data, headers = connector.uploads["export.csv"]
        lines = data.decode().splitlines()
        assert lines[0].startswith("name,user_id,email,role") and lines[1].startswith("Asha Patel,alice,")
        [shown] = attachments(connector, INFO)
        assert shown["name"] == "export.csv" and shown["content"] == {"uniqueId": "u-1", "fileType": "csv"}

        status, _ = await answer_offer(h, connector, "accept", file_id, ADMIN)
        assert status == 200 and len(attachments(connector, INFO)) == 1  # accepted once only
        assert "no longer waiting" in _texts(connector.cards()[-1])
    finally:
        await h.server.close()


async def test_only_the_person_offered_a_file_can_take_it_and_declining_drops_it(db, connector, graph):
    r = await start_round(db, connector, graph)
    h = r.h
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        await r.say(ADMIN, "export")
        [offer] = attachments(connector, CONSENT)
        file_id = offer["content"]["acceptContext"]["buddy_file"]
        await answer_offer(h, connector, "accept", file_id, "mallory")
        assert connector.uploads == {}
        await answer_offer(h, connector, "decline", file_id, ADMIN)
        assert "haven't sent it" in _texts(connector.cards()[-1])
        await answer_offer(h, connector, "accept", file_id, ADMIN)
        assert connector.uploads == {}

        group = {
            "id": "19:group@thread.v2",
            "conversationType": "groupChat",
            "tenantId": "tenant-1",
            "isGroup": True,
        }
        cards = await r.say(ADMIN, "export", conversation=group)
        assert "1:1 chat" in _texts(cards[-1]) and len(attachments(connector, CONSENT)) == 1
    finally:
        await h.server.close()


async def test_a_csv_attached_in_the_chat_with_import_is_imported(db, connector, graph):
    r = await start_round(db, connector, graph)
    h = r.h
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        survey = connector.attach("survey.csv", "\n".join([HEADER, ASHA]).encode("utf-8-sig"))
        status, _ = await h.post(message(h.service_url, "import", user=ADMIN, attachments=[survey]))
        assert status == 200
        assert "Imported: 1 new, 0 updated. Cohort **Test Cohort**, from survey.csv." in _texts(
            connector.cards()[-1]
        )
        with r.engine.uow_factory() as unit:
            assert [p.user_id for p in unit.participants.in_cohort(1)] == ["alice"]

        bad = connector.attach("bad.csv", "\n".join([HEADER, BAD]).encode())
        await h.post(message(h.service_url, "import", user=ADMIN, attachments=[bad]))
        assert "Nothing imported from bad.csv: line 2:" in _texts(connector.cards()[-1])
        other = connector.attach("notes.csv", b"a,b\n1,2\n")
        await h.post(message(h.service_url, "", user=ADMIN, attachments=[other]))
        assert "send notes.csv again with the message `import`" in _texts(connector.cards()[-1])
        gone = {**survey, "content": {**survey["content"], "downloadUrl": connector.upload_url("missing")}}
        await h.post(message(h.service_url, "import", user=ADMIN, attachments=[gone]))
        assert "couldn't fetch that file" in _texts(connector.cards()[-1])
    finally:
        await h.server.close()
