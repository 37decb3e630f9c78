"""Importing a survey export: every bad row reported by line and column; all or nothing."""

from __future__ import annotations

from bot.demo import demo_csv
from conversations.core.interactions import CloseForm, FileShared, FormErrors, FormSubmitted, Reply, ShowForm
from conversations.core.views import FileUpload
from conversations.flows.csv_import import parse
from tests.engine.helpers import ADMIN, cohort

HEADER = "Slack member ID,Full name,Email address,I am a,Profession,Grade,Speciality,Trust,Type of organisation,Region,Interests,Consent to take part"
GOOD = "U1,Asha Patel,asha@example.nhs.uk,Clinician,Doctor,CT2,Psychiatry,Northshire MH,Mental health trust,North West,Digital and data;Research,Yes"
GOOD2 = "U2,Ben Okafor,ben@example.nhs.uk,General manager,Manager,GMTS year 1,,Northshire MH,mental_health,north_west,,yes"


def people(chat):
    with chat.engine.uow_factory() as uow:
        return {p.user_id: p for p in uow.participants.in_cohort(1)}


def test_the_shipped_survey_export_imports_cleanly(chat):
    cohort(chat)
    report = chat.engine.import_csv("Test Cohort", demo_csv())
    assert (report.created, report.updated, report.errors) == (30, 0, [])
    roles = [p.role for p in people(chat).values()]
    assert roles.count("clinician") == 16 and roles.count("general_manager") == 10
    assert people(chat)["U012"].specialist_area == "it"


def test_columns_are_mapped_by_their_usual_headings(chat):
    cohort(chat)
    report = chat.engine.import_csv("Test Cohort", "\n".join([HEADER, GOOD, GOOD2]))
    assert report.imported and report.created == 2
    asha = people(chat)["U1"]
    assert (asha.display_name, asha.email, asha.specialty, asha.employer_type, asha.region) == (
        "Asha Patel", "asha@example.nhs.uk", "psychiatry", "mental_health", "north_west")  # fmt: skip
    assert asha.interests == ["digital", "research"] and asha.consent_data and not asha.consent_share


def test_bad_rows_are_reported_with_line_and_column_and_nothing_is_imported(chat):
    cohort(chat)
    bad_role = GOOD2.replace("General manager", "Wizard")
    no_consent = GOOD.replace("U1,", "U3,").replace(",Yes", ",No")
    duplicate = GOOD.replace("Asha Patel", "Asha Again")
    text = "\n".join(
        [
            HEADER,
            GOOD,
            bad_role,
            no_consent,
            duplicate,
            ",Nobody,,Clinician,Doctor,ST1,Surgery,A,acute,london,,yes",
        ]
    )
    report = chat.engine.import_csv("Test Cohort", text)
    assert not report.imported and people(chat) == {}
    messages = [str(e) for e in report.errors]
    assert messages[0].startswith("line 3: column “I am a”: “Wizard” isn't a role I know")
    assert messages[1].startswith("line 4: column “Consent to take part”: You need to agree")
    assert messages[2] == "line 5: column “Slack member ID”: U1 already appears on line 2"
    assert messages[3].startswith("line 6: column “Slack member ID”: the user id is empty")
    assert "Nothing imported: 4 rows have problems" in report.summary()


def test_skip_invalid_imports_the_good_rows(chat):
    cohort(chat)
    text = "\n".join([HEADER, GOOD, GOOD2.replace("GMTS year 1", ""), GOOD2.replace("U2", "U4")])
    report = chat.engine.import_csv("Test Cohort", text, skip_invalid=True)
    assert report.imported and (report.created, report.skipped) == (2, 1)
    assert "line 3: column “Grade”: Please give your grade" in str(report.errors[0])
    assert set(people(chat)) == {"U1", "U4"}


def test_reimport_updates_people_instead_of_duplicating_them(chat):
    cohort(chat)
    chat.engine.import_csv("Test Cohort", "\n".join([HEADER, GOOD, GOOD2]))
    report = chat.engine.import_csv("Test Cohort", "\n".join([HEADER, GOOD.replace("CT2", "CT3"), GOOD2]))
    assert (report.created, report.updated) == (0, 2)
    assert len(people(chat)) == 2 and people(chat)["U1"].grade == "CT3"


def test_missing_columns_and_other_broken_files():
    rows, errors = parse("Name,Email\nAsha,a@b.c\n")
    assert rows == [] and errors[0].line == 1 and "missing columns: user_id" in errors[0].message
    assert parse("")[1][0].message == "the file is empty"
    rows, errors = parse(HEADER + "\n" + GOOD + ",extra,cells\n")
    assert "cells but the header has" in errors[0].message
    rows, errors = parse(HEADER.replace(",", ";") + "\n" + GOOD2.replace(",", ";") + "\n")
    assert len(rows) == 1 and errors == []  # semicolon exports (Excel in many locales)
    rows, errors = parse("\ufeff" + HEADER + "\n" + GOOD + "\n")
    assert len(rows) == 1  # a byte-order mark from Excel


