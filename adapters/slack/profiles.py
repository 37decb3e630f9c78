"""Display names and emails from ``users.info``, cached, never allowed to hold up an ack.

Slack payloads carry only a user id (events) or a handle (commands, actions). The engine wants a
name to prefill the registration form and an email to store. A lookup on a cache miss may take a
network round trip, so callers in the 3-second ack path wait only briefly; the lookup carries on
in the background and fills the cache for the next interaction (the form submission that follows
a ``/buddy join``, say).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.errors import TRANSPORT_ERRORS, api_error_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    display_name: str = ""
    email: str = ""


EMPTY = Profile()


class Profiles:
    def __init__(
        self, ttl: float = 3600.0, max_entries: int = 50_000, now: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self.now = now
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._pending: dict[tuple[str, str], asyncio.Task[Profile]] = {}

    def forget(self, team: str, user: str) -> int:
        """Drop a person's cached name and email (an erasure request); 1 if there was one."""
        task = self._pending.pop((team, user), None)
        if task is not None:
            task.cancel()
        return int(self._cache.pop((team, user), None) is not None)

    def export(self, team: str, user: str) -> dict[str, str]:
        hit = self._cache.get((team, user))
        return {"name": hit[1].display_name, "email": hit[1].email} if hit else {}

    def cached(self, team: str, user: str) -> Profile | None:
        hit = self._cache.get((team, user))
        if hit and self.now() - hit[0] < self.ttl:
            return hit[1]
        return None

    async def get(self, client: AsyncWebClient, team: str, user: str, wait: float) -> Profile:
        """The profile if known within ``wait`` seconds, else an empty one (the lookup goes on)."""
        hit = self.cached(team, user)
        if hit is not None:
            return hit
        key = (team, user)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(client, key))
            self._pending[key] = task
            task.add_done_callback(lambda _t: self._pending.pop(key, None))
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait)
        except TimeoutError:
            return EMPTY

    async def _fetch(self, client: AsyncWebClient, key: tuple[str, str]) -> Profile:
        try:
            data = (await client.users_info(user=key[1])).data
            user = data.get("user", {}) if isinstance(data, dict) else {}
            p = user.get("profile") or {}
            profile = Profile(
                display_name=p.get("real_name") or p.get("display_name") or user.get("real_name") or "",
                email=p.get("email") or "",
            )
        except SlackApiError as e:  # missing_scope, user_not_found: remember, don't ask again soon
            log.info("users.info failed for %s: %s", key[1], api_error_code(e))
            profile = EMPTY
        except TRANSPORT_ERRORS:
            return EMPTY  # not cached: try again next time
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (self.now(), profile)
        return profile
