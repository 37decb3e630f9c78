"""The Directory port: finding a person on a platform by their work email. Adapters implement it
(Slack ``users.lookupByEmail``, Microsoft Graph ``GET /users/{mail}``).

A directory paces itself to its platform's limit (the figures live in the adapter) and raises
:class:`~conversations.ports.messenger.DeliveryError` (``retryable``, with ``retry_after``) when
the platform asks it to wait; the lookup is simply tried again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Person:
    user_id: str  # Slack member id, Teams AAD object id
    display_name: str = ""


class Directory(Protocol):
    service: str  # what people call the platform: "Slack", "Microsoft Teams"
    per_minute: float  # the pace it keeps, for the estimates coordinators are given

    async def find_by_email(self, workspace: str, email: str) -> Person | None:
        """The person with this work email in the workspace (Slack team, Teams tenant); None if
        there is nobody."""
        ...
