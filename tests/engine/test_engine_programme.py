"""The buddy's whole programme (issue 15): meeting, absent members, portfolio, feedback, the end,
the next cohort and the waiting list, through the chat harness."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from conversations.core.interactions import CloseForm, FormErrors, Reply, ShowForm
from conversations.flows import programme
from conversations.ports.messenger import Capabilities
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, cohort, matched_pair, register, registration

LETTER = "Dear Buddy, " + " ".join(["word"] * 40)


def files_chat(db, clock):  # type: ignore[no-untyped-def]
    return make_chat(db, clock, Capabilities(group_dm=True, home_tab=True, send_files=True))


def trio(chat, allow: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A clinician (U1), a general manager (U2) and a finance manager (U3) in one group."""
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    register(chat, "U3", "Fi Finance", "specialist_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm").expect("1 group introduced")


def answer(chat, user: str, text: str = LETTER):  # type: ignore[no-untyped-def]
    opened = chat.press_in_last(user, "Respond")
    assert isinstance(opened, ShowForm), chat.last(user)
    return chat.submit(user, {"answer": text})


def tick(chat) -> None:  # type: ignore[no-untyped-def]
    """What the scheduler's tick does for cohort 1 (bot/scheduler.py)."""
    chat.engine.reconcile(1)
    chat.engine.run(lambda ctx: programme.cohort_tick(ctx, 1))
    chat.deliver()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# ---- meeting ------------------------------------------------------------------------------------


def test_introductions_carry_a_way_to_meet_and_a_week_later_a_check_in(chat, clock):
    matched_pair(chat)
    assert "start a huddle" in chat.transcript("U1")
    clock.advance(days=6)
    tick(chat)
    assert "Did you meet" not in chat.transcript("U1")
    clock.advance(days=1)
    tick(chat)
    chat.deliver()
    assert "Did you meet Ben Okafor this week" in chat.transcript("U1")
    tick(chat)
    assert chat.transcript("U1").count("Did you meet") == 1
    chat.press_in_last("U1", "Yes").expect("Brilliant")
    chat.press_in_last("U2", "Not yet").expect("a first 15 minutes is enough", "huddle")
    chat.press_in_last("U2", "Need help").expect("asked your coordinators", "their reply will come here")
    assert "Ben Okafor wrote to the coordinators" in chat.transcript(ADMIN)
    assert (
        "(Did you meet? check-in) I haven't been able to meet Asha Patel and would like help."
        in chat.transcript(ADMIN)
    )
    chat.say(ADMIN, "status").expect("Did you meet?", "1 yes, 0 not yet, 1 asked for help")
    chat.press_in_last(
        ADMIN, "Reply"
    )  # the request is an inbox thread: the coordinator answers Ben in his chat
    chat.submit(ADMIN, {"text": "Shall I set up a call for you both on Thursday?"})
    assert "Shall I set up a call for you both on Thursday?" in chat.transcript("U2")


def test_not_yet_gets_a_gentle_reminder_then_the_coordinators_hear(chat, clock):
    matched_pair(chat)
    clock.advance(days=7)
    tick(chat)
    chat.press_in_last("U1", "Yes")
    chat.press_in_last("U2", "Not yet").expect("a first 15 minutes is enough")
    clock.advance(days=2)
    tick(chat)
    assert "A gentle nudge" not in chat.transcript("U2")
    clock.advance(days=1)
    tick(chat)
    assert "A gentle nudge: have you and Asha Patel managed to meet yet?" in chat.transcript("U2")
    assert "start a huddle" in chat.last("U2") and "[Not yet]" in chat.last("U2")
    assert "A gentle nudge" not in chat.transcript("U1")  # Asha said Yes
    tick(chat)
    assert chat.transcript("U2").count("A gentle nudge") == 1
    clock.advance(days=6)
    tick(chat)
    assert "hadn't met their buddy yet" not in chat.transcript(ADMIN)
    clock.advance(days=1)
    tick(chat)
    assert (
        "Ben Okafor in Test Cohort (group: Asha Patel, Ben Okafor) said on Mon 14 Sep that they hadn't met "
        "their buddy yet"
    ) in chat.transcript(ADMIN)
    tick(chat)
    assert chat.transcript(ADMIN).count("hadn't met their buddy yet") == 1


