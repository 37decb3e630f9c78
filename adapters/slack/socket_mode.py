"""Socket Mode: Slack pushes the same payloads over a WebSocket; no public URL needed."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp


async def start_socket_mode(bolt_app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect in the background and return the handler; ``await handler.close_async()`` on shutdown."""
    if not app_token.startswith("xapp-"):
        raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    handler = AsyncSocketModeHandler(bolt_app, app_token)
    await handler.connect_async()
    return handler
