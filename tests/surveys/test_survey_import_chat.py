"""A coordinator imports each survey tool's real export through the chat: columns mapped once,
answers normalised, people found by email in the background, a preview, then all or nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.memory.chat import Chat
from adapters.memory.directory import MemoryDirectory
from adapters.memory.messenger import MemoryMessenger
from adapters.uploads import decode_text
from conversations.core.views import Select
from conversations.delivery.sender import Sender
from conversations.engine import Engine
from conversations.flows.bank import sync_builtin
from conversations.ports.messenger import Capabilities
from conversations.schedule.email_lookup import EmailLookups
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.helpers import ADMIN, cohort

FIXTURES = Path(__file__).parent / "fixtures"
IN_SLACK = {"asha.patel@nhs.net": "U0AAA001", "ben.okafor@nhs.net": "U0BBB002",
            "chloe.wright@nhs.net": "U0CCC003", "ella.brown@nhs.net": "U0EEE005"}  # fmt: skip
EXPORTS = ["surveymonkey.xlsx", "surveymonkey.csv", "microsoft_forms.xlsx", "google_forms.csv"]


def fixture_text(name: str) -> str:
    text, problem = decode_text((FIXTURES / name).read_bytes())
    assert not problem
    return text


@pytest.fixture
def survey_chat(db, clock) -> Chat:  # type: ignore[no-untyped-def]
    uow = SqlUnitOfWorkFactory(db)
    messenger = MemoryMessenger("memory", Capabilities(email_lookups=50))
    engine = Engine(uow, clock=clock, seed=7, capabilities={"memory": messenger.capabilities},
                    admins=("T1:UADMIN",))  # fmt: skip
    engine.run(sync_builtin)
    sender = Sender(uow, {"memory": messenger}, clock, on_failure=engine.delivery_failed)
    directory = MemoryDirectory(IN_SLACK)
    chat = Chat(
        engine, messenger, sender, workspace="T1", lookups=EmailLookups(engine.run, {"memory": directory})
    )
    chat.directory = directory  # type: ignore[attr-defined]
    return chat


def people(chat: Chat) -> dict[str, object]:
    with chat.engine.uow_factory() as uow:
        return {p.user_id: p for p in uow.participants.in_cohort(1)}


def accept_guesses(chat: Chat):  # type: ignore[no-untyped-def]
    form = chat.person(ADMIN).open_form
    assert form is not None and form.form_id == "import_mapping"
    return chat.submit(ADMIN, {f.id: f.initial for f in form.fields if isinstance(f, Select)})


@pytest.mark.parametrize("export", EXPORTS)
def test_each_tools_export_is_mapped_looked_up_previewed_and_imported(survey_chat: Chat, export: str) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import").expect("[form: Import registrations]")
    chat.submit(ADMIN, {"file": fixture_text(export)}).expect("[form: Match the survey's columns]")
    form = chat.person(ADMIN).open_form
    assert form is not None
    guessed = {f.id: f.initial for f in form.fields if isinstance(f, Select)}
    assert all(guessed[name] for name in ("display_name", "email", "role", "grade", "employer", "region"))
    note = form.fields[1].text  # type: ignore[union-attr]
    assert "The first 3 rows" in note and "Psych" in note and "MH trust" in note

    blank = export == "surveymonkey.csv"  # one person left the email blank
    said = accept_guesses(chat)
    said.expect("I'm now looking up 5 people by their work email")
    said.expect(
        "4 found, 2 not found, 1 value to check" if blank else "4 found, 1 not found, 1 value to check"
    )
    said.expect("“Psychiatric medicine” → Psychiatry", "sam.nobody@nhs.net: no chat account with this email")
    if blank:
        said.expect("no email: email missing")
    assert people(chat) == {}  # nothing until the coordinator says so

    chat.press_in_last(ADMIN, "Import 4").expect(
        "Imported into Test Cohort: 4 new, 0 updated", "1 not found" if not blank else "2 not found"
    )
    found = people(chat)
    assert set(found) == {"U0AAA001", "U0BBB002", "U0CCC003", "U0EEE005"}
    asha, ben, chloe, ella = (found[u] for u in ("U0AAA001", "U0BBB002", "U0CCC003", "U0EEE005"))
    assert (asha.display_name, asha.role, asha.grade, asha.specialty, asha.employer_type, asha.region) == (
        "Asha Patel",
        "clinician",
        "CT2",
        "psychiatry",
        "mental_health",
        "north_east_yorkshire",
    )  # type: ignore[attr-defined]
    assert asha.interests == ["digital", "quality_improvement"] and asha.consent_share  # type: ignore[attr-defined]
    assert (ben.role, ben.grade, ben.employer_type) == ("general_manager", "GMTS year 1", "acute")  # type: ignore[attr-defined]
    assert (chloe.grade, chloe.specialty) == ("FY1", "psychiatry")  # type: ignore[attr-defined]
    assert ella.display_name == "Ella Brontë"  # type: ignore[attr-defined]
    assert {p.status for p in found.values()} == {"invited"}  # type: ignore[attr-defined]
    assert "Please check these details" in chat.transcript("U0AAA001")


def test_nobody_is_matched_until_they_confirm_and_a_reimport_updates(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("google_forms.csv")})
    accept_guesses(chat)
    chat.press_in_last(ADMIN, "Import 4")
    chat.say(ADMIN, "match preview").expect_not("Asha Patel")

    chat.press_in_last("U0AAA001", "Confirm and agree").expect("you're registered for Test Cohort")
    chat.press_in_last("U0AAA001", "Confirm and agree").expect("You've already confirmed")
    assert people(chat)["U0AAA001"].status == "registered"  # type: ignore[attr-defined]
    chat.press_in_last("U0BBB002", "Edit my details").expect("[form: Edit your profile]")
    assert people(chat)["U0BBB002"].status == "invited"  # type: ignore[attr-defined]

    # the next export: the saved mapping is used, known people need no lookup, nobody is duplicated
    asked = len(chat.directory.asked)  # type: ignore[attr-defined]
    text = fixture_text("google_forms.csv").replace("CT2", "CT3")
    chat.say(ADMIN, "import")
    said = chat.submit(ADMIN, {"file": text})
    said.expect("looking up 1 person", "4 found, 1 not found")
    assert chat.directory.asked[asked:] == ["sam.nobody@nhs.net"]  # type: ignore[attr-defined]
    chat.press_in_last(ADMIN, "Import 4").expect("0 new, 4 updated")
    assert len(people(chat)) == 4 and people(chat)["U0AAA001"].grade == "CT3"  # type: ignore[attr-defined]
    assert people(chat)["U0AAA001"].status == "registered"  # type: ignore[attr-defined]
    assert chat.transcript("U0AAA001").count("Please check these details") == 1


def test_those_not_found_can_be_exported_to_invite_them(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("surveymonkey.csv")})
    accept_guesses(chat)
    said = chat.press_in_last(ADMIN, "Export not found")
    said.expect(
        "line,name,email,reason",
        "Sam Nobody,sam.nobody@nhs.net,no chat account with this email",
        "Dev Sharma,,email missing",
    )
    chat.press_in_last(ADMIN, "Cancel").expect("Cancelled: nothing was imported")
    chat.press_in_last(ADMIN, "Import 4").expect("That import was cancelled.")
    assert people(chat) == {}


def test_unknown_values_and_bad_rows_are_named_by_line_and_column(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    text = (
        fixture_text("google_forms.csv")
        .replace("Psych,", "Xylophone,")
        .replace("ben.okafor@nhs.net", "ben at nhs")
    )
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": text})
    said = accept_guesses(chat)
    said.expect(
        "Nothing imported",
        "2 rows have problems",
        "line 2: column “What is your specialty?”: “Xylophone” isn't a specialty I know (closest:",
        "line 3: column “Email address”: “ben at nhs” isn't an email address",
    )
    assert people(chat) == {} and chat.directory.asked == []  # type: ignore[attr-defined]


def test_the_mapping_form_insists_on_the_fields_buddy_needs(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("microsoft_forms.xlsx")})
    form = chat.person(ADMIN).open_form
    values = {f.id: f.initial for f in form.fields if isinstance(f, Select)}  # type: ignore[union-attr]
    values["email"] = ""
    chat.submit(ADMIN, values).expect(
        "[form errors] email: Please choose the question with each person's work email."
    )


def test_an_empty_or_ragged_file_is_refused_with_where(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    header_only = fixture_text("google_forms.csv").splitlines()[0]
    chat.submit(ADMIN, {"file": header_only}).expect("it has headings but nobody's answers")
    ragged = header_only + "\n" + ",".join(["x"] * 30)
    chat.submit(ADMIN, {"file": ragged}).expect("line 2: 30 cells but the headings have 13 columns")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_the_encodings_the_chat_form_accepts_read_the_same(encoding: str) -> None:
    text = fixture_text("surveymonkey.csv")
    again, problem = decode_text(text.lstrip("\ufeff").encode(encoding))
    assert not problem and again.lstrip("\ufeff") == text.lstrip("\ufeff")
    assert re.search("Brontë", again)


def test_erasure_covers_answers_waiting_to_be_imported(survey_chat: Chat) -> None:
    from conversations.core.refs import UserRef
    from conversations.flows.personal import erase_all, export_all

    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("google_forms.csv")})
    accept_guesses(chat)  # the preview is waiting: nothing imported yet
    asha = UserRef("memory", "T1", "U0AAA001")
    held = chat.engine.run(lambda ctx: export_all(ctx, asha))
    [row] = held["survey import rows (answers waiting to be imported)"]
    assert row["email"] == "asha.patel@nhs.net" and row["answers"]["display_name"] == "Asha Patel"
    erased = chat.engine.run(lambda ctx: erase_all(ctx, asha))
    assert erased["survey import rows (answers waiting to be imported)"] == 1
    assert (
        chat.engine.run(lambda ctx: export_all(ctx, asha))[
            "survey import rows (answers waiting to be imported)"
        ]
        == []
    )
    chat.press_in_last(ADMIN, "Import 4").expect("3 new, 0 updated")


def test_a_file_sent_again_replaces_the_one_waiting_for_its_mapping(survey_chat: Chat) -> None:
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("google_forms.csv")})
    first = chat.person(ADMIN).open_form
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("google_forms.csv")})
    chat.person(ADMIN).open_form = first  # the first mapping form, still open in another window
    accept_guesses(chat).expect("replaced by one sent later")
    with chat.engine.uow_factory() as uow:
        assert uow.imports.get(1).text == "" and uow.imports.get(1).status == "cancelled"  # type: ignore[union-attr]


def test_an_import_left_waiting_a_day_expires_and_the_coordinator_is_told_once(
    survey_chat: Chat, clock
) -> None:  # type: ignore[no-untyped-def]
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("google_forms.csv")})  # waits for its mapping
    mapping_form = chat.person(ADMIN).open_form
    clock.advance(hours=12)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("surveymonkey.xlsx")})
    accept_guesses(chat).expect("4 found")  # a preview waiting for Import or Cancel

    clock.advance(hours=11)
    assert chat.engine.periodic()["expired survey imports"] == 0  # the first is 23 hours old
    clock.advance(hours=2)
    assert chat.engine.periodic()["expired survey imports"] == 0  # replaced by the second, not waiting
    clock.advance(hours=12)
    assert chat.engine.periodic()["expired survey imports"] == 1
    assert chat.engine.periodic()["expired survey imports"] == 0
    chat.deliver()
    told = chat.transcript(ADMIN)
    assert told.count("expired") == 1
    assert (
        "Your import of " in told
        and "for Test Cohort expired: it waited a day for your Import or Cancel" in told
    )
    assert "Send the file again with `import`" in told or "Send the file again with import" in told
    with chat.engine.uow_factory() as uow:
        assert uow.imports.get(2).status == "expired" and uow.imports.rows(2) == []  # type: ignore[union-attr]
    chat.press_in_last(ADMIN, "Import 4").expect("That import expired after waiting a day")
    assert people(chat) == {}
    chat.person(ADMIN).open_form = mapping_form
    accept_guesses(chat).expect("replaced by one sent later")


def test_a_mapping_nobody_finishes_expires_too(survey_chat: Chat, clock) -> None:  # type: ignore[no-untyped-def]
    chat = survey_chat
    cohort(chat)
    chat.say(ADMIN, "import")
    chat.submit(ADMIN, {"file": fixture_text("microsoft_forms.xlsx")})
    clock.advance(hours=25)
    assert chat.engine.periodic()["expired survey imports"] == 1
    chat.deliver()
    assert "waited a day for its column mapping" in chat.transcript(ADMIN)
    accept_guesses(chat).expect("That import expired after waiting a day: send the file again")
    with chat.engine.uow_factory() as uow:
        assert uow.imports.get(1).text == ""  # type: ignore[union-attr]
