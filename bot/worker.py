"""The worker: the outbox sender, and the scheduler while this process leads, in the web app's lifetime.

``buddybot serve`` (role ``all``) and ``--role worker`` call :func:`start_worker`; ``--role web``
does not, so any number of web processes can share the database with the workers. Every worker
runs a sender (they share the outbox safely); one of them, the elected leader, runs the scheduler.

Wake-ups: a unit of work committed in this process wakes the sender at once; on PostgreSQL rows
queued by another process (a web-only one) wake it at once too (``LISTEN/NOTIFY``); otherwise
they are picked up within ``idle_seconds``.

Claims: the sender renews its claims every ``RENEW_SECONDS`` (a heartbeat), so their lease can
be short: a dead worker's claimed posts are checked and sent again by another within a minute.

Stopping (SIGTERM, at the web app's cleanup): the scheduler stops first (a job already running is
an idempotent reconciler, and finishes in its thread); the sender claims nothing more and finishes
the sends in flight, for up to ``grace`` seconds; claims whose post never started are given back;
then leadership is released, so a standby (or the restarted process) takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web

from bot.bootstrap import Buddy
from bot.leader import Elector, Leadership, SqliteLeadership, leadership_for
from bot.metrics import Metrics, job_kind
from bot.scheduler import BuddyScheduler
from bot.settings import Settings
from conversations.delivery.sender import drain_forever, keep_alive
from conversations.flows.retention import Retention
from storage.notify import listen

log = logging.getLogger(__name__)

STANDBY_POLL_SECONDS = 15.0  # a standby takes over within this (plus ~25 s to notice a vanished host)
LEASE = timedelta(seconds=30)  # a claim not renewed for this long belongs to a dead worker
RENEW_SECONDS = 10.0
RECOVER_SECONDS = 15.0


@dataclass
class Worker:
    buddy: Buddy
    database_url: str
    leadership: Leadership
    poll: float = STANDBY_POLL_SECONDS
    idle_seconds: float = 5.0
    scheduler: BuddyScheduler | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    elector: Elector | None = None
    metrics: Metrics | None = None
    grace: float = 10.0  # seconds the sends in flight may take to finish when stopping
    wake: asyncio.Event | None = None
    retention: Retention | None = None  # the deployment's retention schedule (default: documented defaults)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        wake = self.wake = asyncio.Event()

        def woken() -> None:
            loop.call_soon_threadsafe(wake.set)

        self.buddy.sender.closing = False
        self.buddy.engine.on_queued = woken
        sender = self.buddy.sender
        sender.lease = LEASE
        self.tasks.append(
            asyncio.create_task(drain_forever(sender, wake, self.idle_seconds, RECOVER_SECONDS))
        )
        self.tasks.append(asyncio.create_task(keep_alive(sender, RENEW_SECONDS, RECOVER_SECONDS)))
        if self.database_url.startswith(("postgres://", "postgresql")):
            self.tasks.append(asyncio.create_task(listen(self.database_url, woken)))
        if self.buddy.directories:  # survey imports: people found by work email, a slice at a time
            self.tasks.append(asyncio.create_task(self.buddy.lookups().run_forever()))
        self.elector = Elector(self.leadership, self._elected, self._deposed, poll=self.poll)
        self.tasks.append(asyncio.create_task(self.elector.run()))

    async def stop(self) -> None:
        sender, drain = self.buddy.sender, self.tasks[0] if self.tasks else None
        self.buddy.engine.on_queued = None
        if self.scheduler is not None:
            self.scheduler.shutdown()  # no new jobs while the rest winds down
        sender.closing = True
        if self.wake is not None:
            self.wake.set()
        if drain is not None and not drain.done():
            done, _ = await asyncio.wait({drain}, timeout=self.grace)
            if not done:
                log.warning("stopping: sends still in flight after %.0f s; they are checked at next start",
                            self.grace)  # fmt: skip
        for task in self.tasks:  # the drain if it overran (unstarted claims are given back), the elector
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        log.info("worker stopped: claims and scheduler lock released")

    async def _elected(self) -> None:
        self.scheduler = BuddyScheduler(self.buddy.engine, self.database_url,
                                        retention=self.retention)  # fmt: skip
        self.scheduler.start()
        if self.metrics is not None:
            self.metrics.leader.set(1)
            self._watch_jobs(self.scheduler, self.metrics)

    async def _deposed(self) -> None:
        if self.metrics is not None:
            self.metrics.leader.set(0)
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None

    @staticmethod
    def _watch_jobs(scheduler: BuddyScheduler, metrics: Metrics) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

        def finished(event: JobExecutionEvent) -> None:
            kind = job_kind(event.job_id)
            metrics.last_run.labels(kind).set(time.time())
            if event.exception is not None:
                metrics.job_errors.labels(kind).inc()

        scheduler.scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


WORKER = web.AppKey("buddy_worker", Worker)


def start_worker(
    app: web.Application, buddy: Buddy, settings: Settings, metrics: Metrics | None = None
) -> Worker:
    """Run the sender and the elected scheduler with ``app``.

    On SQLite the scheduler lock is taken here, before the server starts, and
    :class:`~bot.leader.LeadershipRefused` (with the reason) is raised if another scheduler holds it.
    The sender paces each platform as its messenger declares (Slack's workspace-wide rate is
    ``BUDDY_SLACK_WORKSPACE_RATE``, applied where the Slack messenger is built): shared by every
    worker on PostgreSQL (set the same value on each), one worker's own pace on SQLite.
    """
    leadership = leadership_for(settings.database_url)
    if isinstance(leadership, SqliteLeadership) and not leadership.try_acquire():
        raise leadership.refusal()
    worker = Worker(buddy, settings.database_url, leadership, metrics=metrics)
    worker.retention = settings.retention
    app[WORKER] = worker

    async def on_startup(_app: web.Application) -> None:
        await worker.start()

    async def on_shutdown(_app: web.Application) -> None:
        # at shutdown, not cleanup: the platforms' HTTP sessions close at cleanup, and the sends in
        # flight need them to finish
        await worker.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return worker
