"""Build the Bolt ``AsyncApp`` around the engine: the one function ``bot/`` calls."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runner import EngineRunner
from adapters.slack.background import Background
from adapters.slack.client import make_web_client
from adapters.slack.dedupe import EventDedupe, MemoryDedupe
from adapters.slack.listeners import SlackInbound
from adapters.slack.payloads import actor
from adapters.slack.profiles import Profiles
from adapters.slack.settings import BOT_SCOPES, SlackSettings
from conversations.core.interactions import EngineHandle, Installed

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def build_app(
    engine_handle: EngineHandle,
    *,
    signing_secret: str,
    token: str | None = None,
    client: AsyncWebClient | None = None,
    installation_store: AsyncInstallationStore | None = None,
    oauth_settings: AsyncOAuthSettings | None = None,
    dedupe: EventDedupe | None = None,
    background: Background | None = None,
    profiles: Profiles | None = None,
    lookup_profiles: bool = True,
    ack_budget: float = 2.0,
    runner: EngineRunner | None = None,
) -> AsyncApp:
    """One workspace: pass ``token``. OAuth installs: pass ``oauth_settings`` (see
    :func:`oauth_settings_for`) and no token. ``dedupe`` should be a :class:`SqlDedupe` when
    several web processes serve Slack; ``background`` lets the caller drain follow-up work on
    shutdown (:func:`adapters.slack.http.add_routes` does). ``runner`` runs engine calls off the
    event loop; by default one thread for all of them."""
    if token and oauth_settings:
        raise ValueError("pass either token (one workspace) or oauth_settings (OAuth installs), not both")
    if client is None:
        client = make_web_client(token)
    elif token:
        client.token = token
    app = AsyncApp(
        name="buddy",
        signing_secret=signing_secret,
        client=client,
        installation_store=installation_store,
        oauth_settings=oauth_settings,
        process_before_response=True,  # our listeners decide what runs before the ack (listeners.py)
        # Every HTTP request is verified once, before Bolt sees it, over the bytes as sent
        # (adapters.slack.guard.signed in http.add_routes, the only way in); Socket Mode has no signature.
        request_verification_enabled=False,
    )
    inbound = SlackInbound(
        engine_handle,
        background=background or Background(),
        dedupe=dedupe or MemoryDedupe(),
        profiles=(profiles or Profiles()) if lookup_profiles else None,
        ack_budget=ack_budget,
        runner=runner,
    )
    inbound.register(app)
    return app


def oauth_settings_for(
    settings: SlackSettings,
    installation_store: AsyncInstallationStore,
    state_store: AsyncOAuthStateStore,
    engine_handle: EngineHandle | None = None,
) -> AsyncOAuthSettings:
    """OAuth install flow at ``/slack/install`` and ``/slack/oauth_redirect``. When ``engine_handle``
    is given, a completed install reaches the engine as :class:`Installed` (the installer)."""
    callback_options = None
    if engine_handle is not None:
        callback_options = AsyncCallbackOptions(
            success=_on_installed(engine_handle), failure=_on_install_failed
        )
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store,
        state_store=state_store,
        redirect_uri=settings.redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=callback_options,
    )


def _on_installed(engine_handle: EngineHandle) -> Any:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id:
            try:
                await asyncio.to_thread(
                    engine_handle, Installed(actor(installation.team_id, installation.user_id))
                )
            except Exception:
                log.exception("engine failed on a new install in %s", installation.team_id)
        return await args.default.success(args)

    return success


async def _on_install_failed(args: AsyncFailureArgs) -> BoltResponse:
    log.warning("Slack install failed: %s", args.reason)
    return await args.default.failure(args)
