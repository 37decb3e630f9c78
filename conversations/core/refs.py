"""Opaque references to people, conversations and messages on some messenger.

The engine never looks inside ``extra``: adapters keep whatever they need there (a Teams
conversation reference serialised as JSON, say) so that a later proactive send can reach the
same place after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserRef:
    platform: str  # "slack", "teams", "memory"
    workspace: str  # Slack team id, Teams tenant id
    user_id: str  # Slack member id, Teams AAD object id

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.user_id}"


@dataclass(frozen=True)
class ConversationRef:
    platform: str
    workspace: str
    conversation_id: str
    extra: str = ""


@dataclass(frozen=True)
class MessageRef:
    conversation: ConversationRef
    message_id: str
