"""The web server's middleware: a request id for every Slack and Teams request, its latency by
platform and kind, and a count of answers later than the platform waits for."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.logs import REQUEST, RequestScope
from bot.metrics import ACK_DEADLINES, Metrics

log = logging.getLogger(__name__)

PLATFORM_PATHS = {"/slack/events": "slack", "/api/messages": "teams"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(metrics: Metrics | None) -> Any:  # an aiohttp middleware
    @web.middleware
    async def inbound(request: web.Request, handler: Handler) -> web.StreamResponse:
        platform = PLATFORM_PATHS.get(request.path)
        if platform is None:  # health, metrics, OAuth pages: no interaction to follow
            return await handler(request)
        scope = RequestScope(platform=platform)
        token = REQUEST.set(scope)  # tasks started from here (Slack's after-ack work) inherit it
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            elapsed = time.perf_counter() - started
            kind = scope.kind or "event"  # the engine names it; a bare event is acked before any call
            log.debug("%s %s %s answered %s in %.3f s", platform, kind, request.method, status, elapsed)
            if metrics is not None:
                metrics.inbound_seconds.labels(platform, kind).observe(elapsed)
                if elapsed > ACK_DEADLINES[platform]:
                    metrics.ack_missed.labels(platform, kind).inc()
            REQUEST.reset(token)

    return inbound
