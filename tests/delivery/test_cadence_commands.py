"""Coordinators see and change the cadence, skip a week, pause and resume, in chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.delivery.builders import COORDINATOR, scheme

WEDNESDAY = datetime(2026, 9, 9, 12, 0, tzinfo=UTC)


def setup(chat, clock):  # type: ignore[no-untyped-def]
    scheme(chat.engine, 1, WEDNESDAY - timedelta(days=10))
    clock.set(WEDNESDAY)


def test_cadence_shows_when_tasks_go_out(chat, clock):
    setup(chat, clock)
    chat.say(COORDINATOR, "cadence")
    shown = chat.last(COORDINATOR)
    assert "North gets a task every week on Monday at 09:00 (Europe/London)." in shown
    assert "Next task: Mon 14 Sep at 09:00." in shown
    assert "Reminders go 24 hours before a task is due." in shown


def test_cadence_change_is_saved_and_shown(chat, clock):
    setup(chat, clock)
    chat.say(COORDINATOR, "cadence weekly THU 7:45 america/new_york")
    assert "every week on Thursday at 07:45 (America/New_York)" in chat.last(COORDINATOR)
    assert "first goes out on Thu 10 Sep at 07:45" in chat.last(COORDINATOR)
    cohort = chat.engine.run(lambda ctx: ctx.uow.cohorts.get(1))
    assert (cohort.cadence_weekday, cohort.cadence_time, cohort.cadence_timezone, cohort.cadence_every_weeks) == (
        3, "07:45", "America/New_York", 1,
    )  # fmt: skip
    audit = chat.engine.run(lambda ctx: [e.action for e in ctx.uow.audit.for_cohort(1)])
    assert "cadence_change" in audit


def test_bad_cadence_input_says_what_and_where(chat, clock):
    setup(chat, clock)
    cases = {
        "cadence weekly": "say how often, the day and the time",
        "cadence montly monday 09:00": "“montly” (the 1st word after `cadence`) isn't a frequency",
        "cadence weekly mondy 09:00": "“mondy” (the 2nd word after `cadence`) isn't a day of the week",
        "cadence weekly monday 9.00": "“9.00” (the 3rd word after `cadence`) isn't a time",
        "cadence weekly monday 09:00 Mars/Olympus": "“Mars/Olympus” (the 4th word after `cadence`) isn't a time zone",
        "cadence weekly monday 09:00 Europe/London please": "I didn't expect “please” after the time zone",
        "cadence skip next-week": "“next-week” (after `cadence skip`) isn't a date",
        "cadence skip 2026-09-15": "Tue 15 Sep 2026 isn't one of North's task days still to come",
        "cadence unskip": "No task days are being skipped",
        "cohort resume": "North is not paused",
    }
    for text, expected in cases.items():
        chat.say(COORDINATOR, text)
        assert expected in chat.last(COORDINATOR), (text, chat.last(COORDINATOR))
    cohort = chat.engine.run(lambda ctx: ctx.uow.cohorts.get(1))
    assert (cohort.cadence_weekday, cohort.cadence_time, cohort.settings.get("cadence")) == (0, "09:00", None)


def test_skip_a_later_date_and_undo(chat, clock):
    setup(chat, clock)
    chat.say(COORDINATOR, "cadence skip 2026-09-21")
    assert "Skipping the task on Mon 21 Sep" in chat.last(COORDINATOR)
    assert "next one goes out on Mon 14 Sep at 09:00" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cadence skip")
    assert "Skipping the task on Mon 14 Sep" in chat.last(COORDINATOR)
    assert "next one goes out on Mon 28 Sep at 09:00" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cadence")
    assert "Skipping: Mon 14 Sep, Mon 21 Sep" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cadence unskip")
    assert "Un-skipped Mon 14 Sep, Mon 21 Sep. The next task goes out on Mon 14 Sep at 09:00." == chat.last(
        COORDINATOR
    )


def test_pause_and_resume(chat, clock):
    setup(chat, clock)
    chat.say(COORDINATOR, "cohort pause")
    assert "no tasks, reminders or nudges until `cohort resume`" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cohort pause")
    assert "North is already paused" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cadence")
    assert "The cohort is paused" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "cohort resume")
    assert "Resumed North. The next task goes out on Mon 14 Sep at 09:00" in chat.last(COORDINATOR)


def test_only_coordinators_may_change_the_cadence(chat, clock):
    setup(chat, clock)
    chat.say("UA0", "cadence weekly friday 09:00")
    assert "only" in chat.last("UA0").lower() or "coordinators" in chat.last("UA0")
    assert chat.engine.run(lambda ctx: ctx.uow.cohorts.get(1)).cadence_weekday == 0


def test_help_lists_the_cadence_commands(chat, clock):
    setup(chat, clock)
    chat.say(COORDINATOR, "help")
    for usage in (
        "cadence [weekly|fortnightly DAY HH:MM [ZONE]]",
        "cadence skip",
        "cohort pause",
        "cohort resume",
    ):
        assert usage in chat.last(COORDINATOR), usage
