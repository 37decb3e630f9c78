"""Socket Mode: Slack pushes the same payloads over a WebSocket; no public URL needed.

Every envelope passes the checks HTTP requests pass (:mod:`adapters.slack.guard`) before Bolt sees
it: the same size cap, the same shapes, the same polite answers for what Buddy has no use for.
Each envelope is acknowledged whatever happens (an envelope left unacknowledged is sent again),
and nothing a listener raises escapes into the socket client."""

from __future__ import annotations

import logging
from time import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack import guard

log = logging.getLogger(__name__)

MAX_PAYLOAD = 1024**2  # the HTTP server's limit on a request body (aiohttp's client_max_size)


class GuardedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler, with every envelope checked and acknowledged by :meth:`on_message` (it
    replaces Bolt's request listener, which cannot see an envelope slack_sdk fails to parse)."""

    def __init__(self, app: AsyncApp, app_token: str, **kwargs: Any) -> None:
        super().__init__(app, app_token, **kwargs)
        self.client.socket_mode_request_listeners.clear()
        self.client.message_listeners.append(self.on_message)  # type: ignore[arg-type]
        read = self.client.process_message

        async def process_message() -> None:  # a frame that is not JSON: logged, not raised
            try:
                await read()
            except ValueError:
                log.info("ignored a Socket Mode frame that is not JSON")

        self.client.process_message = process_message  # type: ignore[method-assign]

    async def on_message(self, client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str) -> None:
        envelope_id = message.get("envelope_id")
        if not isinstance(envelope_id, str) or not envelope_id:
            return  # hello, disconnect (slack_sdk handles it), or nothing Slack would send
        start = time()
        try:
            verdict = _inspect(message, raw)
            if not verdict.passes:
                if verdict.status == 400:
                    log.info("refused a malformed Socket Mode envelope: %s", verdict.reason)
                wants_body = message.get("accepts_response_payload") is True and isinstance(
                    verdict.body, dict
                )
                await _ack(client, envelope_id, verdict.body if wants_body else None)
                return
            req = SocketModeRequest(str(message["type"]), envelope_id, message["payload"],
                                    accepts_response_payload=message.get("accepts_response_payload") is True)  # fmt: skip
            response = await run_async_bolt_app(self.app, req)
            if response.status != 200:  # nothing listens for it (404), or a listener failed
                if response.status >= 500:
                    log.error("a Slack listener failed on a Socket Mode envelope (%s)", response.status)
                await _ack(client, envelope_id, None)
                return
            await send_async_response(client, req, response, start)
        except Exception:
            log.exception("a Socket Mode envelope failed; acknowledged without an answer")
            try:
                await _ack(client, envelope_id, None)
            except Exception:
                log.warning("could not acknowledge a Socket Mode envelope")


def _inspect(message: dict[str, Any], raw: str) -> guard.Verdict:
    if len(raw) > MAX_PAYLOAD:
        return guard.Verdict(400, None, f"an envelope of {len(raw):,} characters")
    kind = message.get("type")
    if not isinstance(kind, str) or "payload" not in message:
        return guard.Verdict(400, None, "an envelope without a type or payload")
    return guard.inspect_envelope(kind, message["payload"])


async def _ack(client: AsyncBaseSocketModeClient, envelope_id: str, body: dict[str, Any] | None) -> None:
    await client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id, payload=body))


async def start_socket_mode(bolt_app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect in the background and return the handler; ``await handler.close_async()`` on shutdown."""
    if not app_token.startswith("xapp-"):
        raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    handler = GuardedSocketModeHandler(bolt_app, app_token)
    await handler.connect_async()
    return handler
