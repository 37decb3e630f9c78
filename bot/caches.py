"""What the platform adapters keep about people outside the engine's tables, registered with the
engine's privacy port (:mod:`conversations.flows.personal`), so that ``forget`` erases it and
``mydata`` reports it. ``bot`` wires it because only ``bot`` may see both sides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conversations.core.refs import UserRef
from conversations.flows.personal import cache


def wire_teams(references: Any) -> None:
    """``references``: the Teams adapter's :class:`~adapters.teams.references.ReferenceStore`."""

    def erase(user: UserRef, needles: Sequence[str]) -> int:
        return int(references.forget_user(user.workspace, user.user_id, needles))

    cache("Teams directory entry, chats and files", "teams",
          export=lambda user: references.export_user(user.workspace, user.user_id), erase=erase)  # fmt: skip


def wire_slack(profiles: Any) -> None:
    """``profiles``: the Slack adapter's in-memory :class:`~adapters.slack.profiles.Profiles` cache."""
    cache("Slack profile cache", "slack", export=lambda user: profiles.export(user.workspace, user.user_id),
          erase=lambda user, needles: int(profiles.forget(user.workspace, user.user_id)))  # fmt: skip


def wire(platforms: Any) -> None:
    if getattr(platforms, "teams", None) is not None:
        wire_teams(platforms.teams.references)
    if getattr(platforms, "slack", None) is not None:
        wire_slack(platforms.slack.profiles)
