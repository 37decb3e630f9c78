"""Inactivity: the pair first, then the quiet individual, then the coordinators; each once."""

from __future__ import annotations

from datetime import timedelta

from tests.engine.helpers import ADMIN, cohort, matched_pair, register

LETTER = "Dear Buddy, a short letter about a long meeting."


def nudges(chat):
    with chat.engine.uow_factory() as uow:
        return sorted(
            (n.level, n.participant_id)
            for a in uow.assignments.for_match(1)
            for n in uow.nudges.for_assignment(a.id)
        )


def test_nudges_escalate_on_the_cohorts_thresholds_and_fire_once(chat, clock):
    matched_pair(chat)
    start = clock.now()
    chat.say(ADMIN, "task send")
    clock.set(start + timedelta(days=3, hours=23))
    chat.say(ADMIN, "nudge")
    assert "Nudged 0 quiet groups and 0 quiet people" in chat.last(ADMIN)
    clock.set(start + timedelta(days=4))
    chat.say(ADMIN, "nudge")
    assert "Nudged 1 quiet groups" in chat.last(ADMIN)
    assert "how's Problem page going?" in chat.transcript(
        "U1"
    ) and "how's Problem page going?" in chat.transcript("U2")
    chat.say(ADMIN, "nudge")
    assert "Nudged 0 quiet groups and 0 quiet people" in chat.last(ADMIN)
    # U1 answers; only U2 stays quiet
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": LETTER})
    clock.set(start + timedelta(days=7))
    chat.say(ADMIN, "nudge")
    assert "0 quiet groups and 1 quiet people" in chat.last(ADMIN)
    assert "Asha Patel would love to hear from you" in chat.transcript("U2")
    assert "would love to hear from you" not in chat.transcript("U1")
    clock.set(start + timedelta(days=10))
    chat.say(ADMIN, "nudge")
    assert "1 alerts to coordinators" in chat.last_reply(ADMIN)
    alert = [t for t in chat.log[ADMIN] if "has been quiet" in t]
    assert len(alert) == 1 and "Ben Okafor (Test Cohort) has been quiet for 10 days" in alert[0]
    assert "while Asha Patel has written and is waiting" in alert[0]
    chat.say(ADMIN, "nudge")
    assert [t for t in chat.log[ADMIN] if "has been quiet" in t] == alert
    assert nudges(chat) == [("coordinator", 2), ("individual", 2), ("pair", 0)]


def test_thresholds_are_set_per_cohort(chat, clock):
    matched_pair(chat)
    with chat.engine.uow_factory() as uow:
        c = uow.cohorts.get(1)
        c.nudge_pair_days = 1
        uow.commit()
    chat.say(ADMIN, "task send")
    clock.advance(days=1)
    chat.say(ADMIN, "nudge")
    assert "Nudged 1 quiet groups" in chat.last(ADMIN)


def test_paused_people_and_paused_cohorts_are_not_nudged(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    chat.say("U2", "pause")
    clock.advance(days=7)
    chat.say(ADMIN, "nudge")
    assert "would love to hear from you" not in chat.transcript("U2")
    with chat.engine.uow_factory() as uow:
        uow.cohorts.get(1).paused = True
        uow.commit()
    clock.advance(days=7)
    chat.say(ADMIN, "nudge")
    assert "Nudged 0 quiet groups and 0 quiet people; 0 alerts" in chat.last(ADMIN)


def test_the_coordinator_rematches_a_jilted_buddy_from_the_alert(chat, clock):
    matched_pair(chat)
    register(chat, "U3", "Cara Manager", "general_manager")  # waiting for the next round
    start = clock.now()
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": LETTER})
    clock.set(start + timedelta(days=10))
    chat.say(ADMIN, "nudge")
    chat.press_in_last(ADMIN, "Re-match the one waiting")
    assert "Asha Patel has a new buddy" in chat.last_reply(ADMIN)
    assert "we haven't heard from you for a while" in chat.transcript("U2")
    intro = [p for p in chat.messenger.seen("U1") if "Meet your buddy" in p.text][-1]
    assert "Cara Manager" in intro.text and "someone new" in intro.text
    # the new group picks up the current task
    assert [p for p in chat.messenger.seen("U3") if "Task 1: Problem page" in p.text]
    with chat.engine.uow_factory() as uow:
        statuses = {p.user_id: p.status for p in uow.participants.in_cohort(1)}
    assert statuses == {"U1": "matched", "U2": "paused", "U3": "matched"}
    chat.press_in_last(ADMIN, "Re-match the one waiting")
    assert "already been re-matched" in chat.last_reply(ADMIN)


def test_a_buddy_can_ask_for_a_rematch_only_after_the_alert(chat, clock):
    matched_pair(chat)
    start = clock.now()
    chat.say(ADMIN, "task send")
    chat.say("U1", "rematch")
    assert "once yours has been quiet long enough" in chat.last("U1")
    clock.set(start + timedelta(days=10))
    chat.say(ADMIN, "nudge")
    chat.say("U1", "rematch")
    assert "Asha Patel is on the waiting list" in chat.last_reply("U1")
    assert "top of the waiting list" in chat.transcript("U1")


def test_rematch_button_is_for_coordinators_only(chat, clock):
    matched_pair(chat)
    chat.press("U1", "rematch", "1:2")
    assert "Sorry" in chat.last("U1")
    with chat.engine.uow_factory() as uow:
        assert uow.matches.get(1).status == "active"


def test_a_second_cohort_coordinator_is_alerted_too(chat, clock):
    cohort(chat)
    chat.say(ADMIN, "coordinator add @UCO2")
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    clock.advance(days=10)
    chat.say(ADMIN, "nudge")
    # both buddies are quiet: one truthful alert about the group, nobody "is waiting"
    alerts = [t for t in chat.log["UCO2"] if "silent" in t]
    assert len(alerts) == 1 and "The whole group Asha Patel and Ben Okafor" in alerts[0]
    assert "is waiting" not in chat.transcript("UCO2") and "[End group: all to waiting list]" in alerts[0]
    chat.say(ADMIN, "nudge")
    assert sum("silent" in t for t in chat.log["UCO2"]) == 1  # once


def test_a_silent_group_is_ended_from_the_alert_and_both_wait(chat, clock):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    clock.advance(days=10)
    chat.say(ADMIN, "nudge")
    chat.press_in_last(ADMIN, "End group: all to waiting list").expect(
        "Asha Patel and Ben Okafor are now on the waiting list"
    )
    chat.say("U1", "status").expect("you're waiting")
    assert "closed your buddy group" in chat.transcript("U2")
    chat.press_in_last(ADMIN, "End group: all to waiting list")
    assert "already ended" in chat.last_reply(ADMIN)
