"""``buddybot serve``: one aiohttp server for Slack and Teams, plus the sender and scheduler.

Roles: ``all`` (default) runs everything in one process; ``web`` only answers Slack and Teams (run
several behind a load balancer, sharing PostgreSQL); ``worker`` only sends and schedules.

On SIGTERM (or Ctrl-C) the server stops accepting connections, lets the requests in flight finish
(up to ``SHUTDOWN_SECONDS``), then stops the worker (:meth:`bot.worker.Worker.stop`): well inside
the 30 s a process manager such as systemd allows before it kills.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.platform import Platform, Undelivered
from adapters.runner import EngineRunner, lane_threads
from bot.affinity import keep_on
from bot.bootstrap import Buddy, bootstrap
from bot.caches import wire_slack, wire_teams
from bot.inbound import middleware
from bot.metrics import Metrics, count_slack_429s, metered_handle, metered_many, watch_matching
from bot.settings import Settings, SettingsError
from bot.worker import start_worker
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.views import Message
from conversations.flows.context import Ctx
from conversations.ports.directory import Directory
from conversations.ports.messenger import DeliveryError, Messenger
from storage.checkpoint import WalCheckpointer
from storage.database import make_engine
from storage.migrate import upgrade

if TYPE_CHECKING:  # the platforms' modules load only when their settings are present
    import sqlalchemy as sa

    from adapters.slack.runtime import SlackRuntime
    from adapters.teams.app import TeamsApp

log = logging.getLogger(__name__)
SENDING_LEASE = timedelta(
    minutes=5
)  # the sender's lease (conversations.delivery.sender.Sender): a claim older is stuck

SHUTDOWN_SECONDS = 15.0  # in-flight requests; the worker then has its own 10 s for sends in flight


@dataclass
class Platforms:
    """The messaging platforms configured in the environment, ready to attach to an engine."""

    messengers: dict[str, Messenger] = field(default_factory=dict)
    directories: dict[str, Directory] = field(default_factory=dict)  # people by work email
    slack: SlackRuntime | None = None
    teams: TeamsApp | None = None

    @property
    def configured(self) -> list[Platform]:
        return [p for p in (self.slack, self.teams) if p is not None]


def configure_platforms(env: Mapping[str, str], db: sa.Engine) -> Platforms:
    """Build each platform whose settings are present; a missing or contradictory setting stops
    start-up with a message that names it."""
    from adapters.slack.runtime import SlackRuntime
    from adapters.slack.settings import SlackSettings, SlackSettingsError, workspace_rate
    from adapters.teams import TeamsConfigError, TeamsSettings, build_teams

    platforms = Platforms()
    try:
        if SlackSettings.is_configured(env):
            slack = platforms.slack = SlackRuntime.create(SlackSettings.from_env(env), db=db, create_tables=False,
                                                          workspace_rate=workspace_rate(env))  # fmt: skip
            platforms.messengers["slack"] = slack.messenger
            platforms.directories["slack"] = slack_directory(slack, env)
            wire_slack(slack.profiles)  # what the adapter caches about people, for forget and mydata
        if env.get("MICROSOFT_APP_ID", "").strip() or env.get("BUDDY_TEAMS_DEV_MODE", "").strip():
            teams = platforms.teams = build_teams(TeamsSettings.from_env(env), db)
            platforms.messengers["teams"] = teams.messenger
            if teams.directory is not None:
                platforms.directories["teams"] = teams.directory
            wire_teams(teams.references)
    except (SlackSettingsError, TeamsConfigError) as error:
        raise SettingsError(str(error)) from error
    if not platforms.messengers:
        raise SettingsError(
            "No platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see docs/slack.md) "
            "or MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (see docs/teams.md)."
        )
    return platforms


def slack_directory(slack: SlackRuntime, env: Mapping[str, str]) -> Directory:
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


METRICS = web.AppKey("buddy_metrics", Metrics)


def build_web_app(
    buddy: Buddy, platforms: Platforms, role: str, settings: Settings, metrics: Metrics | None = None
) -> web.Application:
    metrics = metrics or Metrics()
    app = web.Application(middlewares=[middleware(metrics)])
    app[METRICS] = metrics

    async def health(_request: web.Request) -> web.Response:
        """For load balancers and monitoring: 503 when the database cannot be reached; otherwise the
        outbox's backlog, and posts whose delivery a person has to settle (``held``) or that failed."""
        about: dict[str, object] = {"role": role, "platforms": sorted(platforms.messengers)}
        try:
            outbox = await asyncio.to_thread(buddy.engine.run, _outbox_figures)
        except Exception as error:  # the reason may name the database's address: log it, don't serve it
            log.warning("health check: database unreachable: %s", type(error).__name__)
            return web.json_response(
                {"status": "unavailable", **about, "reason": "database unreachable"}, status=503
            )
        return web.json_response({"status": "ok", **about, "outbox": outbox})

    app.router.add_get("/healthz", health)
    if settings.metrics:
        app.router.add_get("/metrics", metrics_handler(metrics))
    if settings.metrics_port is not None:
        _metrics_site(app, metrics, settings.host, settings.metrics_port)

    async def on_startup(app: web.Application) -> None:
        for platform in platforms.configured:
            await platform.start()

    async def on_cleanup(app: web.Application) -> None:
        for platform in platforms.configured:
            await platform.close()

    if role in ("all", "web"):
        handle = metered_handle(buddy.engine.handle, buddy.engine.lane, metrics)
        many = metered_many(buddy.engine.handle_many, buddy.engine.lane, metrics)
        runner = EngineRunner(
            handle, lane_of=buddy.engine.lane, threads=lane_threads(settings.database_url), handle_many=many
        )
        for platform in platforms.configured:
            platform.serve(app, handle, runner, _undelivered(buddy))

        async def stop_runner(_app: web.Application) -> None:
            await asyncio.to_thread(runner.close)

        app.on_cleanup.append(stop_runner)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    if role in ("all", "worker"):
        start_worker(app, buddy, settings, metrics)  # the sender, and the scheduler when elected
    return app