def test_a_not_yet_followed_by_yes_or_a_pause_gets_no_follow_up(chat, clock):
    matched_pair(chat)
    clock.advance(days=7)
    tick(chat)
    chat.press_in_last("U1", "Not yet")
    chat.press_in_last("U2", "Not yet")
    clock.advance(days=1)
    chat.press_in_last("U1", "Yes")  # they met after all
    chat.say("U2", "pause")
    clock.advance(days=10)
    tick(chat)
    assert "A gentle nudge" not in chat.transcript("U1") + chat.transcript("U2")
    assert "hadn't met their buddy yet" not in chat.transcript(ADMIN)


def test_a_check_in_button_of_another_group_is_refused(chat, clock):
    matched_pair(chat)
    register(chat, "U5", "Eve Outsider")
    chat.press("U5", "met", "1:yes").expect("That group isn't one of yours.")
    chat.press("U1", "met", "1:maybe").expect("Please choose Yes, Not yet or Need help.")
    chat.press("U1", "met", "x1:yes").expect("That group isn't one of yours.")


# ---- tasks that survive an absent member -------------------------------------------------------


def test_in_a_trio_the_reply_opens_with_one_partners_letter_and_two_can_finish(chat):
    trio(chat)
    chat.say(ADMIN, "task send")
    assert "Taking part: Asha Patel, Ben Okafor, Fi Finance" in chat.transcript("U1")
    assert isinstance(answer(chat, "U1"), CloseForm)
    # Fi never writes: Ben's letter alone opens Asha's reply
    chat.press_in_last("U1", "Respond").expect("Ben Okafor or Fi Finance haven't sent their letter yet")
    assert isinstance(answer(chat, "U2"), CloseForm)
    opened = chat.press_in_last("U1", "Respond")
    assert isinstance(opened, ShowForm) and opened.form.state.endswith(":reply")
    chat.submit("U1", {"answer": "Dear Ben, try this."})
    answer(chat, "U2", "Dear Asha, try that.")
    assert "you've completed" not in chat.transcript("U1")  # Fi is still taking part
    chat.say("U3", "pause")  # the two who are present have finished
    assert "you've completed Problem page" in chat.transcript("U1")
    assert "How useful was Problem page" in chat.transcript("U1")
    assert "How useful was Problem page" not in chat.transcript("U3")
    # the two present have finished, so paused Fi doesn't make the group "still open"
    chat.say(ADMIN, "task send virtual_shadowing").expect("Posted the task to 1 group")
    assert "Fi Finance is paused: you can finish without them" in chat.transcript("U2")


def test_a_member_who_leaves_mid_task_never_blocks_and_answers_are_kept(chat):
    trio(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1")
    assert answer(chat, "U3").__class__ is CloseForm
    chat.say("U3", "leave").expect("You've left the scheme")
    assert "Carry on with Problem page: the answers you've already sent are kept" in chat.transcript("U1")
    answer(chat, "U2")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "Dear Ben"})
    chat.press_in_last("U2", "Respond")
    chat.submit("U2", {"answer": "Dear Asha"})
    assert "you've completed Problem page" in chat.transcript("U2")


def test_task_send_waits_only_for_members_who_are_present(chat):
    """Two trios: in one a member leaves mid-task, in the other a member pauses before writing;
    only a present member's missing answer makes ``task send`` warn."""
    trio(chat)
    register(chat, "U4", "Dev Shah")
    register(chat, "U5", "Eli Green", "general_manager")
    register(chat, "U6", "Gus Budget", "specialist_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm").expect("1 group introduced")
    chat.say(ADMIN, "task send")
    for user in ("U1", "U2", "U4", "U5"):
        answer(chat, user)
    answer(chat, "U3")  # Fi writes her letter, then leaves before replying
    chat.say("U3", "leave").expect("You've left the scheme")
    chat.say("U6", "pause")  # Gus never writes at all
    answer(chat, "U1", "Dear Ben")
    answer(chat, "U2", "Dear Asha")
    answer(chat, "U4", "Dear Eli")
    chat.say(ADMIN, "task send virtual_shadowing").expect("1 group still has a task open", "[Send anyway]")
    answer(chat, "U5", "Dear Dev")
    assert "you've completed Problem page" in chat.transcript("U5")
    chat.say(ADMIN, "task send virtual_shadowing").expect("Posted the task to 2 groups")
    assert "Gus Budget is paused: you can finish without them" in chat.transcript("U4")


