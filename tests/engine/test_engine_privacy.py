"""People's rights through the chat harness: forget me (with a confirm button), mydata, consent as
records against a versioned notice, the patient-data guard on free text, the readable audit, and
the retention schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversations.core.interactions import ButtonPressed, CloseForm, CommandInvoked, FormErrors
from conversations.flows import consent, retention
from conversations.ports.messenger import Capabilities
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, cohort, matched_pair, register

LETTER = "Dear Ben, the rota on our ward changes every week and nobody tells the registrars why."
NHS_ANSWER = "NHS number 9434765919, DOB 12/03/1961, John Smith was on the ward and the rota broke."


def quietly(chat, user: str, text: str):  # type: ignore[no-untyped-def]
    """A command whose posts stay queued (the harness delivers after every step otherwise)."""
    return chat.engine.handle(CommandInvoked(chat.actor(user), text))


def queued_digest(chat) -> None:  # type: ignore[no-untyped-def]
    """The coordinator's curated digest of the latest task, sent but left in the outbox."""
    form = chat.say(ADMIN, "digest").expect("[form: Learning points]").form
    [points] = [f for f in form.fields if getattr(f, "id", "") == "points"]
    assert LETTER[:40] in points.initial  # Asha agreed to be quoted
    chat.submit(
        ADMIN, {"intro": "From week one:", "points": points.initial, "send_to": "cohort", "channel": ""}
    )
    [send] = [b for b in chat.buttons(ADMIN) if b.label == "Send digest"][-1:]
    chat.engine.handle(ButtonPressed(chat.actor(ADMIN), send.action_id, send.value))


def answer(chat, user: str, text: str):  # type: ignore[no-untyped-def]
    chat.press_in_last(user, "Respond")
    return chat.submit(user, {"answer": text})


def outbox_rows(chat):  # type: ignore[no-untyped-def]
    with chat.engine.uow_factory() as uow:
        return [i for s in ("pending", "sent", "failed", "held") for i in uow.outbox.by_status(s)]


@pytest.fixture
def files_chat(db, clock):  # type: ignore[no-untyped-def]
    return make_chat(db, clock, Capabilities(send_files=True))


# ---- forget me --------------------------------------------------------------------------------


def test_forget_me_asks_first_and_keep_changes_nothing(chat):
    matched_pair(chat)
    chat.say("U1", "forget me").expect("Erase everything Buddy holds about you?", "can't be undone")
    chat.press_in_last("U1", "Keep my data").expect("Nothing has been erased")
    chat.say("U1", "status").expect_not("not in a buddy scheme")


