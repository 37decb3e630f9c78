"""Period arithmetic: slots in the cohort's local time, DST-correct, with anchors, starts and skips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from conversations.core.cadence import Cadence, parse_time, parse_weekday, parse_zone

LONDON = ZoneInfo("Europe/London")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(**kwargs) -> Cadence:  # type: ignore[no-untyped-def]
    return Cadence(weekday=0, at=time(9, 0), zone=LONDON, **kwargs)


def test_the_current_slot_is_the_latest_at_or_before_now():
    cadence = weekly()
    # Monday 7 Sep 2026, 09:00 in London is 08:00 UTC (summer time)
    assert cadence.current(at(2026, 9, 7, 7, 59)) == at(2026, 8, 31, 8, 0)
    assert cadence.current(at(2026, 9, 7, 8, 0)) == at(2026, 9, 7, 8, 0)
    assert cadence.current(at(2026, 9, 13, 23, 0)) == at(2026, 9, 7, 8, 0)


def test_slots_keep_local_time_across_the_clock_change():
    cadence = weekly()
    # British Summer Time ends on Sunday 25 Oct 2026: 09:00 is 08:00 UTC before, 09:00 UTC after
    assert cadence.upcoming(at(2026, 10, 19, 12, 0), 2) == [at(2026, 10, 26, 9, 0), at(2026, 11, 2, 9, 0)]
    assert cadence.upcoming(at(2026, 10, 12, 12, 0)) == [at(2026, 10, 19, 8, 0)]
    # and it starts on Sunday 29 Mar 2026
    assert cadence.current(at(2026, 3, 30, 8, 30)) == at(2026, 3, 30, 8, 0)
    assert cadence.current(at(2026, 3, 23, 8, 30)) == at(2026, 3, 16, 9, 0)


def test_a_wall_time_skipped_by_spring_forward_falls_an_hour_later():
    sunday_early = Cadence(weekday=6, at=time(1, 30), zone=LONDON)
    # 01:30 does not exist in London on 29 Mar 2026; it resolves to 02:30 BST = 01:30 UTC
    assert sunday_early.slot_on(date(2026, 3, 29)) == at(2026, 3, 29, 1, 30)
    assert sunday_early.slot_on(date(2026, 4, 5)) == at(2026, 4, 5, 0, 30)


def test_fortnightly_slots_follow_the_anchor():
    cadence = Cadence(weekday=1, at=time(10, 30), zone=LONDON, every_weeks=2, anchor=date(2026, 9, 15))
    assert cadence.current(at(2026, 9, 14, 12, 0)) is None  # before the first slot
    assert cadence.current(at(2026, 9, 22, 12, 0)) == at(2026, 9, 15, 9, 30)  # the off week
    assert cadence.current(at(2026, 9, 29, 9, 30)) == at(2026, 9, 29, 9, 30)
    assert cadence.upcoming(at(2026, 9, 16, 0, 0), 3) == [
        at(2026, 9, 29, 9, 30),
        at(2026, 10, 13, 9, 30),
        at(2026, 10, 27, 10, 30),  # after the clock change: 10:30 GMT
    ]
    assert cadence.period(at(2026, 9, 29, 9, 30)) == "2026-09-29"


def test_slots_before_the_start_do_not_count():
    cadence = weekly(start=at(2026, 9, 9, 12, 0))
    assert cadence.current(at(2026, 9, 10, 0, 0)) is None
    assert cadence.current(at(2026, 9, 14, 8, 0)) == at(2026, 9, 14, 8, 0)
    assert cadence.upcoming(at(2026, 9, 1, 0, 0)) == [at(2026, 9, 14, 8, 0)]


def test_skipped_slots_are_marked_and_the_next_post_passes_them():
    cadence = weekly(skipped=frozenset({date(2026, 9, 14), date(2026, 9, 21)}))
    now = at(2026, 9, 8, 0, 0)
    assert [cadence.is_skipped(s) for s in cadence.upcoming(now, 3)] == [True, True, False]
    assert cadence.next_post(now) == at(2026, 9, 28, 8, 0)


def test_an_anchor_on_another_weekday_moves_to_the_cadence_day():
    cadence = Cadence(weekday=2, at=time(9, 0), zone=LONDON, every_weeks=2, anchor=date(2026, 9, 7))
    assert cadence.upcoming(at(2026, 9, 1, 0, 0)) == [at(2026, 9, 9, 8, 0)]


def test_parsing_days_times_and_zones():
    assert [parse_weekday(w) for w in ("monday", "Tue", "WEDNESDAY", "su", "mondy")] == [0, 1, 2, None, None]
    assert [parse_time(t) for t in ("09:00", "9:05", "23:59", "24:00", "9.00", "09:60")] == [
        time(9, 0), time(9, 5), time(23, 59), None, None, None,
    ]  # fmt: skip
    assert parse_zone("europe/london") == LONDON
    assert parse_zone("Mars/Olympus") is None


def test_describe_says_how_often_and_when():
    assert weekly().describe() == "every week on Monday at 09:00 (Europe/London)"
    assert weekly().when(at(2026, 9, 7, 8, 0)) == "Mon 7 Sep at 09:00"
