"""Outbound pacing and retries within Teams' limits (botbuilder has no built-in retry).

Per bot per conversation Teams allows 7 sends a second, 8 in 2 s, 60 in 30 s and 1,800 an hour;
per app per tenant about 50 requests a second. :class:`Pacer` waits before a send that would
exceed any of these windows. :func:`backoff_delay` is exponential back-off with full jitter that
never waits less than the server's ``Retry-After``. Clock and sleep are injected so tests move
time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from conversations.ports.messenger import Limit, Pace

RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
# Teams' limits, declared once: the messenger's capability (the outbox sender paces by it, shared
# between workers) and the windows the messenger's own Pacer keeps on every call, retries included.
TEAMS_PACE = Pace(
    per_conversation=(Limit(7, 1.0), Limit(8, 2.0), Limit(60, 30.0), Limit(1800, 3600.0)),
    per_workspace=(Limit(50, 1.0),),  # per app per tenant
)
CONVERSATION_WINDOWS: tuple[tuple[int, float], ...] = tuple(
    (x.count, x.seconds) for x in TEAMS_PACE.per_conversation
)
TENANT_WINDOWS: tuple[tuple[int, float], ...] = tuple((x.count, x.seconds) for x in TEAMS_PACE.per_workspace)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries in all, the first included
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0  # a longer Retry-After is handed back to the outbox instead


DEFAULT_POLICY = RetryPolicy()


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random, retry_after: float | None) -> float:
    """Delay before retry number ``attempt`` (1 for the first retry)."""
    if retry_after is not None:
        return max(retry_after, 0.0) + rng.uniform(0, policy.base_delay)
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Bot Connector; fall back to back-off


class Pacer:
    """Sliding-window limits keyed by conversation (and by tenant)."""

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...] = CONVERSATION_WINDOWS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.windows = windows
        self.clock = clock
        self.sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.waited = 0.0  # total seconds spent waiting (tests and metrics read it)

    def delay_for(self, key: str) -> float:
        """How long a send to ``key`` must wait now to stay inside every window."""
        now = self.clock()
        times = self._sent.get(key)
        if not times:
            return 0.0
        longest = max(w for _, w in self.windows)
        while times and times[0] <= now - longest:
            times.popleft()
        delay = 0.0
        for limit, window in self.windows:
            recent = [t for t in times if t > now - window]
            if len(recent) >= limit:
                delay = max(delay, recent[-limit] + window - now)
        return delay

    async def acquire(self, key: str) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            while (delay := self.delay_for(key)) > 0:
                self.waited += delay
                await self.sleep(delay)
            self._sent.setdefault(key, deque()).append(self.clock())
