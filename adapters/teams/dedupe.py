"""Acting once on an activity Teams delivers twice (a retry after a timeout, say).

The key is claimed in a table (INSERT .. ON CONFLICT DO NOTHING) before the engine runs, so two
deliveries racing on two workers still act once; a small in-memory cache answers most repeats
without a query. An invoke's answer is stored with its key, so a repeated ``task/submit`` gets the
same dialog answer instead of an empty one. A failed turn releases its key so Teams' retry can run.
Keys older than the TTL are pruned now and then.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update

from adapters.teams.tables import seen_activities, upsert

_CACHE_SIZE = 10_000
_PRUNE_EVERY = 500

_PENDING = object()


def activity_key(activity: dict[str, Any]) -> str | None:
    activity_id = activity.get("id")
    if not activity_id:
        return None
    conversation = (activity.get("conversation") or {}).get("id", "")
    raw = "\x1f".join([str(activity.get("channelId", "")), str(conversation), str(activity_id)])
    return hashlib.sha256(raw.encode()).hexdigest()


class Deduper:
    def __init__(self, engine: Engine, ttl_seconds: int = 24 * 3600) -> None:
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_seconds)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._claims = 0

    def claim(self, key: str) -> tuple[bool, Any]:
        """``(True, None)`` when this delivery is the first; else ``(False, stored answer or None)``."""
        if key in self._cache:
            answer = self._cache[key]
            return False, None if answer is _PENDING else answer
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(
                upsert(
                    self.engine,
                    seen_activities,
                    {"activity_key": key, "seen_at": now},
                    ["activity_key"],
                    False,
                )
            )
            first = result.rowcount == 1
            stored = None
            if not first:
                stored = conn.execute(
                    select(seen_activities.c.response).where(seen_activities.c.activity_key == key)
                ).scalar()
        self._remember(key, _PENDING if first else (json.loads(stored) if stored else None))
        self._claims += 1
        if self._claims % _PRUNE_EVERY == 0:
            self.prune()
        return first, (None if first or not stored else json.loads(stored))

    def record_answer(self, key: str, answer: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(seen_activities)
                .where(seen_activities.c.activity_key == key)
                .values(response=json.dumps(answer))
            )
        self._remember(key, answer)

    def release(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(seen_activities).where(seen_activities.c.activity_key == key))
        self._cache.pop(key, None)

    def prune(self) -> None:
        cutoff = datetime.now(UTC) - self.ttl
        with self.engine.begin() as conn:
            conn.execute(delete(seen_activities).where(seen_activities.c.seen_at < cutoff))

    def _remember(self, key: str, answer: Any) -> None:
        self._cache[key] = answer
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
