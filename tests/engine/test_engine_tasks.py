"""Posting tasks and collecting responses: forms, word limits, partners told, joint answers."""

from __future__ import annotations

from conversations.core.interactions import CloseForm, FormErrors, Reply, ShowForm
from conversations.core.views import DateField, LongText, Note, Select
from tests.engine.helpers import ADMIN, matched_pair, register

LETTER = "Dear Buddy, " + " ".join(["word"] * 60)


def assignments(chat):
    with chat.engine.uow_factory() as uow:
        return [a for m in uow.matches.active_in(1) for a in uow.assignments.for_match(m.id)]


def responses(chat):
    with chat.engine.uow_factory() as uow:
        return [r for a in assignments(chat) for r in uow.responses.for_assignment(a.id)]


def test_task_send_posts_the_next_task_once_to_each_group(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    assert "Posted the task to 1 group" in chat.last(ADMIN)
    [post] = [p for p in chat.messenger.seen("U1") if "Task 1" in p.text]
    assert post.conversation.conversation_id == "G-U1-U2"
    assert "Problem page" in post.text and "About 30 minutes" in post.text and "due Mon 14 Sep" in post.text
    assert "MLCF: Working with others" in post.text and "LQF:" in post.text
    assert [b.label for b in post.buttons()] == ["Respond"]
    chat.say(ADMIN, "task send problem_page")
    assert "already has that task" in chat.last(ADMIN)
    chat.say(ADMIN, "task send no_such_task")
    assert "There's no task “no\\_such\\_task”" in chat.last(ADMIN) or "no_such_task" in chat.last(ADMIN)
    assert [a.task_key for a in assignments(chat)] == ["problem_page"]
    chat.say(ADMIN, "task send")  # again in the same period: the group has this period's task
    assert [a.task_key for a in assignments(chat)] == ["problem_page"]
    chat.say(ADMIN, "task send virtual_shadowing").expect("1 group still has a task open", "[Send anyway]")
    assert [a.task_key for a in assignments(chat)] == ["problem_page"]  # a warning first
    chat.press_in_last(ADMIN, "Send anyway").expect("Posted the task to 1 group")
    assert [a.task_key for a in assignments(chat)] == ["problem_page", "virtual_shadowing"]
    # buddies see both open tasks, in `task` and on Home
    chat.say("U1", "task").expect(
        "Your tasks", "Problem page: due Mon 14 Sep", "Virtual shadowing: due Mon 14 Sep"
    )
    home = "\n".join(getattr(b, "text", "") for b in chat.open_home("U1").blocks)
    assert "Open task: _Problem page_" in home and "Open task: _Virtual shadowing_" in home


def test_a_letter_over_the_word_limit_is_refused_with_the_count_and_nothing_is_saved(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    outcome = chat.press_in_last("U1", "Respond")
    assert isinstance(outcome, ShowForm)
    [field] = [f for f in outcome.form.fields if isinstance(f, LongText)]
    assert field.id == "answer" and field.word_limit == 100
    outcome = chat.submit("U1", {"answer": " ".join(["word"] * 101)})
    assert isinstance(outcome, FormErrors)
    assert outcome.errors == {"answer": "Your letter is 101 words; the limit is 100. Please cut 1 words."}
    outcome = chat.submit("U1", {"answer": "   "})
    assert isinstance(outcome, FormErrors) and "Please fill in your letter" in outcome.errors["answer"]
    assert responses(chat) == []


def test_letters_then_replies_the_reply_form_shows_the_partners_letter(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    outcome = chat.submit("U1", {"answer": LETTER})
    assert isinstance(outcome, CloseForm)
    assert "saved your letter (62 words)" in chat.last("U1")
    assert "Asha Patel sent their letter for Problem page" in chat.transcript("U2")
    # U1's next phase waits for U2's letter
    outcome = chat.press_in_last("U1", "Respond")
    assert isinstance(outcome, Reply) and "Ben Okafor hasn't sent their letter yet" in chat.last("U1")
    chat.press_in_last("U2", "Respond")
    chat.submit("U2", {"answer": "Dear Buddy, managers <!channel> & doctors"})
    assert "Ben Okafor sent their letter" in chat.transcript("U1")
    outcome = chat.press_in_last("U1", "Respond")
    assert isinstance(outcome, ShowForm)
    notes = [f.text for f in outcome.form.fields if isinstance(f, Note)]
    assert any("Ben Okafor's letter" in n and "managers <!channel> & doctors" in n for n in notes)
    assert chat.submit("U1", {"answer": "Dear Ben, try this."}).__class__ is CloseForm
    chat.press_in_last("U2", "Respond")
    chat.submit("U2", {"answer": "Dear Asha, try that."})
    assert "you've completed Problem page" in chat.transcript("U1")
    assert {(r.phase, r.owner_id) for r in responses(chat)} == {
        ("letter", 1),
        ("letter", 2),
        ("reply", 1),
        ("reply", 2),
    }


def test_editing_a_response_keeps_one_row_and_records_the_edit(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "First draft"})
    clock.advance(hours=2)
    outcome = chat.press(("U1"), "respond", f"{assignments(chat)[0].id}:letter")
    assert isinstance(outcome, ShowForm)
    assert next(f for f in outcome.form.fields if isinstance(f, LongText)).initial == "First draft"
    chat.submit("U1", {"answer": "Second draft"})
    assert "updated your letter" in chat.last("U1")
    [row] = responses(chat)
    assert row.text == "Second draft" and row.edited_at == clock.now()
    assert chat.transcript("U2").count("sent their letter") == 1  # partners are told once


def test_joint_answers_and_choices_problem_based_learning(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send problem_based_learning")
    outcome = chat.press_in_last("U1", "Respond")
    assert isinstance(outcome, ShowForm)
    [choice] = [f for f in outcome.form.fields if isinstance(f, Select)]
    assert {o.label for o in choice.options} == {"Four-hour waits in A&E", "Implementing local change",
                                                 "Hospital at Night"}  # fmt: skip
    assert isinstance(chat.submit("U1", {"answer": "not_a_case"}), FormErrors)
    chat.submit("U1", {"answer": "hospital_at_night"})
    outcome = chat.press_in_last("U2", "Respond")  # U2 continues the joint task
    [answer] = [f for f in outcome.form.fields if isinstance(f, LongText)]
    assert answer.word_limit == 300 and "joint answer" in answer.hint
    chat.submit("U2", {"answer": "Our joint plan"})
    chat.press("U1", "respond", f"{assignments(chat)[0].id}:answer")
    chat.submit("U1", {"answer": "Our joint plan, improved"})
    rows = responses(chat)
    assert {(r.phase, r.owner_id, r.author_id) for r in rows} == {("case", 0, 1), ("answer", 0, 1)}
    assert "you've completed Problem-based learning case" in chat.transcript("U2")


def test_virtual_shadowing_date_must_fall_in_the_task_week(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send virtual_shadowing")
    outcome = chat.press_in_last("U1", "Respond")
    assert any(isinstance(f, DateField) for f in outcome.form.fields)
    for bad, says in (
        ("next tuesday", "Please pick a date"),
        ("2026-12-25", "between Mon 7 Sep and Mon 14 Sep"),
    ):
        result = chat.submit("U1", {"answer": bad})
        assert isinstance(result, FormErrors) and says in result.errors["answer"]
    assert isinstance(chat.submit("U1", {"answer": "2026-09-09"}), CloseForm)


def test_someone_elses_task_cannot_be_opened_or_answered(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    aid = assignments(chat)[0].id
    chat.person("U9", "Mallory")
    chat.say(ADMIN, "coordinator add @U9")  # even a coordinator is not a member of the group
    chat.press("U9", "respond", str(aid))
    assert "not registered" in chat.last("U9") or "isn't one of yours" in chat.last("U9")
    from tests.engine.helpers import register

    register(chat, "U9", "Mallory")
    chat.press("U9", "respond", str(aid))
    assert "isn't one of yours" in chat.last("U9")
    chat.press("U9", "respond", "garbage")
    assert "out of date" in chat.last("U9")


def test_task_command_lists_the_open_task_with_a_respond_button(chat):
    matched_pair(chat)
    chat.say("U1", "task")
    assert "You don't have a task yet" in chat.last("U1")
    chat.say(ADMIN, "task send")
    chat.say("U1", "task").expect("Your tasks", "Problem page", "your turn")
    assert isinstance(chat.press_in_last("U1", "Respond"), ShowForm)


def test_the_coordinators_figures_count_groups_that_finished_the_current_task(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones", "clinician")
    register(chat, "U4", "Dev Shah", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    chat.say(ADMIN, "status")
    assert "Current task done: 0 of 2 groups" in chat.last(ADMIN)
    for user, text in (("U1", LETTER), ("U2", LETTER), ("U1", "Dear Ben"), ("U2", "Dear Asha")):
        chat.press_in_last(user, "Respond")
        assert isinstance(chat.submit(user, {"answer": text}), CloseForm)
    chat.say(ADMIN, "status")
    figures = chat.last(ADMIN)
    assert "Current task done: 1 of 2 groups" in figures
    assert "Matched: 4 people in 2 groups" in figures
