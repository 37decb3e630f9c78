"""The worker: the outbox sender, and the scheduler while this process leads, in the web app's lifetime.

``buddybot serve`` (role ``all``) and ``--role worker`` call :func:`start_worker`; ``--role web``
does not, so any number of web processes can share the database with the workers. Every worker
runs a sender (they share the outbox safely); one of them, the elected leader, runs the scheduler.

Wake-ups: a unit of work committed in this process wakes the sender at once; rows queued by
another process (a web-only one) are picked up within ``idle_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiohttp import web

from bot.bootstrap import Buddy
from bot.leader import Elector, Leadership, SqliteLeadership, leadership_for
from bot.scheduler import BuddyScheduler
from bot.settings import Settings, SettingsError, environment
from conversations.delivery.sender import drain_forever, slack_pace

log = logging.getLogger(__name__)

STANDBY_POLL_SECONDS = 15.0  # a standby takes over within this (plus ~25 s to notice a vanished host)


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

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def woken() -> None:
            loop.call_soon_threadsafe(wake.set)

        self.buddy.engine.on_queued = woken
        self.tasks.append(asyncio.create_task(drain_forever(self.buddy.sender, wake, self.idle_seconds)))
        if self.buddy.directories:  # survey imports: people found by work email, a slice at a time
            self.tasks.append(asyncio.create_task(self.buddy.lookups().run_forever()))
        self.elector = Elector(self.leadership, self._elected, self._deposed, poll=self.poll)
        self.tasks.append(asyncio.create_task(self.elector.run()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        self.buddy.engine.on_queued = None

    async def _elected(self) -> None:
        self.scheduler = BuddyScheduler(self.buddy.engine, self.database_url)
        self.scheduler.start()

    async def _deposed(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None


WORKER = web.AppKey("buddy_worker", Worker)


def start_worker(app: web.Application, buddy: Buddy, settings: Settings) -> Worker:
    """Run the sender and the elected scheduler with ``app``.

    On SQLite the scheduler lock is taken here, before the server starts, and
    :class:`~bot.leader.LeadershipRefused` (with the reason) is raised if another scheduler holds it.
    ``BUDDY_SLACK_WORKSPACE_RATE`` (messages per second, default 5) sets the Slack workspace-wide pace.
    """
    leadership = leadership_for(settings.database_url)
    if isinstance(leadership, SqliteLeadership) and not leadership.try_acquire():
        raise leadership.refusal()
    rate = environment().get("BUDDY_SLACK_WORKSPACE_RATE", "")
    if rate:
        try:
            buddy.sender.pacer.pacing["slack"] = slack_pace(float(rate))
        except ValueError as error:
            raise SettingsError(f"BUDDY_SLACK_WORKSPACE_RATE must be a number, not {rate!r}") from error
    worker = Worker(buddy, settings.database_url, leadership)
    app[WORKER] = worker

    async def on_startup(_app: web.Application) -> None:
        await worker.start()

    async def on_cleanup(_app: web.Application) -> None:
        await worker.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return worker
