"""The AsyncWebClient every Slack call goes through, with the retry policy we want.

slack_sdk's default async client retries *connection errors*, which can post a message twice when
a connection resets after Slack took the request. We keep only the rate-limit handler: a 429 waits
as ``Retry-After`` says (up to ``max_wait`` seconds, then surfaces as a retryable error so the
sender can reschedule instead of blocking).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_TIMEOUT = 10  # seconds; slack_sdk's default is 30


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Wait out a 429 only when ``Retry-After`` is short; longer waits become a DeliveryError."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = 30.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers) <= self.max_wait


def retry_after(headers: Any, default: float = 1.0) -> float:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return default
    return default


def retry_handlers(max_wait: float = 30.0) -> list[AsyncRetryHandler]:
    return [BoundedRateLimitRetryHandler(max_wait=max_wait)]


def make_web_client(
    token: str | None = None,
    *,
    base_url: str | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    max_rate_limit_wait: float = 30.0,
) -> AsyncWebClient:
    """``base_url`` points at a fake Slack in tests (SLACK_API_URL); ``session`` reuses connections."""
    kwargs: dict[str, Any] = {"timeout": timeout, "retry_handlers": retry_handlers(max_rate_limit_wait)}
    if base_url:
        kwargs["base_url"] = base_url
    if session is not None:
        kwargs["session"] = session
    return AsyncWebClient(token=token, **kwargs)


RESPONSE_HEADERS = {"Content-Type": "application/json;charset=utf-8"}


async def post_response(session: aiohttp.ClientSession | None, url: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` to a ``response_url`` on the kept ``session`` (one per process, as every
    Web API call uses); the HTTP status. A bare aiohttp call: slack_sdk's webhook client builds its
    headers, body and retry state anew for every answer, and retries nothing here anyway."""
    if session is None or session.closed:  # not started (tests that build an app by hand)
        async with aiohttp.ClientSession() as own:
            return await post_response(own, url, payload)
    timeout = aiohttp.ClientTimeout(total=DEFAULT_TIMEOUT)
    async with session.post(
        url, data=json.dumps(payload), headers=RESPONSE_HEADERS, timeout=timeout
    ) as response:
        await response.read()
        return response.status
