"""What autogenerate compares: the engine's own tables, not the platform adapters' (migration 0003
writes those out by hand from the adapters' definitions, and a test keeps the two in step)."""

from __future__ import annotations

PLATFORM_TABLE_PREFIXES = ("slack_", "teams_")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(PLATFORM_TABLE_PREFIXES))
