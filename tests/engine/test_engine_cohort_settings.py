"""Coordinators set their cohort's thresholds, trios, eligibility, weights, channels and events."""

from __future__ import annotations

import pytest

from tests.engine.helpers import ADMIN, cohort, matched_pair, register


def stored(chat):
    with chat.engine.uow_factory() as uow:
        return uow.cohorts.get(1)


def test_settings_are_shown_and_changed(chat):
    cohort(chat)
    chat.say(ADMIN, "cohort settings")
    assert "`nudge_pair_days=4`" in chat.last(ADMIN) and "`eligible_grades=any`" in chat.last(ADMIN)
    chat.say(ADMIN, "cohort set nudge_pair_days=2 nudge_individual_days=5 alert_coordinator_days=8 allow_trios=yes "
                    "eligible_grades=FY2,CT1 weight.same_region=4.5 cohort=\"Test Cohort\"")  # fmt: skip
    c = stored(chat)
    assert (c.nudge_pair_days, c.nudge_individual_days, c.alert_coordinator_days, c.allow_trios) == (
        2,
        5,
        8,
        True,
    )
    assert c.settings["eligible_grades"] == ["FY2", "CT1"] and c.settings["weights"] == {"same_region": 4.5}
    assert "`weight.same_region=4.5`" in chat.last(ADMIN)
    chat.say(ADMIN, "cohort set eligible_grades=any")
    assert "eligible_grades" not in stored(chat).settings


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("cohort set nudge_pair_days=0", "`nudge_pair_days` must be a whole number of days from 1 to 60"),
        ("cohort set allow_trios=maybe", "`allow_trios` must be yes or no"),
        ("cohort set weight.same_region=eleven", "`weight.same_region` must be a number from 0 to 10"),
        ("cohort set colour=blue", "There's no setting called `colour`"),
        ("cohort set nudge_pair_days=9", "Nudges escalate"),
        ("cohort set", "Write settings as `name=value`"),
        ("cohort set eligible_grades=,", "comma-separated list of grades"),
    ],
)
def test_a_bad_setting_is_named_and_nothing_changes(chat, text, says):
    cohort(chat)
    before = vars(stored(chat)).copy()
    chat.say(ADMIN, text + " allow_trios=yes" if "allow_trios" not in text and text != "cohort set" else text)
    assert says in chat.last(ADMIN)
    after = stored(chat)
    assert (after.nudge_pair_days, after.allow_trios, after.settings) == (
        before["nudge_pair_days"], before["allow_trios"], before["settings"])  # fmt: skip


def test_settings_are_for_coordinators_only(chat):
    cohort(chat)
    register(chat, "U1", "Asha")
    chat.say("U1", "cohort set nudge_pair_days=1")
    assert "Sorry" in chat.last("U1") and stored(chat).nudge_pair_days == 4


def test_eligibility_and_trios_reach_the_matcher(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel", grade="ST4")
    register(chat, "U2", "Fy Two", grade="FY2")
    register(chat, "U3", "Ben Okafor", "general_manager", grade="GMTS year 1")
    chat.say(ADMIN, 'cohort set eligible_grades="FY2,GMTS year 1"')
    chat.say(ADMIN, "match preview")
    assert "Not eligible (grade): Asha Patel" in chat.last(ADMIN)
    assert "Fy Two + Ben Okafor" in chat.last(ADMIN)


def test_community_channels_and_events_are_listed_for_members(chat):
    cohort(chat)
    chat.say(ADMIN, 'community add "#ops-chat" https://chat.example/ops "Where ops managers talk"')
    chat.say(ADMIN, 'event add "Winter meetup" "3 Dec, 6pm" "Leeds, all welcome"')
    chat.say("U1", "community")
    assert "#ops-chat: Where ops managers talk" in chat.last("U1")
    assert "1. 📅 Winter meetup, 3 Dec, 6pm: Leeds, all welcome" in chat.last("U1")
    chat.say(ADMIN, "community add nolink")
    assert "Give a name, an https link" in chat.last(ADMIN)
    chat.say(ADMIN, "event remove 5")
    assert "from 1 to 1" in chat.last(ADMIN)
    chat.say(ADMIN, "event remove 1")
    chat.say(ADMIN, 'community remove "#ops-chat"')
    chat.say("U1", "community")
    assert "No community channels or events" in chat.last("U1")


def test_an_event_is_announced_once_to_everyone_taking_part(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara Jones")
    chat.say("U3", "pause")
    chat.say(ADMIN, 'event add "Winter <!channel> meetup" "3 Dec, 6pm" "Leeds, all welcome"')
    chat.say(ADMIN, "event announce 1")
    assert "Announced Winter <!channel> meetup to 2 people" in chat.last(ADMIN)
    for user in ("U1", "U2"):
        [post] = [p for p in chat.messenger.seen(user) if p.message.text.startswith("Event:")]
        assert "📅 Winter <!channel> meetup, 3 Dec, 6pm: Leeds, all welcome" in chat.last(user)
        assert [b.label for b in post.buttons()] == ["Community channels and events"]
    assert not [p for p in chat.messenger.seen("U3") if p.message.text.startswith("Event:")]  # paused
    chat.say(ADMIN, "event announce 1")
    assert "already heard about" in chat.last(ADMIN)
    assert sum(p.message.text.startswith("Event:") for p in chat.messenger.posts) == 2
    chat.say(ADMIN, "event announce 2")
    assert "from 1 to 1" in chat.last(ADMIN)
    chat.say("U1", "event announce 1")
    assert "coordinator" in chat.last("U1")
