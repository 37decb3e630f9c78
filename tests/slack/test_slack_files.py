"""Files in Slack. A coordinator imports a survey export: ``/buddy import`` opens a modal with a
file field; the app fetches the file with its bot token inside the 3 s window and imports it, or
says in the modal what is wrong (nothing is imported then). ``/buddy export`` sends the CSV file
to the coordinator's DM."""

from __future__ import annotations

from typing import Any

from adapters.slack.files import NOT_ALLOWED
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.round import COORDINATOR, Round

HEADER = (
    "Slack member ID,Full name,I am a,Profession,Grade,Speciality,Trust,Type of organisation,Region,Consent"
)
ASHA = "U0AAA001,Asha Patel,Clinician,Doctor,CT2,Psychiatry,Northshire,Mental health trust,North West,Yes"
BEN = "U0BBB002,Ben Okafor,General manager,Manager,GMTS year 1,,Northshire,Mental health trust,North West,Yes"
BAD = "U0CCC003,Cara Jones,Clinician,Doctor,,Psychiatry,Northshire,Mental health trust,Mars,Yes"


async def import_form(r: Round) -> dict[str, Any]:
    await r.say(COORDINATOR, "cohort create North")
    opened = len(r.fake.calls_to("views.open"))
    await r.say(COORDINATOR, "import")
    view = r.fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "import"
    [file_block] = [b for b in view["blocks"] if b.get("block_id") == "file"]
    assert file_block["element"] == {
        "type": "file_input",
        "action_id": "file",
        "filetypes": ["csv", "xlsx"],
        "max_files": 1,
    }
    return view


def registered(r: Round) -> set[str]:
    engine = r.engine
    with engine.uow_factory() as uow:
        return {p.user_id for c in uow.cohorts.all() for p in uow.participants.in_cohort(c.id)}


async def test_a_coordinator_uploads_a_survey_export_and_it_is_imported(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    view = await import_form(r)
    upload = fake.upload("survey.csv", "\n".join([HEADER, ASHA, BEN]).encode("utf-8-sig"))
    sent = await r.slack.submit(view, {"file": [upload], "skip_invalid": False}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""  # accepted: the modal closes
    await r.slack.settle()
    [download] = fake.calls_to("files.download")
    assert download.token == BOT_TOKEN and download.args["file"] == upload["id"]
    assert registered(r) == {"U0AAA001", "U0BBB002"}
    assert any("Imported: 2 new, 0 updated" in t for t in r.dm_texts(COORDINATOR))


async def test_a_bad_export_is_refused_beside_the_file_field_and_nothing_is_imported(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    view = await import_form(r)
    upload = fake.upload("survey.csv", "\n".join([HEADER, ASHA, BAD]).encode())
    sent = await r.slack.submit(view, {"file": [upload], "skip_invalid": False}, COORDINATOR)
    body = sent.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["file"]
    assert body["errors"]["file"].startswith("Nothing imported: 1 row has problems: line 3:")
    assert registered(r) == set()
    latin = fake.upload("excel.csv", "\n".join([HEADER, ASHA.replace("Asha", "Zoë")]).encode("cp1252"))
    sent = await r.slack.submit(view, {"file": [latin], "skip_invalid": False}, COORDINATOR)
    assert sent.text == ""  # Excel's Windows encoding is read too
    await r.slack.settle()
    engine = r.engine
    with engine.uow_factory() as uow:
        assert [p.display_name for p in uow.participants.in_cohort(1)] == ["Zoë Patel"]


async def test_without_files_read_the_modal_says_so_and_the_engine_is_not_asked(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    view = await import_form(r)
    fake.files_readable = False  # Slack answers with its sign-in page
    upload = fake.upload("survey.csv", "\n".join([HEADER, ASHA]).encode())
    sent = await r.slack.submit(view, {"file": [upload], "skip_invalid": False}, COORDINATOR)
    assert sent.json() == {"response_action": "errors", "errors": {"file": NOT_ALLOWED}}
    assert registered(r) == set()


async def test_export_sends_the_csv_file_to_the_coordinators_dm(round_: Round, fake: FakeSlack) -> None:
    r = round_
    view = await import_form(r)
    upload = fake.upload("survey.csv", "\n".join([HEADER, ASHA, BEN]).encode())
    await r.slack.submit(view, {"file": [upload], "skip_invalid": False}, COORDINATOR)
    await r.slack.settle()
    reply = await r.say(COORDINATOR, "export")
    assert reply and "2 people. The CSV file is in our direct messages" in str(reply["blocks"])
    await r.slack.settle()
    [done] = fake.calls_to("files.completeUploadExternal")
    dm = done.args["channel_id"]
    assert fake.conversations[dm].kind == "im" and COORDINATOR in fake.conversations[dm].members
    [posted] = [m for m in fake.messages_in(dm) if m.get("files")]
    name, content = fake.files[posted["files"][0]["id"]]
    assert name.startswith("buddy-north-") and name.endswith(".csv")
    lines = content.decode().splitlines()
    assert lines[0].startswith("name,user_id,email,role") and len(lines) == 3


async def test_when_the_file_cannot_be_sent_the_coordinator_is_told_why(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    fake.fail("files.completeUploadExternal", "missing_scope")
    await r.say(COORDINATOR, "export")
    await r.slack.settle()
    [sorry] = [t for t in r.dm_texts(COORDINATOR) if t.startswith("Sorry, I couldn't send you")]
    assert "(missing_scope)" in sorry and "files:write" in sorry
