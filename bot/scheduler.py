"""The scheduler: APScheduler 3, with its job store in the project's database.

Jobs are module-level functions that take ids only (they are pickled into the job store) and
reconcile what is due through the engine (:mod:`conversations.schedule.cadence`), so a run that is late,
repeated, or lost in a crash still leads to each message being queued once.

Per cohort:
- ``cohort:<id>:post``: a cron trigger at the cohort's weekday and local time, weekly; the
  reconciler decides whether this week is a posting week (fortnightly) or skipped.
- ``cohort:<id>:tick``: every few minutes: the period's task if still missing (a crashed or
  coalesced run), reminders and inactivity nudges.
And ``buddy:sync`` every minute follows cohorts created and cadences changed by any process;
``buddy:retention`` every six hours applies the retention schedule (conversations/flows/retention.py).

Misfires: APScheduler's default grace of one second drops a run missed while the process was
down. ``post`` jobs get a grace longer than a week and ``coalesce``, so however long the downtime,
the restart runs the job once for the latest missed time (at most a week old), and the reconciler
posts the current period's task once. Re-adding a job would reset its next run time and forget a
missed run, so :meth:`BuddyScheduler.sync` only replaces jobs whose trigger changed.

Jobs run one at a time (a one-thread executor): they write to the same rows, and serialising them
is simpler than retrying conflicts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from conversations.engine import Engine
from conversations.flows import confirming, programme
from conversations.flows.retention import Due, Retention
from conversations.flows.retention import apply as apply_retention
from conversations.schedule import cadence
from storage.database import normalise_url
from storage.tables import scheduler_jobs

log = logging.getLogger(__name__)

POST_GRACE = timedelta(days=8)  # longer than the weekly trigger's period: a missed post always runs
TICK_GRACE = timedelta(hours=1)
TICK_EVERY = timedelta(minutes=10)
SYNC_EVERY = timedelta(minutes=1)
SYNC_JOB = "buddy:sync"
NETWORK_JOB = "buddy:network"
RETENTION_JOB = "buddy:retention"
RETENTION_EVERY = timedelta(hours=6)

# The engine and scheduler of this process, for the jobs (which get ids only). Set by
# BuddyScheduler.start(); one scheduler per process, elected across processes (bot.leader).
_current: BuddyScheduler | None = None


def _scheduler() -> BuddyScheduler:
    if _current is None:
        raise RuntimeError("no Buddy scheduler is running in this process")
    return _current


# ---- jobs: module level, ids only ------------------------------------------------------------


def post_due(cohort_id: int) -> None:
    report = _scheduler().engine.reconcile(cohort_id, post_only=True)
    if report is not None:
        log.info("cohort %s: period %s, posted %s %s", cohort_id, report.posts.period or "-", report.posts.posted,
                 report.posts.reason)  # fmt: skip
        _log_failures(cohort_id, report)


def tick(cohort_id: int) -> None:
    report = _scheduler().engine.reconcile(cohort_id)
    ended = _scheduler().engine.run(lambda ctx: programme.cohort_tick(ctx, cohort_id))
    if ended:
        log.info("cohort %s: programme end or survey reminders, %s messages", cohort_id, ended)
    if report is not None and (report.posts.posted or report.reminders or report.nudges.details):
        log.info("cohort %s: posted %s, reminded %s, %s", cohort_id, report.posts.posted, report.reminders,
                 report.nudges)  # fmt: skip
    if report is not None:
        _log_failures(cohort_id, report)


def retention() -> None:
    """The retention schedule (conversations/flows/retention.py), a batch per transaction."""
    scheduler = _scheduler()
    total = Due()
    for _ in range(1000):
        done = scheduler.engine.run(lambda ctx: apply_retention(ctx, scheduler.retention))
        for name, value in vars(done).items():
            setattr(total, name, getattr(total, name) + value)
        if not done.total():
            break
    if total.total():
        log.info("retention: removed %s", ", ".join(total.lines()))


def network() -> None:
    """The periodic jobs (catalogue hooks): event reminders, coffee introductions and check-ins,
    survey imports left waiting a day."""
    done = _scheduler().engine.periodic()
    if any(done.values()):
        log.info("periodic jobs: %s", done)


def _log_failures(cohort_id: int, report: cadence.TickReport) -> None:
    if report.failed_groups:
        log.error("cohort %s: %d groups failed and will be retried at the next tick", cohort_id,
                  len(report.failed_groups))  # fmt: skip


def sync_jobs() -> None:
    _scheduler().sync()
    resumed = confirming.resume(_scheduler().engine.run)  # a confirm that stopped before its introductions
    if resumed:
        log.info("queued the remaining introductions of %d confirmed rounds", resumed)


# ---- the scheduler --------------------------------------------------------------------------------


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Want:
    func: Any
    trigger: BaseTrigger
    args: tuple[int, ...]
    grace: timedelta


class BuddyScheduler:
    def __init__(
        self,
        engine: Engine,
        database_url: str,
        *,
        tick_every: timedelta = TICK_EVERY,
        retention: Retention | None = None,
    ) -> None:
        self.engine = engine
        self.retention = retention or Retention()
        self.tick_every = tick_every
        store = SQLAlchemyJobStore(url=normalise_url(database_url), tablename=scheduler_jobs.name)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(TICK_GRACE.total_seconds()),
            },
            timezone=UTC,
        )

    def start(self, *, paused: bool = False) -> SyncReport:
        """Start (inside a running event loop) and bring the jobs in line with the cohorts."""
        global _current
        if _current is not None and _current is not self:
            raise RuntimeError("a Buddy scheduler is already running in this process")
        _current = self
        self.scheduler.start(paused=True)
        report = self.sync()
        if not paused:
            self.scheduler.resume()
        return report

    def shutdown(self) -> None:
        global _current
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _current is self:
            _current = None

    def sync(self) -> SyncReport:
        """Add, replace or remove jobs so there is one ``post`` and one ``tick`` per cohort."""
        cohorts = self.engine.run(lambda ctx: [(c.id, c.cadence_weekday, c.cadence_time, c.cadence_timezone)
                                               for c in ctx.uow.cohorts.all()])  # fmt: skip
        wanted: dict[str, _Want] = {
            SYNC_JOB: _Want(sync_jobs, IntervalTrigger(seconds=SYNC_EVERY.total_seconds(), timezone=UTC), (), TICK_GRACE),
            NETWORK_JOB: _Want(network, IntervalTrigger(seconds=self.tick_every.total_seconds(), timezone=UTC), (),
                               TICK_GRACE),
            RETENTION_JOB: _Want(retention, IntervalTrigger(seconds=RETENTION_EVERY.total_seconds(), timezone=UTC), (),
                                 TICK_GRACE),
        }  # fmt: skip
        for cohort_id, weekday, at, zone in cohorts:
            hour, _, minute = at.partition(":")
            cron = CronTrigger(day_of_week=weekday % 7, hour=int(hour), minute=int(minute),
                               timezone=_zone(zone))  # fmt: skip
            wanted[f"cohort:{cohort_id}:post"] = _Want(post_due, cron, (cohort_id,), POST_GRACE)
            every = IntervalTrigger(seconds=self.tick_every.total_seconds(), timezone=UTC)
            wanted[f"cohort:{cohort_id}:tick"] = _Want(tick, every, (cohort_id,), TICK_GRACE)
        report = SyncReport()
        existing = {job.id: job for job in self.scheduler.get_jobs()}
        for job_id, want in wanted.items():
            job = existing.get(job_id)
            if job is not None and job.func is want.func and tuple(job.args) == want.args \
                    and _same_trigger(job.trigger, want.trigger) \
                    and job.misfire_grace_time == int(want.grace.total_seconds()):  # fmt: skip
                continue  # untouched: keeps its next run time, and so any run it missed
            self.scheduler.add_job(want.func, want.trigger, args=want.args, id=job_id, replace_existing=True,
                                   misfire_grace_time=int(want.grace.total_seconds()), coalesce=True,
                                   max_instances=1)  # fmt: skip
            (report.replaced if job is not None else report.added).append(job_id)
        for job_id in existing.keys() - wanted.keys():
            self.scheduler.remove_job(job_id)
            report.removed.append(job_id)
        if report.added or report.replaced or report.removed:
            log.info("scheduler jobs: %s", report)
        return report


def _same_trigger(a: BaseTrigger, b: BaseTrigger) -> bool:
    if isinstance(a, CronTrigger) and isinstance(b, CronTrigger):
        return str(a) == str(b) and str(a.timezone) == str(b.timezone)
    if isinstance(a, IntervalTrigger) and isinstance(b, IntervalTrigger):
        return a.interval == b.interval
    return False


def _zone(name: str) -> ZoneInfo:
    return cadence.parse_zone(name) or ZoneInfo("Europe/London")
