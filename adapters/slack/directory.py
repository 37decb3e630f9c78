"""Finding Slack members by work email: ``users.lookupByEmail`` (scope ``users:read.email``).

The method is Tier 3: about 50 calls a minute per workspace. The directory keeps that pace itself
(one call every 1.2 s per workspace by default), so a survey of thousands is looked up without
being throttled; a 429 still gets its ``Retry-After`` honoured by the client's retry handler.
``users_not_found`` is the documented answer for an email nobody in the workspace has.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.errors import TRANSPORT_ERRORS, from_api_error, from_transport_error
from adapters.slack.messenger import TokenProvider
from conversations.ports.directory import Person
from conversations.ports.messenger import DeliveryError

TIER_3_PER_MINUTE = 50.0


class SlackDirectory:
    service = "Slack"

    def __init__(
        self,
        client: AsyncWebClient,
        tokens: TokenProvider,
        *,
        per_minute: float = TIER_3_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}  # workspace -> when its next call may go
        self._lock = asyncio.Lock()

    async def find_by_email(self, workspace: str, email: str) -> Person | None:
        await self._pace(workspace)
        try:
            token = await self.tokens(workspace)
        except LookupError as error:
            raise DeliveryError("not_installed") from error
        try:
            response = await self.client.users_lookupByEmail(token=token, email=email)
        except SlackApiError as error:
            if (error.response.data or {}).get("error") == "users_not_found":
                return None
            raise from_api_error(error, idempotent=True) from error
        except TRANSPORT_ERRORS as error:
            raise from_transport_error(error, idempotent=True) from error
        user = (response.data or {}).get("user") if isinstance(response.data, dict) else None
        if not isinstance(user, dict) or user.get("deleted") or user.get("is_bot") or not user.get("id"):
            return None
        profile = user.get("profile") or {}
        return Person(str(user["id"]), str(profile.get("real_name") or user.get("real_name") or ""))

    async def _pace(self, workspace: str) -> None:
        """One call per ``60 / per_minute`` seconds per workspace, whoever asks."""
        async with self._lock:
            now = self.clock()
            at = max(now, self._next.get(workspace, 0.0))
            self._next[workspace] = at + 60.0 / self.per_minute
        if at > now:
            await self.sleep(at - now)
