"""What ``bot/`` does with a configured messaging platform, the same for Slack and Teams.

``buddybot serve`` builds each platform whose settings are present (the Slack runtime, the Teams
app), hands its messenger to the engine, then serves, starts and closes every one through
:class:`Platform`, without knowing which it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from adapters.runner import EngineRunner
from conversations.core.interactions import EngineHandle
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.views import Message
from conversations.ports.messenger import DeliveryError, Messenger

Undelivered = Callable[[UserRef, ConversationRef | None, Message, DeliveryError, str], None]
"""Told of a reply a platform refused for good within its turn: (who, where, what, why, a unique key).
``bot/`` wires it to the outbox (send it later) and marks a person who blocked Buddy unreachable."""


class Platform(Protocol):
    @property
    def messenger(self) -> Messenger:
        """What the engine's sender posts through."""
        ...

    def serve(
        self, web_app: web.Application, handle: EngineHandle, runner: EngineRunner, undelivered: Undelivered
    ) -> None:
        """Answer the platform's requests on ``web_app`` with ``handle`` (``Engine.handle``), run by
        ``runner``; a reply refused within its turn goes to ``undelivered``."""
        ...

    async def start(self) -> None:
        """Once the web server has started (shared HTTP sessions, sockets)."""
        ...

    async def close(self) -> None:
        """When the web server stops: what ``start`` opened, and work still in flight."""
        ...
