"""Coordinators run the scheme in chat: groups, waiting list, people, pairs, announcements, answers."""

from __future__ import annotations

from tests.engine.helpers import ADMIN, cohort, matched_pair, register

LETTER = "Dear Buddy, a short letter about a long meeting that went well."


def many_pairs(chat, pairs: int) -> None:
    cohort(chat)
    for i in range(pairs):
        register(chat, f"UC{i}", f"Clinician {i:02d}")
        register(chat, f"UM{i}", f"Manager {i:02d}", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")


def test_groups_lists_each_group_with_its_task_progress_and_buttons(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": LETTER})
    said = chat.say(ADMIN, "groups").expect(
        "Asha Patel",
        "Ben Okafor",
        "Round 1",
        "Problem page",
        "1 of 2 have written",
        "waiting on Ben Okafor",
        "[Message group] [Re-match] [End group]",
        "Page 1 of 1 · 1 group",
    )
    assert said
    chat.say(ADMIN, "groups waiting").expect("waiting on Ben Okafor")
    chat.say(ADMIN, "groups quiet").expect("There are no quiet groups")
    chat.say(ADMIN, "groups lonely").expect("“lonely” isn't a list I keep")
    chat.say(ADMIN, "groups page=x").expect("page= takes a page number")
    chat.say(ADMIN, "groups page=3").expect("There are only 1 pages")
    chat.say("U1", "groups").expect("that command is for scheme coordinators")


def test_groups_are_paged_within_platform_limits(chat):
    many_pairs(chat, 17)
    reply = chat.say(ADMIN, "groups").expect("Page 1 of 2 · 17 groups", "[Next page]")
    blocks = reply.message.blocks
    assert len(blocks) <= 50
    chat.press_in_last(ADMIN, "Next page").expect("Page 2 of 2", "[Previous page]")
    chat.press(ADMIN, "groups_page", "1:all:9").expect("There are only 2 pages")
    chat.press(ADMIN, "groups_page", "999:all:1").expect("That list is out of date")


def test_quiet_groups_and_the_group_buttons(chat, clock):
    matched_pair(chat)
    register(chat, "U3", "Cara Manager", "general_manager")
    register(chat, "U4", "Dev Clinician")
    chat.say(ADMIN, "task send")
    clock.advance(days=5)
    chat.say(ADMIN, "groups quiet").expect("Asha Patel", "quiet")
    chat.press_in_last(ADMIN, "Message group").expect("[form: Message the group]")
    chat.submit(ADMIN, {"text": ""}).expect("[form errors] text: Please write your message")
    chat.submit(ADMIN, {"text": "How are you both getting on?"}).expect(
        "Sent your message to Asha Patel and Ben Okafor"
    )
    assert "How are you both getting on?" in chat.transcript("U1")
    chat.press_in_last(ADMIN, "Re-match").expect("Re-matched:")
    statuses = {}
    with chat.engine.uow_factory() as uow:
        statuses = {p.user_id: p.status for p in uow.participants.in_cohort(1)}
    assert statuses["U1"] == "matched" and statuses["U2"] == "matched"  # each with someone new
    chat.press(ADMIN, "group_end", "1").expect("already ended or been re-matched")
    chat.press(ADMIN, "group_end", "abc").expect("That group no longer exists")


def test_end_group_puts_everyone_on_the_waiting_list(chat):
    matched_pair(chat)
    chat.say(ADMIN, "groups")
    chat.press_in_last(ADMIN, "End group").expect("Asha Patel and Ben Okafor are now on the waiting list")
    chat.say(ADMIN, "waiting").expect("1. Asha Patel", "2. Ben Okafor", "their group ended")


def test_waiting_list_positions_and_reasons(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    register(chat, "U3", "Cara Clinician")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    register(chat, "U4", "Dev Late")
    chat.say(ADMIN, "waiting").expect(
        "1. Cara Clinician",
        "round 1 had more clinicians than partners",
        "2. Dev Late",
        "registered since the last round",
    )
    chat.say(ADMIN, "groups")  # nothing wrong with an ordinary list meanwhile


def test_waiting_when_nobody_waits(chat):
    matched_pair(chat)
    chat.say(ADMIN, "waiting").expect("Nobody is waiting")


def test_person_card_and_its_buttons(chat):
    matched_pair(chat)
    chat.say(ADMIN, "person @U1").expect(
        "Asha Patel",
        "matched",
        "Group (round 1): with Ben Okafor",
        "[Pause] [Move to waiting list] [Remove from scheme]",
    )
    chat.say(ADMIN, "person").expect("Please mention 1 person")
    chat.say(ADMIN, "person @UNOBODY").expect("isn't registered in Test Cohort")
    chat.press_in_last(ADMIN, "Pause").expect("paused", "[Resume]")
    assert "Your coordinator has paused your place" in chat.transcript("U1")
    chat.press_in_last(ADMIN, "Pause").expect("already paused")
    chat.press_in_last(ADMIN, "Resume").expect("matched")
    chat.press_in_last(ADMIN, "Resume").expect("isn't paused")
    chat.press_in_last(ADMIN, "Move to waiting list").expect("waiting")
    assert "put you on the waiting list" in chat.transcript("U1")
    chat.say(ADMIN, "person @U1").expect("History: buddies with Ben Okafor")
    chat.press_in_last(ADMIN, "Remove from scheme").expect("left")
    assert "removed you from" in chat.transcript("U1")
    chat.press(ADMIN, "person_remove", "1").expect("no longer in the scheme")
    paused = chat.transcript("U1").count("paused your place")
    chat.press(ADMIN, "person_pause", "1").expect("no longer in the scheme")  # nobody who left is paused
    chat.press(ADMIN, "person_wait", "1").expect("no longer in the scheme")
    assert chat.transcript("U1").count("paused your place") == paused
    assert chat.transcript("U1").count("put you on the waiting list") == 1
    chat.press(ADMIN, "person_pause", "77").expect("no longer in the scheme")
    chat.press("U2", "person_pause", "2").expect("only the coordinators of Test Cohort")


def test_pair_by_hand_shows_the_matchers_view_and_broken_rules(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    register(chat, "U3", "Cara Clinician")
    chat.say(ADMIN, "pair @U1").expect("Mention two or three people")
    chat.say(ADMIN, "pair @U1 @U1").expect("Mention each person once")
    chat.say(ADMIN, "pair @U1 @U3").expect("Rules this breaks", "[Pair them anyway]")
    chat.say(ADMIN, "pair @U1 @U2").expect("The matcher's view: score", "[Pair them]").expect_not(
        "Rules this breaks"
    )
    chat.press_in_last(ADMIN, "Pair them").expect("Paired Asha Patel and Ben Okafor")
    assert "paired you by hand" in chat.transcript("U1")
    chat.say(ADMIN, "pair @U1 @U2").expect("Rules this breaks", "Asha Patel is matched")
    chat.press(ADMIN, "pair_confirm", "1:1-99").expect("out of date")


def test_coordinator_remove(chat):
    cohort(chat)
    chat.say(ADMIN, "coordinator remove @UADMIN").expect("the only coordinator")
    chat.say(ADMIN, "coordinator add @UCO2")
    chat.say(ADMIN, "coordinator remove @UNONE").expect("doesn't coordinate")
    chat.say(ADMIN, "coordinator remove").expect("Mention one person")
    chat.say(ADMIN, "coordinator remove @UCO2").expect("no longer coordinates")
    chat.say("UCO2", "groups").expect("don't coordinate a cohort")


def test_announce_previews_and_sends_once_to_the_audience(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Waiting")
    register(chat, "U4", "Dee Paused", "general_manager")
    chat.say("U4", "pause")
    chat.say(ADMIN, "announce").expect("[form: Announcement]")
    chat.submit(ADMIN, {"text": "", "audience": "everyone"}).expect("text: Please write the announcement")
    chat.submit(ADMIN, {"text": "Hi", "audience": "round", "round": "7"}).expect(
        "round: Please give a round from 1 to 1"
    )
    chat.submit(ADMIN, {"text": "Hi", "audience": "nobody"}).expect("audience: Please choose")
    chat.submit(ADMIN, {"text": "Drinks on Friday!", "audience": "everyone"}).expect(
        "Drinks on Friday!", "Everyone taking part, 3 people", "[Send to 3 people] [Edit]"
    )
    chat.press_in_last(ADMIN, "Edit").expect("[form: Announcement]")
    chat.submit(ADMIN, {"text": "Drinks on Friday at six!", "audience": "matched"}).expect(
        "People in a group, 2 people"
    )
    chat.press_in_last(ADMIN, "Send to 3 people").expect("already been sent or replaced")
    chat.press_in_last(ADMIN, "Send to 2 people").expect("Sent your announcement to 2 people")
    assert "Drinks on Friday at six!" in chat.transcript(
        "U1"
    ) and "Drinks on Friday at six!" in chat.transcript("U2")
    assert "Drinks on Friday" not in chat.transcript("U3") and "Drinks on Friday" not in chat.transcript("U4")
    chat.press_in_last(ADMIN, "Send to 2 people").expect("already been sent")
    assert chat.transcript("U1").count("Drinks on Friday at six!") == 1
    chat.say(ADMIN, "announce")
    chat.submit(ADMIN, {"text": "Round one only", "audience": "round", "round": "1"}).expect(
        "One round's groups 1, 2 people"
    )
    chat.say(ADMIN, "announce")
    chat.submit(ADMIN, {"text": "Waiting news", "audience": "waiting"}).expect("1 person")
    chat.press_in_last(ADMIN, "Send to 1 person")
    assert "Waiting news" in chat.transcript("U3") and "Waiting news" not in chat.transcript("U4")


def test_answers_within_consent(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "answers").expect("There are no answers to show yet")
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": LETTER})
    chat.say(ADMIN, "answers").expect("Asha Patel", "Problem page", LETTER)
    chat.say(ADMIN, "answers problem_page @U1").expect(LETTER)
    chat.say(ADMIN, "answers nosuch").expect("There's no task “nosuch”")
    chat.say(ADMIN, "answers a b").expect("Use `answers`")
    with chat.engine.uow_factory() as uow:
        uow.participants.find(1, chat.actor("U1").ref).consent_data = False
        uow.commit()
    chat.say(ADMIN, "answers").expect("no answers to show yet (1 held back: no consent)")


def test_home_and_help_list_the_new_commands_for_coordinators_only(chat):
    matched_pair(chat)
    chat.say(ADMIN, "help").expect(
        "`groups [quiet|waiting|all] [page=N]`", "`announce`", "`inbox`", "`waiting [auto|ask]`"
    )
    said = chat.say("U1", "help").expect("`contact [message]`")
    assert "`groups" not in "\n".join(said.seen)
