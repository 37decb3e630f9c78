"""The spreadsheet export, the status chart and the weekly summary to coordinators."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from conversations.core.views_codec import message_from_dict, message_to_dict
from conversations.ports.messenger import Capabilities
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, cohort, register

LETTER = "Dear Buddy, a short letter about a long meeting that went well."


def _round(chat) -> None:
    cohort(chat)
    register(chat, "U1", "=Asha Patel")  # a name a spreadsheet would run as a formula
    register(chat, "U2", "Ben Okafor", "general_manager", consent_data=True)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": LETTER})
    chat.press_in_last("U2", "Respond")
    chat.submit("U2", {"answer": "Dear Asha, " + LETTER})


def test_export_xlsx_has_the_four_sheets_and_only_consented_answers(db, clock):
    chat = make_chat(db, clock, Capabilities(group_dm=True, send_files=True))
    _round(chat)
    with chat.engine.uow_factory() as uow:
        uow.participants.find(1, chat.actor("U2").ref).consent_data = False
        uow.commit()
    said = chat.say(ADMIN, "export xlsx").expect(
        "the spreadsheet (participants, groups, progress per task and answers"
    )
    file = said.message.file
    assert file is not None and file.filename.endswith(".xlsx") and file.data[:2] == b"PK"
    book = load_workbook(io.BytesIO(file.data))
    assert book.sheetnames == ["Participants", "Groups", "Progress per task", "Answers"]
    people = list(book["Participants"].values)
    assert people[0][0] == "name" and people[1][0] == "'=Asha Patel"  # text, never a formula
    groups = list(book["Groups"].values)
    assert groups[1][2] == "'=Asha Patel; Ben Okafor" and groups[1][6] == "Problem page"
    progress = list(book["Progress per task"].values)
    assert progress[1][:3] == ("problem_page", "Problem page", 1)
    answers = list(book["Answers"].values)
    assert len(answers) == 2 and answers[1][-1] == LETTER  # Ben withdrew consent: his answer stays out
    # the message survives the outbox's JSON
    assert message_from_dict(message_to_dict(said.message)).file.data == file.data


def test_export_xlsx_where_files_cannot_be_sent(chat):
    cohort(chat)
    chat.say(ADMIN, "export xlsx").expect("buddybot export --cohort")
    chat.say("UX", "export xlsx").expect("for scheme coordinators")


def test_status_chart_on_demand(chat):
    _round(chat)
    said = chat.say(ADMIN, "status chart").expect(
        "Status: Test Cohort", "Matched", "[image: registrations per week:"
    )
    image = said.message.image
    assert image is not None and image.png[:8] == b"\x89PNG\r\n\x1a\n" and len(image.png) < 20_000
    assert "answers per week: 0, 0, 0, 0, 0, 0, 0, 2" in image.alt


def test_weekly_summary_goes_to_coordinators_once_a_week(chat, clock):
    _round(chat)
    chat.say(ADMIN, "summary").expect(
        "Sent this week's summary, with its chart, to 1 coordinator.",
        "Weekly summary: Test Cohort",
        "[image:",
    )
    chat.say(ADMIN, "summary").expect("already gone")
    # the scheduled tick sends it on Mondays, once
    clock.advance(days=7)
    chat.engine.reconcile(1)
    chat.deliver()
    assert chat.transcript(ADMIN).count("Weekly summary: Test Cohort") == 2
    clock.advance(hours=2)
    chat.engine.reconcile(1)
    chat.deliver()
    assert chat.transcript(ADMIN).count("Weekly summary: Test Cohort") == 2
    clock.advance(days=1)  # a Tuesday: nothing
    chat.engine.reconcile(1)
    chat.deliver()
    assert chat.transcript(ADMIN).count("Weekly summary: Test Cohort") == 2


def test_the_spreadsheet_writer_keeps_text_as_text_and_dates_as_dates():
    """What openpyxl reads back from the export's writer: text never a formula, characters XML
    cannot hold dropped, long text cut to a cell's limit, dates as dates, numbers as numbers."""
    from datetime import UTC, datetime

    from conversations.core.spreadsheet import MAX_CELL, workbook

    when = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
    data = workbook([("Odd: name/with [chars]", [["a", "b"], ["=1+1", "<b>&amp;\x07"], [3, 2.5, when, None, ""]]),
                     ("Long", [["x" * (MAX_CELL + 10)]])])  # fmt: skip
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Odd  name with  chars ", "Long"]
    rows = list(book.worksheets[0].values)
    assert rows[1][:2] == ("=1+1", "<b>&amp;")
    assert book.worksheets[0]["A2"].data_type == "s"
    assert rows[2][:3] == (3, 2.5, datetime(2026, 9, 1, 9, 30))
    assert len(book["Long"]["A1"].value) == MAX_CELL