def test_forget_me_erases_tells_the_buddy_and_the_coordinator_without_details(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    chat.say(ADMIN, "digest")
    quietly(chat, ADMIN, "digest cohort=Test Cohort")  # nothing new: the same key
    chat.press_in_last("U1", "Respond")  # an open form does not stop erasure

    chat.say("U1", "forget me")
    chat.press_in_last("U1", "Erase my data").expect("Buddy has erased what it held about you")
    chat.deliver()
    assert "your buddy has stepped away" in chat.transcript("U2")  # as for a departure
    notice = chat.last("UADMIN")
    assert "asked Buddy to erase their data" in notice and "Asha" not in notice
    for row in outbox_rows(chat):
        assert "Asha Patel" not in json.dumps(row.message) and "U1" not in json.dumps(row.recipient)
        assert LETTER[:40] not in json.dumps(row.message)
    chat.say("U1", "mydata").expect("Buddy holds nothing about you")
    chat.say("U1", "forget me").expect("Buddy holds nothing about you")


def test_a_queued_digest_quoting_the_person_is_cancelled_when_they_are_forgotten(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones")
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    queued_digest(chat)  # for the matched (Asha and Ben), quoting Asha
    chat.engine.handle(ButtonPressed(chat.actor("U1"), "forget_me_confirm", ""))
    chat.deliver()
    assert "Learning points" not in chat.transcript("U2")
    with chat.engine.uow_factory() as uow:
        cancelled = [i for i in uow.outbox.by_status("failed") if "forgotten" in i.error]
        everything = [i for status in ("pending", "sent", "failed") for i in uow.outbox.by_status(status)]
    assert len(cancelled) >= 2
    assert all(LETTER[:40] not in json.dumps(i.message) for i in everything)


# ---- subject access ---------------------------------------------------------------------------------


def test_mydata_sends_a_readable_file_and_a_json_one(files_chat):
    chat = files_chat
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    said = chat.say("U1", "mydata").expect("everything Buddy holds about you", "`mydata json`")
    md = said.outcome.message.file
    assert md.filename.endswith(".md") and "## Profile" in md.content and "Asha Patel" in md.content
    assert LETTER in md.content and "## Consent records" in md.content and "participation" in md.content
    data = json.loads(chat.say("U1", "mydata json").outcome.message.file.content)
    held = data["held"]
    assert held["profile"][0]["employer"] == "Northshire Mental Health NHS Foundation Trust"
    assert [a["text"] for a in held["answers to tasks"]] == [LETTER]
    assert held["buddy groups"][0]["buddies"] == ["Ben Okafor"]
    assert [p["you were"] for p in held["match proposals"]] == ["in a group"]
    assert {r["kind"] for r in held["consent records"]} == {"participation", "quotes"}
    assert any(m["text"].startswith("New buddy task") for m in held["messages Buddy sent or queued for you"])
    chat.say("U1", "mydata pdf").expect("`mydata` or `mydata json`")
    with chat.engine.uow_factory() as uow:
        [entry, _] = [a for a in uow.audit.for_cohort(1) if a.action == "mydata"]
    assert entry.detail["rows"] > 5 and entry.detail["format"] == "markdown"


def test_mydata_inline_where_files_cannot_be_sent_and_nothing_for_strangers(chat):
    matched_pair(chat)
    chat.say("U1", "mydata").expect("cannot take files", "Asha Patel")
    chat.say("U9", "mydata").expect("Buddy holds nothing about you")


# ---- consent --------------------------------------------------------------------------------------------


def test_registration_shows_the_notice_and_records_what_was_agreed(chat):
    cohort(chat)
    chat.person("U1", "Asha Patel")
    form = chat.say("U1", "join").outcome.form
    assert f"version {consent.current().version}" in form.fields[0].text
    register(chat, "U1", "Asha Patel", consent_share=False)
    with chat.engine.uow_factory() as uow:
        rows = uow.consents.for_user(chat.actor("U1").ref)
    assert [(r.kind, r.agreed, r.notice_version) for r in rows] == [
        ("participation", True, consent.current().version), ("quotes", False, consent.current().version)]  # fmt: skip
    assert "Test Cohort" in rows[0].wording
    chat.say("U1", "consent").expect("agreed (participation", "withdrew (quotes")
    chat.say("U1", "privacy").expect("Privacy notice", "How Buddy uses your information")


def test_withdrawing_quotes_takes_the_words_out_of_queued_digests(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones")
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    queued_digest(chat)
    chat.say("U1", "consent withdraw quotes").expect("won't be quoted", "digests still waiting to go")
    assert "Learning points" in chat.transcript("U2") and "the rota on our ward" not in chat.transcript("U2")


def test_withdrawing_participation_pauses_and_offers_erasure(chat):
    matched_pair(chat)
    chat.say("U1", "consent withdraw quote").expect("I didn't follow that", "`consent withdraw quotes`")
    chat.say("U1", "status").expect_not("paused")
    chat.say("U1", "consent withdraw").expect("paused", "erase everything")
    chat.press_in_last("U1", "Erase my data").expect("Erase everything Buddy holds about you?")
    with chat.engine.uow_factory() as uow:
        [asha] = uow.participants.for_user(chat.actor("U1").ref)
        assert asha.status == "paused" and not asha.consent_data


def test_a_changed_notice_asks_again_at_the_next_interaction(chat, tmp_path: Path):
    matched_pair(chat)
    changed = tmp_path / "notice.md"
    changed.write_text("version: 2027-01\n\nWe now also keep your ratings.\n", encoding="utf-8")
    consent.use_notice(changed)
    try:
        chat.say("U1", "pause").expect("privacy notice has changed (now version 2027-01)", "`consent agree`")
        chat.say("U1", "privacy").expect("We now also keep your ratings")
        chat.say("U1", "consent agree").expect("version 2027-01")
        chat.say("U1", "pause").expect("Paused")
    finally:
        consent.use_notice(None)


def test_a_notice_without_a_version_is_refused_by_name(tmp_path: Path):
    bad = tmp_path / "notice.md"
    bad.write_text("Hello\n", encoding="utf-8")
    with pytest.raises(
        consent.NoticeError, match="line 1: the privacy notice must start with “version: ...”"
    ):
        consent.use_notice(bad)


# ---- the patient-data guard --------------------------------------------------------------------------------


def test_an_answer_with_patient_data_is_refused_without_echoing_it_and_nothing_is_stored(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones")
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    refused = chat.submit("U1", {"answer": NHS_ANSWER})
    assert isinstance(refused, FormErrors)
    error = refused.errors["answer"]
    assert "an NHS number and a date of birth" in error and "9434765919" not in error and "1961" not in error
    with chat.engine.uow_factory() as uow:
        assert uow.responses.for_cohort(1) == []
    quietly(chat, ADMIN, "digest")
    assert "9434765919" not in json.dumps([r.message for r in outbox_rows(chat)])
    ok = chat.submit(
        "U1", {"answer": "Ref 9434765918 is only a number with a bad check digit, on bleep 1234."}
    )
    assert isinstance(ok, CloseForm)


def test_profile_text_and_events_are_guarded_and_the_cohort_can_tune_it(chat):
    cohort(chat)
    chat.person("U1", "Asha Patel")
    chat.say("U1", "join")
    from tests.engine.helpers import registration

    refused = chat.submit("U1", registration("Asha Patel", employer="Ward 3, LS1 3EX"))
    assert isinstance(refused, FormErrors) and "a postcode" in refused.errors["employer"]
    chat.say(ADMIN, "event add")
    chat.submit(
        ADMIN,
        {
            "title": "Clinic for Mr Smith",
            "date": "2026-12-03",
            "start": "18:00",
            "end": "19:00",
            "place": "Leeds",
            "description": "MRN 1234567",
        },
    ).expect("patient data", "record number")
    chat.say(ADMIN, "cohort set patient_guard=relaxed").expect("patient_guard=relaxed")
    assert isinstance(chat.submit("U1", registration("Asha Patel", employer="Ward 3, LS1 3EX")), CloseForm)
    chat.say(ADMIN, "cohort set patient_guard=loose").expect(
        "`patient_guard` must be one of relaxed, standard, strict"
    )


# ---- audit ----------------------------------------------------------------------------------------------------


def test_the_coordinator_reads_their_cohorts_audit_with_counts(chat):
    matched_pair(chat)
    chat.say(ADMIN, "export")
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    queued_digest(chat)
    said = chat.say(ADMIN, "audit").expect("export in Test Cohort by UADMIN (rows 2", "digest in Test Cohort",
                                           "match confirm in Test Cohort")  # fmt: skip
    assert "Asha" not in "\n".join(said.seen)
    chat.say("U1", "audit").expect("for scheme coordinators")


# ---- retention ------------------------------------------------------------------------------------------------


def test_the_retention_schedule_removes_what_is_due_and_a_dry_run_changes_nothing(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1", LETTER)
    chat.say("U2", "leave")  # the group ends; Ben has left
    policy = retention.Retention()
    assert chat.engine.run(lambda ctx: retention.plan(ctx, policy)).total() == 0
    clock.advance(days=400)
    due = chat.engine.run(lambda ctx: retention.plan(ctx, policy))
    assert due.outbox > 0 and due.answers == 1 and due.left_profiles == 1 and due.proposals == 1
    assert chat.engine.run(lambda ctx: retention.plan(ctx, policy)) == due  # a dry run changes nothing
    done = chat.engine.run(lambda ctx: retention.apply(ctx, policy))
    assert (done.answers, done.left_profiles, done.proposals) == (1, 1, 1) and done.outbox == due.outbox
    assert chat.engine.run(lambda ctx: retention.plan(ctx, policy)).total() == 0
    with chat.engine.uow_factory() as uow:
        assert [r.text for r in uow.responses.for_cohort(1)] == ["[removed at the person's request]"]
        assert "Ben Okafor" not in {p.display_name for p in uow.participants.in_cohort(1)}
        assert all(not i.recipient.get("user_id") for i in uow.outbox.by_status("sent"))
    clock.advance(days=731)
    done = chat.engine.run(lambda ctx: retention.apply(ctx, policy))
    assert done.audit > 0


def test_retention_settings_are_checked_by_name():
    assert retention.Retention.from_settings({"BUDDY_RETENTION_AUDIT_DAYS": "365"}).audit_days == 365
    with pytest.raises(ValueError, match="BUDDY_RETENTION_OUTBOX_DAYS must be a whole number of days"):
        retention.Retention.from_settings({"BUDDY_RETENTION_OUTBOX_DAYS": "soon"})


def test_an_import_refuses_patient_data_by_column_and_records_consent_from_the_survey(chat):
    cohort(chat)
    header = "Slack member ID,Full name,I am a,Profession,Grade,Speciality,Trust,Type of organisation,Region,Consent"
    good = "U1,Asha Patel,Clinician,Doctor,CT2,Psychiatry,Northshire,Mental health trust,North West,Yes"
    bad = "U2,Ben Okafor,Clinician,Doctor,CT2,Psychiatry,Ward 4 LS1 3EX,Mental health trust,North West,Yes"
    report = chat.engine.import_csv("Test Cohort", "\n".join([header, good, bad]))
    [problem] = report.errors
    assert (
        problem.line == 3
        and "looks like patient data (a postcode)" in str(problem)
        and "LS1" not in str(problem)
    )
    report = chat.engine.import_csv("Test Cohort", "\n".join([header, good]))
    assert report.imported
    with chat.engine.uow_factory() as uow:
        [record, *_] = uow.consents.for_user(chat.actor("U1").ref)
    assert (record.kind, record.agreed, record.source) == ("participation", True, "survey import")