def metrics_handler(metrics: Metrics):  # type: ignore[no-untyped-def]
    async def serve_metrics(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, metrics.registry)  # the outbox is counted in the db
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return serve_metrics


def _metrics_site(app: web.Application, metrics: Metrics, host: str, port: int) -> None:
    """``/metrics`` on a port of its own, for the Prometheus server only (not the public proxy)."""
    side = web.Application()
    side.router.add_get("/metrics", metrics_handler(metrics))
    holder: list[web.AppRunner] = []

    async def start(_app: web.Application) -> None:
        runner = web.AppRunner(side, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        holder.append(runner)
        log.info("metrics on http://%s:%s/metrics", host, port)

    async def stop(_app: web.Application) -> None:
        for runner in holder:
            await runner.cleanup()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _undelivered(buddy: Buddy) -> Undelivered:
    """A reply refused within its turn: to the outbox, or the person marked unreachable."""
    from conversations.flows import failures

    def undelivered(
        user: UserRef, conversation: ConversationRef | None, message: Message, error: DeliveryError, key: str
    ) -> None:
        buddy.engine.run(lambda ctx: failures.reply_undelivered(ctx, user, conversation, message, error, key))

    return undelivered


def _outbox_figures(ctx: Ctx) -> dict[str, int]:
    figures = {status: ctx.uow.outbox.count(status) for status in ("pending", "held", "failed")}
    figures["stuck_sending"] = ctx.uow.outbox.count_stuck(ctx.now - SENDING_LEASE)
    return figures


def prepare(settings: Settings, role: str, env: Mapping[str, str]) -> tuple[Buddy, web.Application]:
    sqlite = settings.database_url.startswith("sqlite")
    db = make_engine(settings.database_url, checkpoint_in_background=sqlite)
    upgrade(db)
    platforms = configure_platforms(env, db)
    metrics = Metrics()
    counted: tuple[str, ...] = ()
    if platforms.slack is not None:
        count_slack_429s(platforms.slack.client, metrics)
        counted = ("slack",)
    buddy = bootstrap(db, platforms.messengers, seed=settings.seed, admins=settings.admins, migrate=False,
                      metrics=metrics, counted_429s=counted, directories=platforms.directories)  # fmt: skip
    metrics.watch_outbox(buddy.uow)
    watch_matching()
    app = build_web_app(buddy, platforms, role, settings, metrics)
    if sqlite:
        checkpoint_in_background(app, db)
    return buddy, app


def checkpoint_in_background(app: web.Application, db: sa.Engine) -> None:
    """SQLite's log checkpointed by a thread of the server's, not inside a request's commit."""
    checkpointer = WalCheckpointer(db)

    async def start(_app: web.Application) -> None:
        checkpointer.start()

    async def stop(_app: web.Application) -> None:
        await asyncio.to_thread(checkpointer.stop)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


WARM_UP_SECONDS = 60.0


YOUNG_THRESHOLD = 7000  # allocations between young collections (Python's default is 700)


def freeze_heap() -> None:
    """Move every object alive now out of the collector's sight (``gc.freeze``): the modules, the
    engine, the Slack and Teams apps and the caches a warmed-up server holds live for the whole
    process, and a full collection that walks them all (about 200,000 objects) stalled the event
    loop for 45-85 ms, long enough to push an ack past the p99. Collections then only walk what
    requests allocate. Young collections run every 7,000 allocations rather than every 700: most
    of a request's objects are gone by then (in ``bench/inbound.py``, 7 young collections of about
    3 ms instead of 315 of about 0.25 ms for the same requests: a third of the time in all)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)


def freeze_when_warm(app: web.Application, warm_up: float = WARM_UP_SECONDS) -> None:
    """Freeze once the server has started, and again after ``warm_up`` seconds of traffic (by then
    the lazily built parts, such as compiled queries and Bolt's listeners, exist)."""

    async def on_startup(_app: web.Application) -> None:
        freeze_heap()
        asyncio.get_running_loop().call_later(warm_up, freeze_heap)

    app.on_startup.append(on_startup)


def serve(settings: Settings, role: str, env: Mapping[str, str] | None = None) -> int:
    keep_on(settings.cpu)  # before any thread starts: they all inherit it (bot/affinity.py)
    _buddy, app = prepare(settings, role, env if env is not None else os.environ)
    freeze_when_warm(app)
    on = "" if settings.cpu is None else f", CPU {settings.cpu}"
    log.info(
        "buddybot serve --role %s on %s:%s (pid %s%s)", role, settings.host, settings.port, os.getpid(), on
    )
    web.run_app(
        app, host=settings.host, port=settings.port, print=log.info, shutdown_timeout=SHUTDOWN_SECONDS
    )
    log.info("buddybot serve --role %s stopped", role)
    return 0
