"""A matching round as a coordinator runs it: preview, steer, confirm, introduce."""

from __future__ import annotations

from conversations.ports.messenger import Capabilities
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, cohort, register


def rows(chat):
    with chat.engine.uow_factory() as uow:
        people = {p.id: p for p in uow.participants.in_cohort(1)}
        matches = uow.matches.active_in(1)
        groups = [
            sorted(people[m.participant_id].user_id for m in uow.matches.member_rows([x.id])) for x in matches
        ]
        return people, matches, groups


def small_cohort(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel", specialty="psychiatry", employer_type="mental_health")
    register(chat, "U2", "Chloe Evans", specialty="emergency_medicine", employer_type="acute",
             employer="Riverside Teaching Hospitals")  # fmt: skip
    register(chat, "U3", "Ben Okafor", "general_manager", employer_type="mental_health")
    register(chat, "U4", "Dan Hughes", "general_manager", employer_type="acute",
             employer="Riverside Teaching Hospitals")  # fmt: skip
    register(chat, "U5", "Late Clinician", specialty="surgery", employer_type="acute")


def test_preview_shows_groups_reasons_and_waiting_list_and_changes_nothing(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    preview = chat.last(ADMIN)
    assert "2 groups" in preview and "1 waiting" in preview
    assert "Asha Patel + Ben Okafor" in preview and "Chloe Evans + Dan Hughes" in preview
    assert "psychiatry trainee with a mental health trust manager" in preview
    assert "Waiting list (in registration order): Late Clinician" in preview
    assert "[Confirm and introduce]" in preview
    _, matches, _ = rows(chat)
    assert matches == []
    assert chat.transcript("U1").count("Meet your buddy") == 0


def test_confirm_creates_groups_and_introduces_them_in_a_group_conversation(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    assert "2 groups introduced, 1 on the waiting list" in chat.last(ADMIN)
    people, matches, groups = rows(chat)
    assert sorted(groups) == [["U1", "U3"], ["U2", "U4"]]
    assert {p.user_id: p.status for p in people.values()} == {
        "U1": "matched", "U2": "matched", "U3": "matched", "U4": "matched", "U5": "waiting"}  # fmt: skip
    assert all(m.reasons and m.score > 0 for m in matches)
    intro = [p for p in chat.messenger.seen("U1") if "Meet your buddy" in p.text]
    assert len(intro) == 1 and intro[0].conversation.conversation_id == "G-U1-U3"  # one shared conversation
    text = intro[0].text
    assert "Asha Patel: Doctor, ST4, Psychiatry" in text and "Ben Okafor: General manager" in text
    assert "Why we matched you: psychiatry trainee with a mental health trust manager" in text
    assert "What happens next" in text
    assert chat.messenger.seen("U3")[-1] is intro[0]
    assert "number 1 on the waiting list" in chat.transcript("U5")
    with chat.engine.uow_factory() as uow:
        assert uow.matches.get(matches[0].id).conversation["conversation_id"].startswith("G-")
        assert [e.action for e in uow.audit.for_cohort(1)][-1] == "match_confirm"


def test_confirm_via_the_preview_button_and_a_replaced_preview_is_refused(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match preview")
    with chat.engine.uow_factory() as uow:
        latest = uow.matches.open_proposal(1)
    chat.press(ADMIN, "match_confirm", str(latest.id - 1))
    assert "already been confirmed or replaced" in chat.last(ADMIN)
    chat.press(ADMIN, "match_confirm", str(latest.id))
    assert "2 groups introduced" in chat.last(ADMIN)
    chat.press(ADMIN, "match_confirm", str(latest.id))
    assert "already been confirmed or replaced" in chat.last(ADMIN)
    assert len(rows(chat)[1]) == 2


def test_a_preview_that_went_stale_is_not_confirmed(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say("U1", "leave")
    chat.say(ADMIN, "match confirm")
    assert "out of date (Asha Patel" in chat.last(ADMIN)
    assert rows(chat)[1] == []


def test_swap_lock_and_exclude_steer_the_preview(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match swap @U3 @U4")
    assert "Asha Patel + Dan Hughes (locked)" in chat.last(ADMIN)
    chat.say(ADMIN, "match swap @U1 @U3")
    assert "I can't make that swap" in chat.last(ADMIN)
    assert "one clinician and one general manager" in chat.last(ADMIN)
    chat.say(ADMIN, "match swap @U1")
    assert "mention 2 people" in chat.last(ADMIN)
    chat.say(ADMIN, "match lock 9")
    assert "from 1 to 2" in chat.last(ADMIN)
    chat.say(ADMIN, "match preview")
    assert "Asha Patel + Dan Hughes (locked)" in chat.last(ADMIN)  # locks survive a new preview
    chat.say(ADMIN, "match exclude @U1 @U4")
    assert "will never be matched together" in chat.last(ADMIN)
    assert "Asha Patel + Dan Hughes" not in chat.last(ADMIN)
    chat.say(ADMIN, "match confirm")
    assert ["U1", "U4"] not in rows(chat)[2]


def test_swap_with_the_waiting_list(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match swap @U2 @U5")
    assert "Late Clinician + Dan Hughes (locked)" in chat.last(ADMIN)
    assert "Waiting list (in registration order): Chloe Evans" in chat.last(ADMIN)


def test_late_joiners_are_matched_without_disturbing_confirmed_groups(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    register(chat, "U6", "Late Manager", "general_manager", employer_type="acute")
    chat.say(ADMIN, "match preview")
    assert "1 group" in chat.last(ADMIN) and "Late Clinician + Late Manager" in chat.last(ADMIN)
    chat.say(ADMIN, "match confirm")
    groups = rows(chat)[2]
    assert sorted(groups) == [["U1", "U3"], ["U2", "U4"], ["U5", "U6"]]


def test_nobody_is_matched_with_a_past_buddy(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U3", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say("U1", "leave")
    chat.say("U1", "join")
    chat.submit("U1", {**_values("Asha Patel")})
    chat.say(ADMIN, "match preview")
    assert "0 groups" in chat.last(ADMIN)  # the only manager is a past buddy


def _values(name):
    from tests.engine.helpers import registration

    return registration(name)


def test_without_group_conversations_each_buddy_gets_a_one_to_one_introduction_with_a_link(db, clock):
    caps = Capabilities(
        group_dm=False, group_link_template="https://chat.example/new?users={emails}&topic={topic}"
    )
    chat = make_chat(db, clock, caps)
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U3", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    for me, other in (("U1", "Ben Okafor"), ("U3", "Asha Patel")):
        [intro] = [p for p in chat.messenger.seen(me) if "Meet your buddy" in p.text]
        assert intro.conversation.conversation_id == f"D-{me}"
        assert other in intro.text
        [link] = [b for b in intro.buttons() if b.url]
        assert link.url.startswith("https://chat.example/new?users=u1%40example.nhs.uk,u3%40example.nhs.uk")


def test_a_swap_that_breaks_a_rule_names_the_people(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match exclude @U1 @U4")
    chat.say(ADMIN, "match swap @U3 @U4")
    assert "I can't make that swap: Asha Patel and Dan Hughes are excluded" in chat.last(ADMIN)
