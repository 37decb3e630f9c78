"""Coordinators set their cohort's thresholds, trios, eligibility, weights, channels and events."""

from __future__ import annotations

import pytest

from tests.engine.helpers import ADMIN, cohort, register


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
