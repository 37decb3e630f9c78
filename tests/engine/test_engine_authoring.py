"""Coordinators write, edit and order their cohort's tasks in chat; each cohort has its own bank."""

from __future__ import annotations

from tests.engine.helpers import ADMIN, cohort, matched_pair

GOOD = {
    "key": "rota_swap",
    "title": "Rota swap",
    "summary": "How a rota gets made",
    "instructions": "Each write how your rota is made, then compare.",
    "individual_words": "120",
    "reply_words": "80",
    "joint_words": "",
    "competencies": ("MLCF|Working with others", "LQF|Delivering the service"),
    "minutes": "30",
    "due_days": "7",
}


def test_task_add_validates_every_field_then_adds_to_this_cohorts_bank(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task add").expect("[form: New task]")
    bad = {
        **GOOD,
        "key": "Rota Swap!",
        "title": "",
        "individual_words": "9000",
        "reply_words": "",
        "competencies": (),
        "minutes": "two",
        "due_days": "40",
    }
    chat.submit(ADMIN, bad).expect(
        "key: Use 2 to 40 lower-case letters",
        "title: Please write the title",
        "individual_words: Please give a word limit from 20 to 500",
        "competencies: Pick at least one",
        "minutes: Please give the minutes",
        "due_days: Please give the days",
    )
    chat.submit(ADMIN, {**GOOD, "individual_words": "", "reply_words": ""}).expect(
        "individual_words: Give at least one"
    )
    chat.submit(ADMIN, {**GOOD, "key": "problem_page"}).expect("key: “problem_page” is taken")
    chat.submit(ADMIN, {**GOOD, "competencies": ("XYZ|Nope",)}).expect(
        "competencies: Pick competencies from the list"
    )
    chat.submit(ADMIN, GOOD).expect("Added Rota swap (`rota_swap`) to the bank of Test Cohort")
    chat.say(ADMIN, "task list").expect("`rota_swap`: Rota swap", "`problem_page`")
    chat.say(ADMIN, "task order rota_swap").expect("Tasks will go in this order: `rota_swap`, `problem_page`")
    chat.say(ADMIN, "task order").expect("1. `rota_swap`: Rota swap")
    chat.say(ADMIN, "task order nosuch").expect("“nosuch” isn't in the bank")
    chat.say(ADMIN, "task order rota_swap rota_swap").expect("Name each task once")
    chat.say(ADMIN, "task send").expect("Posted the task to 1 group")
    post = [t for t in chat.log["U1"] if "Task 1:" in t][-1]
    assert "Task 1: Rota swap" in post and "MLCF: Working with others" in post
    respond = chat.press_in_last("U1", "Respond")
    assert respond.form.fields[-1].word_limit == 120


def test_another_cohort_does_not_see_a_cohorts_own_task(chat):
    cohort(chat)
    chat.say(ADMIN, "task add")
    chat.submit(ADMIN, GOOD)
    chat.person("UOTHER", "Other Coordinator")
    chat.say(ADMIN, "cohort create Second Cohort")
    chat.say(ADMIN, 'task list cohort="Second Cohort"').expect("`problem_page`").expect_not("rota_swap")
    chat.say(ADMIN, 'task send rota_swap cohort="Second Cohort"').expect(
        "There's no task “rota_swap” in the bank"
    )


def test_task_edit_own_task_in_place_and_a_shared_task_as_a_copy(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task add")
    chat.submit(ADMIN, GOOD)
    form = chat.say(ADMIN, "task edit rota_swap").expect("[form: Edit rota_swap]").form
    assert [f.initial for f in form.fields if getattr(f, "id", "") == "individual_words"] == ["120"]
    chat.submit(ADMIN, {**GOOD, "title": "Rota swap, revised"}).expect("Saved Rota swap, revised.")
    chat.say(ADMIN, "task list").expect("Rota swap, revised")
    chat.say(ADMIN, "task edit problem_page").expect("[form: Edit problem_page]")
    chat.submit(ADMIN, {**GOOD, "title": "Our problem page"}).expect(
        "as Test Cohort's own copy, `problem_page_1`"
    )
    chat.say(ADMIN, "task list").expect("`problem_page_1`: Our problem page").expect_not("`problem_page`:")
    chat.say(ADMIN, "task edit").expect("Say which task")
    chat.say(ADMIN, "task edit nosuch").expect("There's no task “nosuch”")
    chat.say("U1", "task add").expect("for scheme coordinators")
