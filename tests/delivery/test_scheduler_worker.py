"""start_worker: the sender and the elected scheduler run inside the web app's lifetime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from adapters.memory.messenger import MemoryMessenger
from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.worker import WORKER, start_worker
from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from tests.delivery.builders import scheme


async def test_the_worker_sends_and_schedules_then_stops(tmp_path):
    url = f"sqlite:///{tmp_path / 'buddy.db'}"
    messenger = MemoryMessenger("memory")
    buddy = bootstrap(url, {"memory": messenger})
    scheme(buddy.engine, 1, datetime.now(UTC) - timedelta(days=1))
    app = web.Application()
    worker = start_worker(app, buddy, Settings(database_url=url))
    assert app[WORKER] is worker
    runner = web.AppRunner(app)
    await runner.setup()  # on_startup: the sender and the election start
    try:
        for _ in range(200):
            if worker.scheduler is not None:
                break
            await asyncio.sleep(0.05)
        assert worker.scheduler is not None
        jobs = {job.id for job in worker.scheduler.scheduler.get_jobs()}
        assert {"buddy:sync", "cohort:1:post", "cohort:1:tick"} <= jobs
        buddy.engine.run(lambda ctx: queue(ctx.uow, "hello", to_user(UserRef("memory", "T1", "UA0")),
                                           Message.simple("hello"), ctx.now))  # fmt: skip
        for _ in range(200):  # the commit woke the sender
            if messenger.transcript("UA0"):
                break
            await asyncio.sleep(0.05)
        assert messenger.transcript("UA0") == ["hello"]
    finally:
        await runner.cleanup()
    assert worker.scheduler is None and not worker.leadership.held()
