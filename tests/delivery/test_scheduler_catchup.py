"""APScheduler with its job store in the database: a post missed while the bot was down runs
once on restart, whether it was down for two hours or two weeks."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent

from bot.scheduler import BuddyScheduler
from conversations.core.clock import SystemClock
from conversations.engine import Engine
from conversations.flows.bank import sync_builtin
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.builders import scheme

LONDON = ZoneInfo("Europe/London")


def buddy_engine(db_url: str) -> Engine:
    db = make_engine(db_url)
    upgrade(db)
    engine = Engine(SqlUnitOfWorkFactory(db), clock=SystemClock())
    engine.run(sync_builtin)
    return engine


def cadence_at(engine: Engine, cohort_id: int, slot: datetime) -> None:
    local = slot.astimezone(LONDON)

    def work(ctx):  # type: ignore[no-untyped-def]
        cohort = ctx.uow.cohorts.get(cohort_id)
        cohort.cadence_weekday, cohort.cadence_time = local.weekday(), f"{local:%H:%M}"

    engine.run(work)


def posted(engine: Engine) -> list[int]:
    return engine.run(
        lambda ctx: [len(ctx.uow.assignments.for_match(m.id)) for m in ctx.uow.matches.active_in(1)]
    )


@pytest.mark.parametrize(("down", "late"), [(timedelta(hours=2), timedelta(hours=2)),
                                            (timedelta(weeks=2), timedelta(days=3))])  # fmt: skip
async def test_a_post_missed_while_down_is_made_once_on_restart(db_url, down, late):
    engine = buddy_engine(db_url)
    now = datetime.now(UTC)
    slot = (now - late).replace(second=0, microsecond=0)  # the post time passed while we were down
    scheme(engine, 3, now - down - timedelta(days=1))
    cadence_at(engine, 1, slot)

    # the process that last ran: it scheduled the post for before the downtime began, then died
    before = BuddyScheduler(engine, db_url)
    before.start(paused=True)
    planned = slot  # its next run: the first post time after it went down
    while planned - timedelta(weeks=1) > now - down:
        planned -= timedelta(weeks=1)
    before.scheduler.modify_job("cohort:1:post", next_run_time=planned)
    before.shutdown()
    missed = (slot - planned) // timedelta(weeks=1) + 1
    assert missed == (1 if down < timedelta(weeks=1) else 2)

    runs: list[JobExecutionEvent] = []
    done = threading.Event()

    def listen(event: JobExecutionEvent) -> None:
        if event.job_id == "cohort:1:post":
            runs.append(event)
            done.set()

    after = BuddyScheduler(engine, db_url)
    after.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    report = after.start()
    assert "cohort:1:post" not in report.replaced  # the stored job (and its missed run) is kept
    try:
        await asyncio.to_thread(done.wait, 20)
        await asyncio.sleep(0.5)  # would a second (uncoalesced) run follow?
    finally:
        after.shutdown()
    assert [e.code for e in runs] == [EVENT_JOB_EXECUTED]
    assert posted(engine) == [1, 1, 1]


async def test_sync_follows_cadence_changes_and_new_cohorts(db_url):
    engine = buddy_engine(db_url)
    scheme(engine, 1, datetime.now(UTC) - timedelta(days=1))
    scheduler = BuddyScheduler(engine, db_url)
    first = scheduler.start(paused=True)
    try:
        assert sorted(first.added) == [
            "buddy:network",
            "buddy:retention",
            "buddy:sync",
            "cohort:1:post",
            "cohort:1:tick",
        ]
        assert scheduler.sync().added == []  # nothing changed: nothing replaced
        cadence_at(engine, 1, datetime(2026, 9, 8, 9, 30, tzinfo=UTC))  # Tuesday 10:30 in London
        scheme(engine, 1, datetime.now(UTC), name="South")
        second = scheduler.sync()
        assert second.replaced == ["cohort:1:post"] and sorted(second.added) == [
            "cohort:2:post",
            "cohort:2:tick",
        ]
        job = scheduler.scheduler.get_job("cohort:1:post")
        assert str(job.trigger) == "cron[day_of_week='1', hour='10', minute='30']"
        assert job.misfire_grace_time == 8 * 24 * 3600 and job.coalesce
        assert job.next_run_time.astimezone(LONDON).strftime("%a %H:%M") == "Tue 10:30"
    finally:
        scheduler.shutdown()
