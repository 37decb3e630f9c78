"""Where each feature says what it holds about a person, so that erasure (``forget``) and
subject access (``mydata``) cover every table, including ones added later.

A feature that stores something about a person registers one :class:`Holding` at import time::

    holding("coffee opt-ins", export=lambda ctx, user: [...], erase=lambda ctx, user: count)

``export`` returns JSON-ready data (lists, dicts, strings, numbers) about ``user``; ``erase``
removes or anonymises it and returns how many records it touched. Both run inside the unit of
work of the request, with ``user`` as the platform identity (before their id is replaced).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conversations.core.refs import UserRef
from conversations.flows.context import Ctx


@dataclass(frozen=True)
class Holding:
    name: str  # what it is, in words a data protection officer would use
    export: Callable[[Ctx, UserRef], Any]
    erase: Callable[[Ctx, UserRef], int]


HOLDINGS: list[Holding] = []


def holding(name: str, *, export: Callable[[Ctx, UserRef], Any], erase: Callable[[Ctx, UserRef], int]) -> Holding:
    if any(h.name == name for h in HOLDINGS):
        raise ValueError(f"Two holdings called “{name}”.")
    found = Holding(name, export, erase)
    HOLDINGS.append(found)
    return found


def export_all(ctx: Ctx, user: UserRef) -> dict[str, Any]:
    return {h.name: h.export(ctx, user) for h in HOLDINGS}


def erase_all(ctx: Ctx, user: UserRef) -> dict[str, int]:
    return {h.name: h.erase(ctx, user) for h in HOLDINGS}
