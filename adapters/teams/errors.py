"""Bot Connector failures -> :class:`DeliveryError`.

botbuilder raises msrest exceptions: ``HttpOperationError`` with the HTTP response, or
``ClientRequestError`` wrapping a ``requests`` connection error. The difference that matters for a
post is whether the request may have reached Teams: a refused connection did not (safe to retry),
a reset or timed-out one may have (outcome unknown: never resend blindly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.teams.retry import RETRY_STATUSES, parse_retry_after
from conversations.ports.messenger import DeliveryError

# 403 codes meaning the bot cannot write to this person/chat any more (blocked, uninstalled)
UNREACHABLE_CODES = frozenset({"MessageWritesBlocked", "ConversationBlockedByUser", "BotDisabledByAdmin"})
# the bot is not (yet) in a chat's roster: after an install through Graph this settles in seconds
NOT_YET_CODES = frozenset({"BotNotInConversationRoster"})

_NOT_SENT_MARKERS = ("NewConnectionError", "ConnectionRefusedError", "ConnectTimeout", "NameResolutionError")


@dataclass(frozen=True)
class Failure:
    status: int  # 0 when there was no HTTP answer
    code: str
    retry_after: float | None = None
    maybe_sent: bool = False

    @property
    def retryable(self) -> bool:
        return self.status in RETRY_STATUSES or (self.status == 0 and not self.maybe_sent)

    def to_delivery_error(self, retryable_now: bool | None = None) -> DeliveryError:
        if self.status == 403 and self.code in UNREACHABLE_CODES:
            return DeliveryError(f"teams_{self.code}", unreachable=True)
        if self.status == 403 and self.code in NOT_YET_CODES:
            return DeliveryError(f"teams_{self.code}", retryable=True, retry_after=10.0)
        if self.status == 0 and self.maybe_sent:
            return DeliveryError(f"teams_{self.code}", unknown=True)
        retryable = self.retryable if retryable_now is None else retryable_now
        return DeliveryError(f"teams_{self.code}", retryable=retryable, retry_after=self.retry_after)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[Any] = [error]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([current.__cause__, current.__context__, getattr(current, "inner_exception", None)])
        todo.extend(a for a in current.args if isinstance(a, BaseException))
    return seen


def classify(error: BaseException) -> Failure:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if isinstance(status, int) and status:
        headers = getattr(response, "headers", {}) or {}
        return Failure(
            status, _error_code(response) or f"http_{status}", parse_retry_after(headers.get("Retry-After"))
        )
    chain = _chain(error)
    names = " ".join(type(e).__name__ + " " + str(e) for e in chain)
    if any(marker in names for marker in _NOT_SENT_MARKERS):
        return Failure(0, "connect_failed")
    if any(
        type(e).__name__ in ("ClientRequestError", "ConnectionError", "ReadTimeout", "TimeoutError")
        for e in chain
    ):
        return Failure(0, "connection_lost", maybe_sent=True)
    return Failure(0, type(error).__name__, maybe_sent=True)


def _error_code(response: Any) -> str:
    try:
        text = response.text if isinstance(response.text, str) else response.text()
        body = json.loads(text or "{}")
    except Exception:  # noqa: BLE001 - an unreadable error body just has no code
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""
