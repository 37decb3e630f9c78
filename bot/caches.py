"""What the platform adapters keep about people outside the engine's tables, registered with the
engine's privacy port (:mod:`conversations.flows.personal`), so that ``forget`` erases it and
``mydata`` reports it. ``bot`` wires it because only ``bot`` may see both sides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from conversations.core.refs import UserRef
from conversations.flows.personal import cache

if TYPE_CHECKING:
    from adapters.slack.profiles import Profiles
    from adapters.teams.references import ReferenceStore


def wire_teams(references: ReferenceStore) -> None:
    """``references``: the Teams adapter's :class:`~adapters.teams.references.ReferenceStore`."""

    def erase(user: UserRef, needles: Sequence[str]) -> int:
        return int(references.forget_user(user.workspace, user.user_id, needles))

    cache("Teams directory entry, chats and files", "teams",
          export=lambda user: references.export_user(user.workspace, user.user_id), erase=erase)  # fmt: skip


def wire_slack(profiles: Profiles) -> None:
    """``profiles``: the Slack adapter's in-memory :class:`~adapters.slack.profiles.Profiles` cache."""
    cache("Slack profile cache", "slack", export=lambda user: profiles.export(user.workspace, user.user_id),
          erase=lambda user, needles: int(profiles.forget(user.workspace, user.user_id)))  # fmt: skip
