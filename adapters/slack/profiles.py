"""Display names and emails from ``users.info``, cached, never allowed to hold up an ack.

Slack payloads carry only a user id (events) or a handle (commands, actions). The engine wants a
name to prefill the registration form and an email to store. A lookup on a cache miss may take a
network round trip, so callers in the 3-second ack path wait only briefly; the lookup carries on
in the background and fills the cache for the next interaction (the form submission that follows
a ``/buddy join``, say).

Several web processes ask Slack the same questions (each person reaches whichever process the
load balancer picks), so with a database the answers are shared through the ``slack_profiles``
table (this adapter's own, like ``slack_event_ids``): a miss in memory looks there before asking
Slack, and an answer from Slack is written there for the others. Rows older than the TTL are
ignored and pruned.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.errors import TRANSPORT_ERRORS, api_error_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    display_name: str = ""
    email: str = ""


EMPTY = Profile()

metadata = sa.MetaData()
slack_profiles = sa.Table(
    "slack_profiles",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


class SqlProfileCache:
    """``users.info`` answers shared by every process on one database, for ``ttl`` seconds."""

    def __init__(
        self, engine: sa.Engine, ttl: float = 3600.0, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.now = now
        self._writes = 0

    def get(self, team: str, user: str) -> Profile | None:
        t = slack_profiles.c
        fresh = self.now() - timedelta(seconds=self.ttl)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.display_name, t.email).where(
                    t.team_id == team, t.user_id == user, t.fetched_at >= fresh
                )
            ).first()
        return None if row is None else Profile(row[0], row[1])

    def put(self, team: str, user: str, profile: Profile) -> None:
        t = slack_profiles.c
        now = self.now()
        self._writes += 1
        with self.engine.begin() as conn:
            if self._writes % 500 == 0:
                conn.execute(slack_profiles.delete().where(t.fetched_at < now - timedelta(seconds=self.ttl)))
            conn.execute(slack_profiles.delete().where(t.team_id == team, t.user_id == user))
            conn.execute(slack_profiles.insert().values(team_id=team, user_id=user, display_name=profile.display_name[:200],
                                                        email=profile.email[:254], fetched_at=now))  # fmt: skip


class Profiles:
    def __init__(
        self,
        ttl: float = 3600.0,
        max_entries: int = 50_000,
        now: Callable[[], float] = time.monotonic,
        shared: SqlProfileCache | None = None,
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self.now = now
        self.shared = shared
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
        if self.shared is not None:
            try:
                known = await asyncio.to_thread(self.shared.get, *key)
            except sa.exc.SQLAlchemyError as error:
                log.warning("shared profile cache unavailable: %s", type(error).__name__)
                known = None
            if known is not None:
                self._remember(key, known)
                return known
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
        self._remember(key, profile)
        if self.shared is not None:
            try:
                await asyncio.to_thread(self.shared.put, *key, profile)
            except sa.exc.SQLAlchemyError as error:
                log.warning("shared profile cache unavailable: %s", type(error).__name__)
        return profile

    def _remember(self, key: tuple[str, str], profile: Profile) -> None:
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (self.now(), profile)
