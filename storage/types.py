"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from conversations.core.phases import Phase, PhaseError, parse_phases


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class PhasesJSON(TypeDecorator[list[Phase]]):
    """A task's phases: typed :class:`Phase` values in the engine, the same JSON list as ever in the
    table. A stored list that no longer parses stops the read with the phase and the field at fault."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Phase] | None, dialect: Dialect) -> list[dict[str, Any]] | None:
        return None if value is None else [phase.stored() for phase in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Phase] | None:
        if value is None:
            return None
        try:
            return parse_phases(value)
        except PhaseError as error:
            raise ValueError(f"task_definitions.phases holds a phase that can't be read: {error}") from None
