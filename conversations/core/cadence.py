"""Cadence as a value object: a cohort's weekday, local time, zone and frequency, and the period
arithmetic on them (which slot is current, which come next, which are skipped). Pure: no store, no
clock of its own. The reconcilers that act on it live in :mod:`conversations.schedule.cadence`; task
sending (:mod:`conversations.flows.assignments`) asks it which period a cohort is in.

The commands' state lives in ``cohort.settings["cadence"]``: ``anchor`` (a slot date, which fixes
the weeks of a fortnightly cadence), ``from`` (slots before it never post) and ``skip`` (slot dates
that post nothing). A slot is a local wall-clock time in the cohort's zone, so times are DST-correct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from conversations.core.model import Cohort

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPOCH = date(2024, 1, 1)  # a Monday: slots count from here when no anchor has been set
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Cadence:
    weekday: int  # 0 = Monday
    at: time
    zone: ZoneInfo
    every_weeks: int = 1
    anchor: date | None = None  # a slot's local date; slots fall every ``every_weeks`` from it
    start: datetime | None = None  # slots before this never post
    skipped: frozenset[date] = frozenset()

    @classmethod
    def of(cls, cohort: Cohort) -> Cadence:
        state = settings(cohort)
        return cls(
            weekday=cohort.cadence_weekday % 7,
            at=parse_time(cohort.cadence_time) or time(9, 0),
            zone=_zone(cohort.cadence_timezone) or ZoneInfo("Europe/London"),
            every_weeks=max(1, cohort.cadence_every_weeks),
            anchor=parse_date(state.get("anchor")),
            start=parse_datetime(state.get("from")),
            skipped=frozenset(d for d in map(parse_date, state.get("skip", [])) if d is not None),
        )

    @property
    def _step(self) -> int:
        return 7 * self.every_weeks

    @property
    def _first(self) -> date:
        anchor = self.anchor or EPOCH
        return anchor + timedelta(days=(self.weekday - anchor.weekday()) % 7)

    def slot_on(self, day: date) -> datetime:
        """The slot on local ``day``, in UTC. A wall time that a spring-forward skips resolves to
        the offset before the change (zoneinfo's fold=0), so the post is an hour later that day."""
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def _slot(self, index: int) -> datetime:
        return self.slot_on(self._first + timedelta(days=index * self._step))

    def _index(self, now: datetime) -> int:
        return (now.astimezone(self.zone).date() - self._first).days // self._step

    def current(self, now: datetime) -> datetime | None:
        """The latest slot at or before ``now``: the start of the current period (None before the first)."""
        index = self._index(now)
        slot = self._slot(index)
        if slot > now:
            index -= 1
            slot = self._slot(index)
        if index < 0 or (self.start is not None and slot < self.start):
            return None
        return slot

    def upcoming(self, now: datetime, count: int = 1) -> list[datetime]:
        """The next ``count`` slots after ``now`` (skipped ones included: see :meth:`is_skipped`)."""
        index = max(0, self._index(now) - 1)
        slots: list[datetime] = []
        while len(slots) < count:
            slot = self._slot(index)
            if slot > now and (self.start is None or slot >= self.start):
                slots.append(slot)
            index += 1
        return slots

    def next_post(self, now: datetime) -> datetime:
        return next(s for s in self.upcoming(now, len(self.skipped) + 1) if not self.is_skipped(s))

    def local_day(self, slot: datetime) -> date:
        return slot.astimezone(self.zone).date()

    def is_skipped(self, slot: datetime) -> bool:
        return self.local_day(slot) in self.skipped

    def period(self, slot: datetime) -> str:
        """The period's key: its slot's local date."""
        return self.local_day(slot).isoformat()

    def describe(self) -> str:
        often = "every week" if self.every_weeks == 1 else f"every {self.every_weeks} weeks"
        return f"{often} on {WEEKDAYS[self.weekday].title()} at {self.at:%H:%M} ({self.zone.key})"

    def when(self, slot: datetime) -> str:
        local = slot.astimezone(self.zone)
        return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def parse_time(text: str) -> time | None:
    found = _TIME.match(text.strip())
    return time(int(found.group(1)), int(found.group(2))) if found else None


def parse_weekday(text: str) -> int | None:
    word = text.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def parse_zone(text: str) -> ZoneInfo | None:
    """A time zone by its IANA name, in any letter case (``europe/london``)."""
    zone = _zone(text)
    if zone is not None:
        return zone
    by_lower = {name.lower(): name for name in available_timezones()}
    name = by_lower.get(text.strip().lower())
    return ZoneInfo(name) if name else None


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    try:
        found = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return found if found is None or found.tzinfo else found.replace(tzinfo=UTC)


def settings(cohort: Cohort) -> dict[str, Any]:
    """A copy of the cadence commands' state in ``cohort.settings`` (empty when there is none)."""
    state = (cohort.settings or {}).get("cadence")
    return dict(state) if isinstance(state, dict) else {}
