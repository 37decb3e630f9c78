"""Engine calls off the event loop: ``outcome = await runner(interaction)``.

The engine is synchronous (one SQLAlchemy unit of work per call), so the adapters must not call it
on the event loop. ``asyncio.to_thread`` per call costs a hand-off and a loop wake-up for every
call and, on SQLite, lets several threads fight over its single write lock (SQLite's busy handler
sleeps between tries). The runner keeps long-lived threads per *lane* instead, and hands finished
answers back to the event loop in batches: one wake-up for all the answers that are ready.

Lanes keep slow work from queueing in front of quick work: the engine says which lane an
interaction belongs in (``Engine.lane``: coordinator commands that may scan a whole cohort run in
their own lane; members' commands, clicks and forms in another). On SQLite one thread per lane
is right (one writer); on PostgreSQL give lanes more threads (:func:`lane_threads`).

Within a lane, a call whose answer an acknowledgement waits for (``urgent``: a command's reply is
the ack's body) goes before the work that follows an ack already sent (a click's answer), and its
answer goes back at once rather than with a batch.

Given ``handle_many`` (``Engine.handle_many``), a lane's thread takes up to ``BATCH`` of the calls
waiting for it at once and the engine commits them together where it can (a group commit): under
load, a queue of people's clicks pays for one session and one commit, not one each. A lone call
still goes alone, so nobody waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from conversations.core.hygiene import screen
from conversations.core.interactions import (
    EngineHandle,
    FormErrors,
    FormSubmitted,
    HandleMany,
    Interaction,
    Outcome,
    Reply,
)
from conversations.core.views import Message
from conversations.engine import COORDINATOR_LANE, MEMBER_LANE

log = logging.getLogger(__name__)

DEFAULT_LANE = MEMBER_LANE
HAND_BACK_EVERY = 16  # answers held back at most while more work is queued
BATCH = 16  # calls run in one unit of work at most (with ``handle_many``)
UNREACHABLE = "Sorry, I can't reach my records just now. Please try again in a minute."


def database_unreachable(error: BaseException) -> bool:
    """The database could not be reached (refused, timed out, connection lost): not a bug."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class Outage:
    """Logs a database outage once when it starts and once when it ends, not per request."""

    def __init__(self) -> None:
        self.down = False
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first, self.down = not self.down, True
        if first:  # the reason may name the database's address: its type only
            log.error("database unreachable (%s): people are asked to try again in a minute",
                      type(error).__name__)  # fmt: skip

    def succeeded(self) -> None:
        if self.down:
            with self._lock:
                was, self.down = self.down, False
            if was:
                log.warning("database reachable again")


OUTAGE = Outage()  # one per process: every adapter's calls report to it


def unreachable_outcome(interaction: object) -> Outcome:
    if isinstance(interaction, FormSubmitted):
        return FormErrors({"_form": UNREACHABLE})
    return Reply(Message.simple(UNREACHABLE))


@dataclass(slots=True)
class _Job:
    interaction: Interaction
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]
    context: contextvars.Context  # the caller's (its request id, for the log), as asyncio.to_thread does


_Done = tuple[_Job, Outcome | None, BaseException | None]
_WAKE: _Job = object()  # type: ignore[assignment]  # in ``jobs``: an urgent job is waiting


def lane_threads(database_url: str) -> dict[str, int]:
    """Threads per lane: one on SQLite (a single writer; more threads only wait for its lock),
    a few on PostgreSQL (each holds a pooled connection while it works)."""
    per_lane = 1 if database_url.startswith("sqlite") else 4
    return {MEMBER_LANE: per_lane, COORDINATOR_LANE: per_lane}


class EngineRunner:
    def __init__(
        self,
        handle: EngineHandle,
        *,
        lane_of: Callable[[Interaction], str] | None = None,
        threads: Mapping[str, int] | None = None,
        handle_many: HandleMany | None = None,
    ) -> None:
        self.handle = handle
        self.handle_many = handle_many
        self.lane_of = lane_of
        self.threads = dict(threads or {})
        self._lanes: dict[str, _Lane] = {}
        self._guard = threading.Lock()

    async def __call__(self, interaction: Interaction, *, urgent: bool = False) -> Outcome:
        """The engine's outcome. What a person typed is screened first (hidden characters are
        refused with a message: :mod:`conversations.core.hygiene`); an unreachable database is
        answered "try again in a minute" and logged once per outage. ``urgent``: an ack waits
        for the answer, so it goes ahead of its lane's other work."""
        screened, refused = screen(interaction)
        if refused is not None:
            return refused
        interaction = screened
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        job = _Job(interaction, loop, future, contextvars.copy_context())
        self._lane(self._lane_name(interaction)).put(job, urgent)
        try:
            outcome = await future
        except Exception as error:
            if not database_unreachable(error):
                raise
            OUTAGE.failed(error)
            return unreachable_outcome(interaction)
        OUTAGE.succeeded()
        return outcome

    def close(self, timeout: float = 10.0) -> None:
        """Finish queued work, then stop the threads (a later call starts them again)."""
        with self._guard:
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.stop(timeout)

    def _lane_name(self, interaction: Interaction) -> str:
        if self.lane_of is None:
            return DEFAULT_LANE
        try:
            return self.lane_of(interaction)
        except Exception:
            log.exception("could not choose a lane for %s", type(interaction).__name__)
            return DEFAULT_LANE

    def _lane(self, name: str) -> _Lane:
        lane = self._lanes.get(name)
        if lane is None:
            with self._guard:
                lane = self._lanes.get(name)
                if lane is None:
                    lane = self._lanes[name] = _Lane(
                        name, self.handle, max(1, self.threads.get(name, 1)), self.handle_many
                    )
        return lane


