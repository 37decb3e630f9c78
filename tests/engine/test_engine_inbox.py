"""Buddies write to their coordinators in chat; coordinators reply, resolve, and are reminded."""

from __future__ import annotations

from conversations.core.interactions import ChatKind
from conversations.core.refs import UserRef
from conversations.flows import erasure
from conversations.flows.personal import export_all
from tests.engine.helpers import ADMIN, cohort, matched_pair


def test_free_text_goes_to_the_coordinators_and_the_reply_comes_back(chat):
    matched_pair(chat)
    chat.say("U1", "Hi, my buddy hasn't replied to me for two weeks").expect(
        "passed that on to your coordinators"
    ).expect_not("I don't know the command")
    assert "Asha Patel wrote to the coordinators" in chat.transcript(ADMIN)
    assert "my buddy hasn't replied to me for two weeks" in chat.transcript(ADMIN)
    chat.press_in_last(ADMIN, "Reply").expect("[form: Reply]")
    chat.submit(ADMIN, {"text": " "}).expect("text: Please write your reply")
    chat.submit(ADMIN, {"text": "Thanks Asha, I'll check in with Ben."}).expect(
        "Sent your reply to Asha Patel"
    )
    assert "Your coordinator replied:\nThanks Asha, I'll check in with Ben." in chat.transcript("U1")
    # the thread is kept: her next message continues it, with what was said before
    chat.say("U1", "Thank you, that would help a lot!")
    card = chat.log[ADMIN][-1]
    assert "my buddy hasn't replied" in card and "Thanks Asha" in card and "that would help a lot" in card
    chat.say(ADMIN, "inbox").expect("Asha Patel", "[Reply] [Resolve]")
    chat.press_in_last(ADMIN, "Resolve").expect("Resolved")
    chat.press_in_last(ADMIN, "Resolve").expect("already resolved")
    chat.press_in_last(ADMIN, "Reply").expect("has been resolved")
    chat.say(ADMIN, "inbox").expect("The inbox of Test Cohort is empty")
    chat.say("U1", "One more thing, please.")
    chat.say(ADMIN, "inbox").expect("One more thing, please.").expect_not("that would help a lot")


def test_sentences_in_a_group_chat_are_not_passed_on(chat):
    """Said in front of others (a group DM, a group chat, a channel): never forwarded as if it were
    the 1:1 chat, where the coordinators' reply would go."""
    matched_pair(chat)
    before = chat.transcript(ADMIN)
    for where in (ChatKind.GROUP, ChatKind.CHANNEL):
        chat.say("U1", "Hi, my buddy hasn't replied to me for two weeks", chat=where).expect(
            "I haven't passed that on", "in our 1:1 chat", "`contact`"
        ).expect_not("passed that on to your")
    assert chat.transcript(ADMIN) == before
    chat.say("U1", "inbox", chat=ChatKind.GROUP).expect_not(
        "I haven't passed that on"
    )  # commands work as ever
    chat.say(ADMIN, "inbox").expect("is empty")
    chat.say("U1", "Hi, my buddy hasn't replied to me for two weeks").expect(
        "passed that on to your coordinators"
    )


def test_contact_command_and_form(chat):
    matched_pair(chat)
    chat.say("U2", "contact Can I change my buddy?").expect("passed that on")
    assert "Can I change my buddy?" in chat.transcript(ADMIN)
    chat.say("U2", "contact").expect("[form: Talk to the coordinator]")
    chat.submit("U2", {"text": ""}).expect("text: Please write your message")
    chat.submit("U2", {"text": "x" * 2001}).expect("the limit is 2,000")
    chat.submit("U2", {"text": "Never mind, sorted."}).expect("passed that on")
    assert "Never mind, sorted." in chat.transcript(ADMIN)


def test_people_outside_the_scheme_are_told_how_to_join_not_passed_on(chat):
    cohort(chat)
    chat.person("UX", "Stranger")
    chat.say("UX", "Hello there, who runs this?").expect("I only understand commands")
    chat.say("UX", "contact hello").expect("not registered")


def test_unanswered_messages_remind_the_coordinators(chat, clock):
    matched_pair(chat)
    chat.say("U1", "Hello, is anyone there?")
    clock.advance(days=1)
    chat.say(ADMIN, "nudge")
    assert "Unanswered" not in chat.transcript(ADMIN)
    clock.advance(days=1)
    chat.say(ADMIN, "nudge")
    assert chat.transcript(ADMIN).count("Unanswered for 2 days") == 1
    chat.say(ADMIN, "nudge")
    assert chat.transcript(ADMIN).count("Unanswered for") == 1  # not again until two more days pass
    clock.advance(days=2)
    chat.say(ADMIN, "nudge")
    assert "Unanswered for 4 days" in chat.transcript(ADMIN)
    chat.press_in_last(ADMIN, "Reply")
    chat.submit(ADMIN, {"text": "Sorry for the wait!"})
    clock.advance(days=5)
    chat.say(ADMIN, "nudge")
    assert "Unanswered for 9 days" not in chat.transcript(ADMIN)


def test_inbox_ids_are_checked(chat):
    matched_pair(chat)
    chat.say("U1", "Hello, a question for you.")
    chat.press(ADMIN, "inbox_reply", "999").expect("no longer in the inbox")
    chat.press(ADMIN, "inbox_reply", "x").expect("no longer in the inbox")
    chat.press("U2", "inbox_resolve", "1").expect("only the coordinators of Test Cohort")


def test_forget_erases_inbox_messages(chat):
    matched_pair(chat)
    chat.say("U1", "Hello, please pass this on.")
    asha = UserRef("memory", "T1", "U1")
    exported = chat.engine.run(lambda ctx: export_all(ctx, asha))
    assert exported["messages to and from coordinators"][0]["text"] == "Hello, please pass this on."
    chat.engine.run(lambda ctx: erasure.forget(ctx, asha))
    with chat.engine.uow_factory() as uow:
        assert uow.inbox.open_threads(1) == [] and uow.inbox.for_participants([1]) == []


def test_the_reminder_delay_is_a_cohort_setting(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "cohort set inbox_remind_days=zero").expect("`inbox_remind_days` must be a whole number")
    chat.say(ADMIN, "cohort set inbox_remind_days=5")
    chat.say("U1", "Hello, is anyone there?")
    clock.advance(days=4)
    chat.say(ADMIN, "nudge")
    assert "Unanswered" not in chat.transcript(ADMIN)
    clock.advance(days=1)
    chat.say(ADMIN, "nudge")
    assert "Unanswered for 5 days" in chat.transcript(ADMIN)
