"""``buddybot serve``: one aiohttp server for Slack and Teams, plus the sender and scheduler.

Roles: ``all`` (default) runs everything in one process; ``web`` only answers Slack and Teams (run
several behind a load balancer, sharing PostgreSQL); ``worker`` only sends and schedules.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.runner import EngineRunner, lane_threads
from bot.bootstrap import Buddy, bootstrap
from bot.settings import Settings, SettingsError
from bot.worker import start_worker
from conversations.flows.context import Ctx
from conversations.ports.directory import Directory
from conversations.ports.messenger import Messenger
from storage.database import make_engine
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Platforms:
    """The messaging platforms configured in the environment, ready to attach to an engine."""

    messengers: dict[str, Messenger] = field(default_factory=dict)
    directories: dict[str, Directory] = field(default_factory=dict)  # people by work email
    slack: Any = None
    teams: Any = None


def configure_platforms(env: Mapping[str, str], db: Any) -> Platforms:
    """Build each platform whose settings are present; a missing or contradictory setting stops
    start-up with a message that names it."""
    from adapters.slack.runtime import SlackRuntime
    from adapters.slack.settings import SlackSettings, SlackSettingsError
    from adapters.teams import TeamsConfigError, TeamsSettings, build_teams

    platforms = Platforms()
    try:
        if SlackSettings.is_configured(env):
            platforms.slack = SlackRuntime.create(SlackSettings.from_env(env), db=db, create_tables=False)
            platforms.messengers["slack"] = platforms.slack.messenger
            platforms.directories["slack"] = slack_directory(platforms.slack, env)
        if env.get("MICROSOFT_APP_ID", "").strip() or env.get("BUDDY_TEAMS_DEV_MODE", "").strip():
            platforms.teams = build_teams(TeamsSettings.from_env(env), db)
            platforms.messengers["teams"] = platforms.teams.messenger
            if platforms.teams.directory is not None:
                platforms.directories["teams"] = platforms.teams.directory
    except (SlackSettingsError, TeamsConfigError) as error:
        raise SettingsError(str(error)) from error
    if not platforms.messengers:
        raise SettingsError(
            "No platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see docs/slack.md) "
            "or MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (see docs/teams.md)."
        )
    return platforms


def slack_directory(slack: Any, env: Mapping[str, str]) -> Directory:
    """``users.lookupByEmail`` at Tier 3 (50 a minute) unless ``BUDDY_SLACK_LOOKUP_RATE`` says otherwise."""
    from adapters.slack.directory import TIER_3_PER_MINUTE, SlackDirectory

    rate = env.get("BUDDY_SLACK_LOOKUP_RATE", "").strip()
    try:
        per_minute = float(rate) if rate else TIER_3_PER_MINUTE
    except ValueError as error:
        raise SettingsError(f"BUDDY_SLACK_LOOKUP_RATE must be lookups per minute, not {rate!r}") from error
    if per_minute <= 0:
        raise SettingsError("BUDDY_SLACK_LOOKUP_RATE must be above 0 (lookups per minute).")
    return SlackDirectory(slack.client, slack.messenger.tokens, per_minute=per_minute)


def build_web_app(buddy: Buddy, platforms: Platforms, role: str, settings: Settings) -> web.Application:
    app = web.Application()

    async def health(_request: web.Request) -> web.Response:
        """For load balancers and monitoring: 503 when the database cannot be reached; otherwise the
        outbox's backlog, and posts whose delivery a person has to settle (``held``) or that failed."""
        about: dict[str, Any] = {"role": role, "platforms": sorted(platforms.messengers)}
        try:
            outbox = await asyncio.to_thread(buddy.engine.run, _outbox_figures)
        except Exception as error:  # the reason may name the database's address: log it, don't serve it
            log.warning("health check: database unreachable: %s", type(error).__name__)
            return web.json_response(
                {"status": "unavailable", **about, "reason": "database unreachable"}, status=503
            )
        return web.json_response({"status": "ok", **about, "outbox": outbox})

    app.router.add_get("/healthz", health)

    async def on_startup(app: web.Application) -> None:
        if platforms.slack is not None:
            await platforms.slack.start()

    async def on_cleanup(app: web.Application) -> None:
        if platforms.slack is not None:
            await platforms.slack.close()

    if role in ("all", "web"):
        runner = EngineRunner(
            buddy.engine.handle, lane_of=buddy.engine.lane, threads=lane_threads(settings.database_url)
        )
        if platforms.slack is not None:
            platforms.slack.attach(buddy.engine.handle, runner)
            platforms.slack.add_routes(app)
        if platforms.teams is not None:
            platforms.teams.add_routes(app, buddy.engine.handle, runner=runner)

        async def stop_runner(_app: web.Application) -> None:
            await asyncio.to_thread(runner.close)

        app.on_cleanup.append(stop_runner)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    if role in ("all", "worker"):
        start_worker(app, buddy, settings)  # the sender, and the scheduler when elected
    return app


def _outbox_figures(ctx: Ctx) -> dict[str, int]:
    return {status: ctx.uow.outbox.count(status) for status in ("pending", "held", "failed")}


def prepare(settings: Settings, role: str, env: Mapping[str, str]) -> tuple[Buddy, web.Application]:
    db = make_engine(settings.database_url)
    upgrade(db)
    platforms = configure_platforms(env, db)
    buddy = bootstrap(db, platforms.messengers, seed=settings.seed, admins=settings.admins, migrate=False,
                      directories=platforms.directories)
    return buddy, build_web_app(buddy, platforms, role, settings)


def serve(settings: Settings, role: str, env: Mapping[str, str] | None = None) -> int:
    _buddy, app = prepare(settings, role, env if env is not None else os.environ)
    web.run_app(app, host=settings.host, port=settings.port, print=log.info)
    return 0