def test_import_into_an_unknown_cohort_is_refused(chat):
    import pytest

    from conversations.flows.context import Refusal

    with pytest.raises(Refusal, match="no cohort called “Nowhere”"):
        chat.engine.import_csv("Nowhere", HEADER + "\n" + GOOD)


# ---- from chat: a coordinator uploads the export ----------------------------------------------------

BAD = "U3,Cara Jones,cara@example.nhs.uk,Clinician,Doctor,,Psychiatry,Northshire MH,Mental health trust,Mars,,Yes"


def test_a_coordinator_imports_from_chat_with_a_file_form(chat):
    cohort(chat)
    outcome = chat.say(ADMIN, "import")
    assert isinstance(outcome, ShowForm) and outcome.form.title == "Import registrations"
    [upload] = [f for f in outcome.form.fields if isinstance(f, FileUpload)]
    assert upload.file_types == ("csv", "xlsx") and upload.required
    done = chat.submit(ADMIN, {"file": "\n".join([HEADER, GOOD, GOOD2]), "skip_invalid": False})
    assert isinstance(done, CloseForm)
    assert "Imported: 2 new, 0 updated. Cohort Test Cohort." in chat.last(ADMIN)
    assert set(people(chat)) == {"U1", "U2"}
    with chat.engine.uow_factory() as uow:
        [entry] = [a for a in uow.audit.for_cohort(1) if a.action == "import"]
    assert entry.actor == f"memory:T1:{ADMIN}" and entry.detail["created"] == 2


def test_a_bad_upload_is_refused_in_the_form_with_each_problem_and_nothing_imported(chat):
    cohort(chat)
    chat.say(ADMIN, "import")
    outcome = chat.submit(ADMIN, {"file": "\n".join([HEADER, GOOD, BAD]), "skip_invalid": False})
    assert isinstance(outcome, FormErrors)
    message = outcome.errors["file"]
    assert message.startswith(
        "Nothing imported: 1 row has problems: line 3: column “Grade”: Please give your grade"
    )
    assert ".." not in message
    assert "“Mars” isn't a region I know" in message and "tick the box" in message
    assert people(chat) == {}
    outcome = chat.submit(ADMIN, {"file": "   ", "skip_invalid": False})
    assert outcome == FormErrors({"file": "Please choose the CSV file to import."})
    outcome = chat.submit(ADMIN, {"file": "name,email\nAsha,a@x", "skip_invalid": True})
    # no platform ids: a survey export, whose columns are mapped first (tests/surveys)
    assert isinstance(outcome, ShowForm) and outcome.form.form_id == "import_mapping"
    chat.say(ADMIN, "import")
    done = chat.submit(ADMIN, {"file": "\n".join([HEADER, GOOD, BAD]), "skip_invalid": True})
    assert isinstance(done, CloseForm)
    assert "Imported: 1 new, 0 updated, skipped 1 invalid rows" in chat.last(ADMIN)
    assert "Skipped: line 3" in chat.last(ADMIN)
    assert set(people(chat)) == {"U1"}


def test_only_coordinators_may_import_from_chat(chat):
    cohort(chat)
    outcome = chat.say("U7", "import")
    assert isinstance(outcome, Reply) and "coordinator" in chat.last("U7")
    form = chat.say(ADMIN, "import")
    assert isinstance(form, ShowForm)
    forged = chat.engine.handle(FormSubmitted(chat.actor("U7"), form.form.form_id, form.form.state,
                                              {"file": "\n".join([HEADER, GOOD]), "skip_invalid": False}))  # fmt: skip
    assert isinstance(forged, FormErrors) and "coordinator" in forged.errors["_form"]
    assert people(chat) == {}
    assert chat.engine.lane(forged_submission(chat, form.form)) == "coordinator"


def forged_submission(chat, form):  # type: ignore[no-untyped-def]
    return FormSubmitted(chat.actor("U7"), form.form_id, form.state, {})


def test_a_csv_sent_in_chat_with_import_is_imported_and_anything_else_is_explained(chat):
    cohort(chat)
    outcome = chat.send_file(ADMIN, "survey.csv", "\n".join([HEADER, GOOD, GOOD2]))
    assert isinstance(outcome, Reply) and "send survey.csv again with the message `import`" in chat.last(
        ADMIN
    )
    assert people(chat) == {}
    chat.send_file(ADMIN, "survey.csv", "\n".join([HEADER, GOOD, BAD]), caption="import")
    assert "Nothing imported from survey.csv: line 3: column “Grade”" in chat.last(ADMIN)
    assert people(chat) == {}
    chat.send_file(
        ADMIN,
        "survey.csv",
        "\n".join([HEADER, GOOD, BAD]),
        caption='import skip-invalid cohort="Test Cohort"',
    )
    assert (
        "Imported: 1 new, 0 updated, skipped 1 invalid rows. Cohort Test Cohort, from survey.csv."
        in chat.last(ADMIN)
    )
    assert set(people(chat)) == {"U1"}
    chat.send_file("U7", "survey.csv", "\n".join([HEADER, GOOD2]), caption="import")
    assert "coordinator" in chat.last("U7") and set(people(chat)) == {"U1"}
    assert chat.engine.lane(FileShared(chat.actor("U7"), "x.csv", "", "import")) == "coordinator"
