"""Composition of the Teams adapter: what ``bot/`` builds once and wires into the web server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy import Engine

from adapters.platform import Undelivered
from adapters.runner import EngineRunner
from adapters.teams.bot import BuddyTeamsBot
from adapters.teams.dedupe import Deduper
from adapters.teams.directory import TeamsDirectory
from adapters.teams.files import PendingFiles
from adapters.teams.graph import GraphClient
from adapters.teams.handler import make_authentication, messages_handler
from adapters.teams.messenger import TeamsMessenger
from adapters.teams.references import ReferenceStore
from adapters.teams.retry import DEFAULT_POLICY, TENANT_WINDOWS, Pacer, RetryPolicy, Sleep
from adapters.teams.settings import TeamsSettings
from adapters.teams.tables import metadata
from conversations.core.interactions import EngineHandle

ROUTE = "/api/messages"


@dataclass
class TeamsApp:
    settings: TeamsSettings
    adapter: CloudAdapter
    authentication: object
    references: ReferenceStore
    deduper: Deduper
    pacer: Pacer
    messenger: TeamsMessenger
    files: PendingFiles
    directory: TeamsDirectory | None = None  # people by work email, where Graph is configured

    def add_routes(
        self,
        web_app: web.Application,
        handle: EngineHandle,
        *,
        after_handle: Callable[[], Awaitable[None] | None] | None = None,
        path: str = ROUTE,
        runner: EngineRunner | None = None,
        undelivered: Undelivered | None = None,
    ) -> BuddyTeamsBot:
        """Serve Teams at ``path``; ``handle`` is ``Engine.handle``, run off the event loop by
        ``runner`` (by default one thread for all calls)."""
        bot = BuddyTeamsBot(handle, self.references, self.deduper, pacer=self.pacer, after_handle=after_handle,
                            runner=runner, files=self.files, sleep=self.messenger.sleep,
                            policy=self.messenger.policy, rng=self.messenger.rng, undelivered=undelivered)  # fmt: skip
        web_app.router.add_post(path, messages_handler(self.adapter, self.authentication, bot))
        return bot

    def serve(
        self, web_app: web.Application, handle: EngineHandle, runner: EngineRunner, undelivered: Undelivered
    ) -> None:
        """:class:`~adapters.platform.Platform`: ``POST /api/messages``."""
        self.add_routes(web_app, handle, runner=runner, undelivered=undelivered)

    async def start(self) -> None:
        """:class:`~adapters.platform.Platform`: nothing to open (botbuilder opens its own sessions)."""

    async def close(self) -> None:
        """:class:`~adapters.platform.Platform`: nothing to close."""


def build_teams(
    settings: TeamsSettings,
    db: Engine,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
    create_tables: bool = False,
) -> TeamsApp:
    """One adapter, store and messenger for inbound and outbound alike.

    ``create_tables`` is for tests and throwaway databases; deployments get the tables from the
    project's Alembic migration.
    """
    if create_tables:
        metadata.create_all(db)
    authentication = make_authentication(settings)
    adapter = CloudAdapter(authentication)
    references = ReferenceStore(db)
    pacer = Pacer(clock=clock, sleep=sleep)
    graph = GraphClient(settings.graph, policy=policy, sleep=sleep, rng=rng) if settings.graph else None
    messenger = TeamsMessenger(
        adapter,
        settings,
        references,
        graph=graph,
        policy=policy,
        pacer=pacer,
        tenant_pacer=Pacer(TENANT_WINDOWS, clock=clock, sleep=sleep),
        sleep=sleep,
        rng=rng,
    )
    deduper = Deduper(db, settings.dedupe_ttl_seconds)
    directory = TeamsDirectory(graph, sleep=sleep) if graph is not None else None
    return TeamsApp(
        settings, adapter, authentication, references, deduper, pacer, messenger, PendingFiles(db), directory
    )
