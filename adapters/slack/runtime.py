"""Everything Slack needs at run time, from :class:`SlackSettings`, in the order ``bot/`` needs it.

::

    slack = SlackRuntime.create(settings, db=db_engine)          # before the engine: the messenger
    buddy = bootstrap(url, {"slack": slack.messenger, ...})
    slack.attach(buddy.engine.handle)                            # the Bolt app around the engine
    slack.add_routes(web_app)                                    # POST /slack/events (+ OAuth pages)
    await slack.start()                                          # shared HTTP session; Socket Mode
    ...
    await slack.close()
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.platform import Undelivered
from adapters.runner import EngineRunner
from adapters.slack.app import build_app, oauth_settings_for
from adapters.slack.background import Background
from adapters.slack.client import make_web_client
from adapters.slack.dedupe import EventDedupe, MemoryDedupe, SqlDedupe
from adapters.slack.http import add_routes
from adapters.slack.installation import EncryptedInstallationStore, ThreadedStateStore, build_oauth_stores
from adapters.slack.installation import installation_tokens as tokens_from_installs
from adapters.slack.messenger import DEFAULT_WORKSPACE_RATE, SlackMessenger, static_token
from adapters.slack.profiles import Profiles, SqlProfileCache
from adapters.slack.settings import Mode, SlackSettings
from adapters.slack.socket_mode import start_socket_mode
from conversations.core.interactions import EngineHandle


@dataclass
class SlackRuntime:
    settings: SlackSettings
    client: AsyncWebClient
    messenger: SlackMessenger
    dedupe: EventDedupe
    background: Background = field(default_factory=Background)
    profiles: Profiles = field(default_factory=Profiles)  # names and emails from users.info, cached
    installation_store: EncryptedInstallationStore | None = None
    state_store: ThreadedStateStore | None = None
    app: AsyncApp | None = None
    _session: aiohttp.ClientSession | None = None
    _socket: AsyncSocketModeHandler | None = None

    @classmethod
    def create(
        cls,
        settings: SlackSettings,
        *,
        db: sa.Engine | None = None,
        create_tables: bool = True,
        workspace_rate: float = DEFAULT_WORKSPACE_RATE,
    ) -> SlackRuntime:
        """``db`` (Buddy's SQLAlchemy engine) holds the event-dedupe table and, for OAuth, the
        installations; without it dedupe is per process and OAuth is refused. ``workspace_rate``
        (``BUDDY_SLACK_WORKSPACE_RATE``, see :func:`~adapters.slack.settings.workspace_rate`) is the
        messenger's declared workspace-wide pace."""
        client = make_web_client(settings.bot_token or None, base_url=settings.api_base_url or None)
        dedupe: EventDedupe = MemoryDedupe()
        profiles = Profiles()
        if db is not None:
            sql_dedupe = SqlDedupe(db)
            if create_tables:
                sql_dedupe.create_table()
                from adapters.slack.profiles import metadata as profile_tables

                profile_tables.create_all(db)
            dedupe = sql_dedupe
            profiles = Profiles(shared=SqlProfileCache(db))  # several web processes ask once between them
        if settings.mode is Mode.OAUTH:
            if db is None:
                raise ValueError("OAuth installs need a database for their tokens: pass db=")
            store, states = build_oauth_stores(
                db,
                client_id=settings.client_id,
                encryption_keys=settings.token_encryption_key,
                create_tables=create_tables,
            )
            messenger = SlackMessenger(client, tokens_from_installs(store), workspace_rate=workspace_rate)
            return cls(settings, client, messenger, dedupe, installation_store=store, state_store=states,
                       profiles=profiles)  # fmt: skip
        messenger = SlackMessenger(client, static_token(settings.bot_token), workspace_rate=workspace_rate)
        return cls(settings, client, messenger, dedupe, profiles=profiles)

    def attach(self, engine_handle: EngineHandle, runner: EngineRunner | None = None) -> AsyncApp:
        oauth = None
        if self.installation_store is not None and self.state_store is not None:
            oauth = oauth_settings_for(
                self.settings, self.installation_store, self.state_store, engine_handle
            )
        self.app = build_app(
            engine_handle,
            signing_secret=self.settings.signing_secret,
            token=self.settings.bot_token or None,
            client=self.client,
            oauth_settings=oauth,
            dedupe=self.dedupe,
            background=self.background,
            profiles=self.profiles,
            runner=runner,
        )
        return self.app

    def add_routes(self, web_app: web.Application) -> None:
        """HTTP modes only; in Socket Mode Slack reaches us over the socket instead."""
        if self.app is None:
            raise RuntimeError("call attach(engine.handle) first")
        if self.settings.mode is not Mode.SOCKET:
            add_routes(web_app, self.app, background=self.background)

    def serve(
        self, web_app: web.Application, handle: EngineHandle, runner: EngineRunner, undelivered: Undelivered
    ) -> None:
        """:class:`~adapters.platform.Platform`: the Bolt app around ``handle``, and its routes.
        ``undelivered`` is not used yet: the listeners log a reply Slack refuses within its turn."""
        self.attach(handle, runner)
        self.add_routes(web_app)

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self.client.session = self._session  # Bolt's per-request clients reuse it too
        if self.settings.mode is Mode.SOCKET and self._socket is None:
            if self.app is None:
                raise RuntimeError("call attach(engine.handle) first")
            self._socket = await start_socket_mode(self.app, self.settings.app_token)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        try:
            await self.background.drain(timeout=10)
        except TimeoutError:
            pass
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None