def test_any_member_can_write_the_joint_answer(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send virtual_shadowing")
    opened = chat.press_in_last("U2", "Respond")
    assert isinstance(opened, ShowForm)
    day = chat.engine.clock.now().date() + timedelta(days=2)
    assert isinstance(chat.submit("U2", {"answer": day.isoformat()}), CloseForm)
    opened = chat.press_in_last("U1", "Respond")
    assert isinstance(opened, ShowForm) and opened.form.state.endswith(":log")


def test_answers_can_be_edited_until_due_and_task_lists_open_and_past(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1")
    chat.say("U1", "task").expect("Problem page", "your turn")
    clock.advance(days=8)
    chat.say("U1", "task").expect("No task is open just now", "Past tasks", "Problem page")
    said = chat.press("U1", "respond", "1:letter")
    assert isinstance(said, Reply)
    said.expect("can no longer be changed")


# ---- portfolio ---------------------------------------------------------------------------------


def test_portfolio_comes_as_a_summary_a_pdf_and_markdown_with_competencies(db, clock):
    chat = files_chat(db, clock)
    matched_pair(chat)
    chat.say("U1", "portfolio").expect("There's nothing in your portfolio yet")
    chat.say(ADMIN, "task send")
    answer(chat, "U1", "Dear Buddy, the rota — “why” — was changed without telling us.")
    said = chat.say("U1", "portfolio").expect("Your portfolio", "Problem page", "MLCF: Working with others")
    message = said.outcome.message
    assert message.file is not None and message.file.filename.endswith(".pdf") and bool(message.file.data)
    text = pdf_text(message.file.payload())
    assert "Buddy scheme portfolio: Asha Patel" in text and "Problem page" in text
    assert (
        "MLCF: Working with others (Encouraging contribution)" in text and "LQF: Personal qualities" in text
    )
    assert "the rota" in text and "With: Ben Okafor" in text
    md = chat.say("U1", "portfolio markdown").outcome.message.file
    assert md is not None and md.filename.endswith(".md") and not md.data
    assert "## Problem page" in md.content and "### Letter" in md.content and "the rota — “why”" in md.content
    chat.say("U1", "portfolio docx").expect("Say `portfolio` for the PDF or `portfolio markdown`")


def test_portfolio_and_certificate_keep_any_script_in_the_pdf_text(db, clock):
    """Welsh, Polish, Arabic, Chinese and an emoji survive the PDF: DejaVu Sans draws the first
    three (Arabic shaped, right to left), the Last Resort font stands in for the glyphs DejaVu lacks,
    and every character is in the PDF's text layer exactly as written."""
    name = "Siân Ó Briain 李雷 🙂"
    chat = files_chat(db, clock)
    cohort(chat)
    register(chat, "U1", name)
    register(chat, "U2", "أحمد الراشد", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    letter = "Dear Buddy, zażółć gęślą jaźń: Łódź’s rota changed again 🙂 and 日本語 notes went missing."
    answer(chat, "U1", letter)
    pdf = chat.say("U1", "portfolio").outcome.message.file
    assert pdf is not None
    text = " ".join(pdf_text(pdf.payload()).split())  # lines wrapped as on the page
    assert f"Buddy scheme portfolio: {name}" in text and letter in text and "أحمد الراشد" in text
    assert "?" not in text
    md = chat.say("U1", "portfolio markdown").outcome.message.file
    assert md is not None and f"# Buddy scheme portfolio: {name}" in md.content and letter in md.content
    answer(chat, "U2", "Dear Siân, ما الذي تغير؟ " + " ".join(["word"] * 20))
    answer(chat, "U1", "Dear Ahmed, diolch yn fawr.")
    answer(chat, "U2", "Dear Siân, شكرا.")
    chat.say(ADMIN, "round end").expect("Closed 1 group")
    certificate = chat.say("U1", "certificate").outcome.message.file
    assert certificate is not None
    text = pdf_text(certificate.payload())
    assert "Certificate of participation" in text and name in text and "Problem page" in text


# ---- feedback ----------------------------------------------------------------------------------


def _finish_problem_page(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say(ADMIN, "task send")
    answer(chat, "U1")
    answer(chat, "U2")
    answer(chat, "U1", "Dear Ben")
    answer(chat, "U2", "Dear Asha")


def test_after_a_task_a_one_tap_rating_and_a_comment_reach_status_and_export(chat):
    matched_pair(chat)
    _finish_problem_page(chat)
    chat.press_in_last("U1", "4").expect("you rated Problem page 4 out of 5")
    chat.press_in_last("U2", "2")
    chat.press_in_last("U2", "3").expect("(changed)")
    opened = chat.press_in_last("U2", "Add a comment")
    assert isinstance(opened, ShowForm)
    assert isinstance(chat.submit("U2", {"comment": "   "}), FormErrors)
    chat.submit("U2", {"comment": "More time please"}).expect("Thanks for your comment")
    chat.say(ADMIN, "status").expect("Usefulness: Problem page", "3.5 / 5 from 2 ratings, 1 comments")
    chat.press("U1", "rate_task", "1:9").expect("Please choose a rating from 1 to 5.")
    register(chat, "U7", "Nosy Parker")
    chat.press("U7", "rate_task", "1:5").expect("That task isn't one of yours")
    rows = list(csv.DictReader(io.StringIO(_export(chat))))
    assert {r["name"]: r["rating_problem_page"] for r in rows if r["name"] != "Nosy Parker"} == {
        "Asha Patel": "4",
        "Ben Okafor": "3",
    }


def _export(chat) -> str:  # type: ignore[no-untyped-def]
    with chat.engine.uow_factory() as uow:
        from conversations.flows.context import Ctx
        from conversations.flows.coordination import export_csv

        ctx = Ctx(uow, chat.engine.clock.now(), 7, {}, frozenset())
        return export_csv(ctx, uow.cohorts.get(1))


# ---- the programme's end -------------------------------------------------------------------------


def test_a_cohort_ends_after_its_tasks_with_a_survey_reminders_and_certificates(db, clock):
    chat = files_chat(db, clock)
    matched_pair(chat)
    chat.say(ADMIN, "programme end tasks=0").expect("tasks must be a number from 1 to 52")
    chat.say(ADMIN, "programme end date=2020-01-01").expect("date must be in the future")
    chat.say(ADMIN, "programme end").expect("Say when it ends")
    chat.say(ADMIN, "programme end tasks=1").expect("It ends after 1 task")
    chat.say(ADMIN, 'evaluation add "Was the weekly pace right?" scale').expect("Was the weekly pace right?")
    chat.say(ADMIN, "evaluation remove 9").expect("Say which question by its number, 1 to 5")
    _finish_problem_page(chat)
    tick(chat)
    assert "Test Cohort has come to an end" in chat.transcript("U1")
    chat.say(ADMIN, "task send")  # nothing open any more
    assert "Answer the survey" in [b.label for b in chat.buttons("U1")]
    opened = chat.press_in_last("U1", "Answer the survey")
    assert isinstance(opened, ShowForm)
    assert [f.id for f in opened.form.fields] == ["understand", "confidence", "recommend", "change", "q1"]
    errors = chat.submit("U1", {"understand": "7", "confidence": "4", "recommend": "yes", "q1": "3"})
    assert isinstance(errors, FormErrors) and "understand" in errors.errors
    chat.submit(
        "U1", {"understand": "4", "confidence": "5", "recommend": "yes", "change": "More socials", "q1": "3"}
    ).expect("Thank you")
    clock.advance(days=3)
    tick(chat)
    assert "A reminder: the survey" in chat.transcript("U2")
    assert "A reminder: the survey" not in chat.transcript("U1")
    chat.say(ADMIN, "status").expect(
        "Evaluation", "1 of 2 answered", "4.0 / 5 from 1", "1 yes, 0 maybe, 0 no"
    )
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(_export(chat)))}
    assert rows["Asha Patel"]["evaluation_change"] == "More socials"
    said = chat.press_in_last("U1", "Get my certificate").expect("Certificate of participation: 1 task")
    file = said.outcome.message.file
    assert file is not None and bool(file.data)
    text = pdf_text(file.payload())
    assert "Certificate of participation" in text and "Asha Patel" in text and "Problem page" in text
    assert "MLCF: Working with others" in text
    chat.say(ADMIN, "round end").expect("has already ended")


def test_round_end_closes_groups_politely_and_only_finishers_get_certificates(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    answer(chat, "U1")
    chat.say("U1", "certificate").expect("Certificates are made when the programme ends")
    chat.say(ADMIN, "round end").expect("Closed 1 group")
    assert "has come to an end: thank you" in chat.transcript("U2")
    assert "Get my certificate" not in [b.label for b in chat.buttons("U1")]
    chat.say("U1", "certificate").expect("I have none recorded for you")
    chat.say("U1", "round end").expect("for scheme coordinators")


def test_round_end_is_one_transaction_and_status_then_speaks_of_the_ended_programme(chat, monkeypatch):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones")
    register(chat, "U4", "Dev Shah", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm").expect("1 group introduced")
    chat.say(ADMIN, "status").expect("Matched: 4 people in 2 groups", "Current task done: 0 of 0 groups")
    real = programme.close_people

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)  # the survey and certificates are queued, then the process dies
        raise RuntimeError("power cut")

    monkeypatch.setattr(programme, "close_people", crash)
    with pytest.raises(RuntimeError):
        chat.say(ADMIN, "round end")
    with chat.engine.uow_factory() as uow:  # nothing happened: both groups run, nobody was thanked
        assert len(uow.matches.active_in(1)) == 2 and not programme.closed(uow.cohorts.get(1))
    assert "has come to an end" not in chat.transcript("U1") + chat.transcript("U3")
    assert "Answer the survey" not in chat.transcript("U1")
    monkeypatch.setattr(programme, "close_people", real)
    chat.say(ADMIN, "round end").expect("Closed 2 groups")
    assert chat.transcript("U3").count("has come to an end") == 1
    said = chat.say(ADMIN, "status").expect(
        "Programme ended: Mon 7 Sep 2026: 4 people were in its 2 groups at the end; no groups are running now"
    )
    assert "0 groups" not in str(said.outcome.message.text) + "".join(map(str, said.outcome.message.blocks))


# ---- the next cohort ---------------------------------------------------------------------------


def test_cohort_copy_carries_settings_and_coordinators_and_never_rematches_past_buddies(chat):
    matched_pair(chat)
    chat.say(ADMIN, "coordinator add @U9")
    chat.say(ADMIN, "cohort set nudge_pair_days=5")
    chat.say(ADMIN, "programme end tasks=3")
    chat.say(ADMIN, "cohort copy Test Cohort").expect("already exists")
    chat.say(ADMIN, "cohort copy !").expect("Give the new cohort a name")
    chat.say(ADMIN, "cohort copy Pilot-2027").expect("Created Pilot-2027", "2 coordinators", "invited 2 past")
    assert "Join again" in [b.label for b in chat.buttons("U1")]
    chat.press_in_last("U2", "Stay on as a network member").expect("network member")
    chat.press("U3", "stay_network", "2:1").expect("That invitation isn't yours.")
    with chat.engine.uow_factory() as uow:
        new = uow.cohorts.by_name("Pilot-2027")
        assert new.nudge_pair_days == 5 and new.settings["programme"] == {"end_tasks": 3}
        assert {c.user_id for c in uow.cohorts.coordinators(new.id)} == {"UADMIN", "U9"}
    assert isinstance(chat.press_in_last("U1", "Join again"), ShowForm)
    chat.submit("U1", registration("Asha Patel")).expect("registered for Pilot-2027")
    for user, name in (("U4", "Dev Shah"), ("U2", "Ben Okafor")):
        chat.person(user, name)
        assert isinstance(chat.say(user, "join Pilot-2027"), ShowForm)
        chat.submit(user, registration(name, "general_manager"))
    chat.say(ADMIN, "match preview cohort=Pilot-2027")
    chat.say(ADMIN, "match confirm cohort=Pilot-2027")
    assert "Meet your buddy" in chat.transcript("U4")
    with chat.engine.uow_factory() as uow:
        new = uow.cohorts.by_name("Pilot-2027")
        groups = [{p.user_id for p in uow.matches.members(m.id)} for m in uow.matches.active_in(new.id)]
    assert {"U1", "U4"} in groups and {"U1", "U2"} not in groups


def test_cohort_copy_carries_the_cohorts_own_tasks_and_order(chat):
    from tests.engine.test_engine_authoring import GOOD

    matched_pair(chat)
    chat.say(ADMIN, "task add")
    chat.submit(ADMIN, GOOD).expect("Added Rota swap (`rota_swap`)")
    chat.say(ADMIN, "task edit problem_page")
    chat.submit(ADMIN, {**GOOD, "title": "Our problem page"}).expect("own copy, `problem_page_1`")
    chat.say(ADMIN, "task order rota_swap")
    chat.say(ADMIN, "cohort copy Pilot-2027").expect("Created Pilot-2027")
    listed = (
        chat.say(ADMIN, "task list cohort=Pilot-2027")
        .expect("`rota_swap_2`: Rota swap", "`problem_page_2`: Our problem page")
        .expect_not("`problem_page`:", "_1`")
    )
    text = listed.outcome.message.text + "".join(map(str, listed.outcome.message.blocks))
    assert text.index("rota_swap_2") < text.index("problem_page_2")  # the order carries over too
    from conversations.flows.authoring import bank_for

    source = chat.engine.run(lambda ctx: [t.key for t in bank_for(ctx, ctx.uow.cohorts.get(1))])
    assert source[:2] == ["rota_swap", "problem_page_1"]  # the source keeps its own


# ---- the waiting list ----------------------------------------------------------------------------


def test_the_waiting_list_asks_the_coordinator_then_moves_by_itself_when_auto(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    register(chat, "U3", "Cara Jones")
    register(chat, "U4", "Dan Wells")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm").expect("2 on the waiting list")
    chat.say("U3", "where am I").expect(
        "number 1 of 2 on the waiting list", "more clinicians than general managers", "first in line"
    )
    chat.say("U4", "where am i").expect("number 2 of 2", "those ahead of you")
    chat.say("U1", "where am i").expect("You're matched in Test Cohort with Ben Okafor")
    register(chat, "U5", "Eli Green", "general_manager")
    assert "fits **Cara Jones**" in chat.transcript(ADMIN) or "fits Cara Jones" in chat.transcript(ADMIN)
    chat.press_in_last(ADMIN, "Match them").expect("introduced Cara Jones and Eli Green")
    chat.press("U3", "approve_waiting", "3:5").expect("only")
    chat.say(ADMIN, "waiting auto").expect("straight away")
    register(chat, "U6", "Fay Hall", "general_manager")
    assert "Meet your buddy" in chat.transcript("U4") and "Meet your buddy" in chat.transcript("U6")
    assert "From the waiting list: I matched Dan Wells" in chat.transcript(ADMIN)
    chat.say(ADMIN, "waiting").expect("matched automatically")


def test_the_programme_chart_has_the_figures_and_a_png(db, clock):
    chat = files_chat(db, clock)
    matched_pair(chat)
    _finish_problem_page(chat)
    chat.press_in_last("U1", "5")
    chat.press_in_last("U2", "2")
    said = chat.say(ADMIN, "programme chart").expect(
        "Problem page: 3.5 / 5 (2 ratings)", "Did you meet: 0 yes"
    )
    file = said.outcome.message.file
    assert file is not None and file.filename.endswith(".png") and file.payload()[:8] == b"\x89PNG\r\n\x1a\n"
    chat.say("U1", "programme chart").expect("for scheme coordinators")


def test_what_buddy_holds_about_ratings_check_ins_and_evaluation_is_exported_and_erased(chat, clock):
    from conversations.core.refs import UserRef
    from conversations.flows import erasure, personal

    matched_pair(chat)
    _finish_problem_page(chat)
    chat.press_in_last("U1", "4")
    clock.advance(days=7)
    tick(chat)
    chat.press_in_last("U1", "Yes")
    asha = UserRef("memory", "T1", "U1")
    held = chat.engine.run(lambda ctx: personal.export_all(ctx, asha))
    assert [e["answer"] for e in held["task ratings and comments"]] == ["4"]
    assert [e["answer"] for e in held["meeting check-ins, evaluation answers and network choices"]] == ["yes"]
    chat.engine.run(lambda ctx: erasure.forget(ctx, asha))
    with chat.engine.uow_factory() as uow:
        assert [e.participant_id for e in uow.entries.for_cohort(1)] == []


def test_a_cohort_with_an_end_date_closes_on_that_day_and_posts_no_more_tasks(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "programme end date=2026-09-20").expect("It ends on 2026-09-20")
    chat.say(ADMIN, "programme").expect(
        "is running", "How well do you now understand the other profession's role?"
    )
    clock.set(clock.now().replace(day=19))
    tick(chat)
    assert "has come to an end" not in chat.transcript("U1")
    clock.set(clock.now().replace(day=20))
    tick(chat)
    assert "Test Cohort has come to an end" in chat.transcript("U1")
    assert "Answer the survey" in [b.label for b in chat.buttons("U2")]
    chat.say(ADMIN, "programme").expect("is closed")
    with chat.engine.uow_factory() as uow:
        assert uow.matches.active_in(1) == []
    chat.say(ADMIN, "evaluation reset").expect("What should we change?")
    chat.say(ADMIN, "evaluation add hm").expect("Write the question in quotes")
    chat.say(ADMIN, "evaluation shuffle").expect("Use `evaluation add")
