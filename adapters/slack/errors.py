"""Slack failures -> :class:`DeliveryError`, so the sender can retry, give up, or check.

``unknown`` is only ever set for calls with a visible effect that may have happened anyway
(``chat.postMessage``): a reset connection or a 5xx after the request was sent. Idempotent calls
(open a conversation, update, publish) are simply retryable in that case.
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.slack.client import retry_after
from conversations.ports.messenger import DeliveryError

# The person cannot be reached: left the workspace, deactivated, or is the bot itself.
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "user_not_visible",
        "not_allowed_to_dm",
    }
)
# Trying again will not help; a person (coordinator or operator) has to act.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "too_many_users",
        "not_enough_users",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_metadata_format",
        "invalid_arguments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "restricted_action",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",  # the *bot token's* workspace or app is gone, not the person
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "team_added_to_org"}
)


def api_error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    return str(data.get("error") or "unknown_error") if isinstance(data, dict) else "unknown_error"


def from_api_error(error: SlackApiError, *, idempotent: bool) -> DeliveryError:
    response = error.response
    code = api_error_code(error)
    status = getattr(response, "status_code", 200)
    if status == 429 or code == "ratelimited":
        return DeliveryError(
            "ratelimited", retryable=True, retry_after=retry_after(getattr(response, "headers", {}))
        )
    if code in UNREACHABLE:
        return DeliveryError(code, unreachable=True)
    if code in PERMANENT:
        return DeliveryError(code)
    if status >= 500 and not idempotent:
        return DeliveryError(f"http_{status}", unknown=True)
    if code in RETRYABLE or status >= 500:
        return DeliveryError(code if code != "unknown_error" else f"http_{status}", retryable=True)
    return DeliveryError(code)


def from_transport_error(error: BaseException, *, idempotent: bool) -> DeliveryError:
    """A failure below the API: was the request sent before it happened?"""
    if isinstance(error, aiohttp.ClientConnectorError):
        return DeliveryError("connect_failed", retryable=True)  # never reached Slack
    code = "timeout" if isinstance(error, asyncio.TimeoutError | TimeoutError) else "connection_lost"
    if idempotent:
        return DeliveryError(code, retryable=True)
    return DeliveryError(code, unknown=True)


TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ConnectionError)