class _Lane:
    def __init__(
        self, name: str, handle: EngineHandle, threads: int, handle_many: HandleMany | None = None
    ) -> None:
        self.handle = handle
        self.handle_many = handle_many
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.urgent: deque[_Job] = deque()  # taken before ``jobs``; each has a wake-up in ``jobs``
        self.workers = [
            threading.Thread(target=self._work, name=f"engine-{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for worker in self.workers:
            worker.start()

    def put(self, job: _Job, urgent: bool = False) -> None:
        if urgent:
            self.urgent.append(job)
            self.jobs.put(_WAKE)  # a worker wakes and takes it from ``urgent``, whatever is queued
        else:
            self.jobs.put(job)

    def stop(self, timeout: float) -> None:
        for _ in self.workers:
            self.jobs.put(None)
        for worker in self.workers:
            worker.join(timeout)
        left: list[_Done] = []
        stopped = RuntimeError("the engine runner has stopped")
        while True:  # put after the stop signs: answer rather than leave anyone waiting
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and job is not _WAKE:
                left.append((job, None, stopped))
        while self.urgent:
            left.append((self.urgent.popleft(), None, stopped))
        _hand_back(left)

    def _work(self) -> None:
        done: list[_Done] = []
        while True:
            try:
                job = self.jobs.get(block=not done)  # wait only when nothing is waiting to go back
            except queue.Empty:
                _hand_back(done)
                done = []
                continue
            if job is None:
                _hand_back(done)
                return
            urgent = self._take_urgent()
            if urgent:  # an ack is waiting: its answer first, and back at once
                done.extend(self._run(urgent))
                _hand_back(done)
                done = []
            if job is _WAKE:
                continue
            batch = [job]
            stop = self._take_more(batch)
            urgent = self._take_urgent()  # arrived while the batch was gathered: at its head
            done.extend(self._run(urgent + batch))
            if urgent or len(done) >= HAND_BACK_EVERY or stop:
                _hand_back(done)
                done = []
            if stop:
                return

    def _take_urgent(self) -> list[_Job]:
        taken: list[_Job] = []
        while len(taken) < BATCH:
            try:
                taken.append(self.urgent.popleft())
            except IndexError:  # none left (or another thread of this lane took it)
                break
        return taken

    def _take_more(self, batch: list[_Job]) -> bool:
        """Add the calls already waiting to ``batch`` (up to ``BATCH``); True when a stop sign came."""
        if self.handle_many is None:
            return False
        while len(batch) < BATCH:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            if job is not _WAKE:
                batch.append(job)
        return False

    def _run(self, jobs: list[_Job]) -> list[_Done]:
        if len(jobs) == 1 or self.handle_many is None:
            return [self._run_one(job) for job in jobs]
        try:
            results = self.handle_many([job.interaction for job in jobs], _RunIn(jobs))
        except BaseException as error:  # noqa: BLE001 - every caller gets it; the thread lives on
            return [(job, None, error) for job in jobs]
        return [(job, None, r) if isinstance(r, BaseException) else (job, r, None)  # type: ignore[misc]
                for job, r in zip(jobs, results, strict=True)]  # fmt: skip

    def _run_one(self, job: _Job) -> _Done:
        try:
            return job, job.context.run(self.handle, job.interaction), None
        except BaseException as error:  # the caller gets it; the thread lives on
            return job, None, error


class _RunIn:
    """Runs the i-th call's engine work in its caller's context (its request id, for the log)."""

    __slots__ = ("jobs",)

    def __init__(self, jobs: list[_Job]) -> None:
        self.jobs = jobs

    def __call__(self, i: int, work: Callable[[], object]) -> object:
        return self.jobs[i].context.run(work)


def _hand_back(done: list[_Done]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
    for item in done:
        by_loop.setdefault(item[0].loop, []).append(item)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # that event loop has closed: nobody is waiting any more
            log.warning("%d engine answers dropped: their event loop has closed", len(items))


def _settle(items: list[_Done]) -> None:
    for job, outcome, error in items:
        if job.future.done():  # the caller gave up (e.g. the client hung up); the work still happened
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(outcome)  # type: ignore[arg-type]
