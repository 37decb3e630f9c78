"""Finding Teams users by work email: Microsoft Graph ``GET /users/{mail}`` (application permission
``User.ReadBasic.All``), only where Graph is configured. The AAD object id it answers is the user id
Buddy uses for Teams, so a found person can be sent a welcome in a new 1:1 chat.

Graph throttles per app and tenant and says so with 429 and ``Retry-After``, which the client
honours; the directory also keeps a steady pace of its own (10 a second by default).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from adapters.teams.graph import GraphClient
from conversations.ports.directory import Person

GRAPH_LOOKUPS_PER_MINUTE = 600.0


class TeamsDirectory:
    service = "Microsoft Teams"

    def __init__(
        self,
        graph: GraphClient,
        *,
        per_minute: float = GRAPH_LOOKUPS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.graph = graph
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    async def find_by_email(self, workspace: str, email: str) -> Person | None:
        """``workspace`` is the tenant: Graph's credentials are for one tenant, so it is that one."""
        now = self.clock()
        at = max(now, self._next)
        self._next = at + 60.0 / self.per_minute
        if at > now:
            await self.sleep(at - now)
        user = await self.graph.user_by_mail(email)
        if not user or not user.get("id"):
            return None
        return Person(str(user["id"]), str(user.get("displayName") or ""))
