"""Every feature of Buddy, in one list: the engine builds its route table from their ``ROUTES``.

Adding a command, button or form is a route in its flow module; a new flow module is one line
here. ``hooks`` are the few things the engine asks of the features outside a person's request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from conversations.core.interactions import Actor, ChatKind, Outcome
from conversations.core.model import Cohort, OutboxItem
from conversations.core.routes import ButtonRoute, FormRoute, Parsed, Route, RouteError, RouteTable, Unknown
from conversations.flows import (
    assignments,
    authoring,
    coffee,
    cohort_settings,
    consent,
    coordination,
    csv_import,
    digests,
    events,
    experts,
    failures,
    feedback,
    inbox,
    matchmaking,
    network,
    overview,
    privacy,
    programme,
    registration,
    reports,
    running,
    survey_import,
    waiting,
)
from conversations.flows.context import Ctx
from conversations.flows.lookup import describe, targets
from conversations.ports.messenger import DeliveryError
from conversations.schedule import cadence, nudging

FEATURES: tuple[ModuleType, ...] = (
    overview,
    registration,
    assignments,
    authoring,
    matchmaking,
    coordination,
    cohort_settings,
    csv_import,
    digests,
    survey_import,
    failures,
    privacy,
    consent,
    running,
    inbox,
    reports,
    cadence,
    nudging,
    network,
    events,
    coffee,
    experts,
    feedback,
    programme,
    waiting,
)


def routes() -> list[Route]:
    return [route for feature in FEATURES for route in feature.ROUTES]


def table() -> RouteTable:
    """The route table, checked: a duplicate, a route without a handler, or an id of a kind
    nothing resolves stops start-up with the names."""
    every = routes()
    unknown = sorted({f"{describe(r)} takes a “{r.target}”" for r in every
                      if isinstance(r, ButtonRoute | FormRoute) and r.target and r.target not in targets()})  # fmt: skip
    if unknown:
        raise RouteError("No lookup resolves these ids: " + "; ".join(unknown) + ".")
    return RouteTable(every)


@functools.cache
def _default() -> RouteTable:
    return table()


def parse(text: str) -> Parsed | Unknown:
    """Typed words against the full table (for tools and tests; the engine uses its own table)."""
    return _default().parse(text)


@dataclass(frozen=True)
class Hooks:
    unknown: Callable[[Ctx, Actor, Unknown, ChatKind], Outcome]
    delivery_failed: Callable[[Ctx, OutboxItem, DeliveryError], None]
    tick: Callable[[Ctx, Cohort, list[int], bool], Any]
    new_report: Callable[[], Any]
    import_csv: Callable[[Ctx, str, str, bool], Any]
    periodic: tuple[tuple[str, Callable[[Ctx], int]], ...]  # workspace-wide jobs, each in its own transaction


def hooks() -> Hooks:
    return Hooks(
        unknown=overview.unknown,
        delivery_failed=failures.delivery_failed,
        tick=cadence.tick_slice,
        new_report=cadence.TickReport,
        import_csv=csv_import.import_named,
        periodic=(
            ("event reminders", events.remind),
            ("coffee introductions", coffee.introduce),
            ("coffee check-ins", coffee.check_in),
            ("expired survey imports", survey_import.expire),
        ),
    )
