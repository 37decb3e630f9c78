"""Prometheus metrics: what an operator alerts on.

One :class:`Metrics` per process, with its own registry (no global state). It is filled from the
edges of the system, so the engine and the adapters need not know about it:

- the outbox's rows by status are counted in the database at scrape time (:class:`OutboxCollector`),
  so every process reports the same, shared figures;
- sends are timed and counted by wrapping the sender's messengers (:class:`MeteredMessenger`);
- inbound requests by the web server's middleware (:mod:`bot.inbound`);
- engine calls by wrapping ``Engine.handle`` (:func:`metered_handle`);
- matching by watching match proposals being saved (:func:`watch_matching`);
- the scheduler by the worker (leader status) and APScheduler's job events (last run).

``/metrics`` is served only when ``BUDDY_METRICS=1`` (on the main port) or ``BUDDY_METRICS_PORT``
is set (on a port of its own, so it need not go through the public reverse proxy).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.logs import REQUEST, RequestScope
from conversations.core.interactions import (
    ButtonPressed,
    CommandInvoked,
    EngineHandle,
    FormSubmitted,
    HandleMany,
    Interaction,
    Outcome,
    RunIn,
)
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message
from conversations.ports.messenger import Capabilities, DeliveryError, Messenger
from conversations.ports.store import UnitOfWorkFactory

log = logging.getLogger(__name__)
T = TypeVar("T")

OUTBOX_STATUSES = ("pending", "sending", "checking", "unknown", "held", "failed")
ACK_DEADLINES = {"slack": 3.0, "teams": 15.0}  # seconds the platform waits for the HTTP answer
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sends = Counter("buddy_outbox_sends", "Posts sent from the outbox, by platform and outcome "
                             "(sent, retry, rate_limited, unknown, failed)", ["platform", "outcome"], registry=r)  # fmt: skip
        self.rate_limited = Counter("buddy_rate_limited", "HTTP 429 answers from the platform (Slack: any "
                                    "Web API call; Teams: sends handed back to the outbox)",
                                    ["platform"], registry=r)  # fmt: skip
        self.send_seconds = Histogram("buddy_outbox_send_seconds", "Time to post one outbox row",
                                      ["platform"], buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.inbound_seconds = Histogram("buddy_inbound_request_seconds", "Time to answer a Slack or Teams "
                                         "request, by kind (command, button, form, event)", ["platform", "kind"],
                                         buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.ack_missed = Counter("buddy_inbound_ack_deadline_missed", "Requests answered after the platform's "
                                  "deadline (Slack 3 s, Teams 15 s)", ["platform", "kind"], registry=r)  # fmt: skip
        self.engine_seconds = Histogram("buddy_engine_call_seconds", "Engine calls for people's interactions, "
                                        "by lane", ["lane"], buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.leader = Gauge("buddy_scheduler_leader", "1 while this process runs the scheduler", registry=r)
        self.last_run = Gauge("buddy_scheduler_last_run_timestamp_seconds", "When a scheduled job last "
                              "finished, by job (post, tick, sync, retention)", ["job"], registry=r)  # fmt: skip
        self.job_errors = Counter(
            "buddy_scheduler_job_errors", "Scheduled jobs that raised", ["job"], registry=r
        )
        self.matching_seconds = Histogram("buddy_matching_seconds", "Engine calls that planned matches "
                                          "(match preview and its steering)", buckets=LATENCY_BUCKETS[3:],
                                          registry=r)  # fmt: skip
        self.matching_people = Histogram("buddy_matching_people", "People considered by a match plan",
                                         buckets=(10, 50, 100, 500, 1000, 5000, 10000, 20000), registry=r)  # fmt: skip

    def watch_outbox(self, uow_factory: UnitOfWorkFactory) -> None:
        self.registry.register(OutboxCollector(uow_factory))


class OutboxCollector(Collector):
    """``buddy_outbox_rows{status=...}``, counted in the shared database when scraped."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self.uow_factory = uow_factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("buddy_outbox_rows", "Outbox rows by status (held: a person must "
                                   "settle them)", labels=["status"])  # fmt: skip
        up = GaugeMetricFamily("buddy_database_up", "1 when the database answered the last scrape")
        try:
            with self.uow_factory() as uow:
                counts = {status: uow.outbox.count(status) for status in OUTBOX_STATUSES}
        except Exception as error:  # noqa: BLE001 - a scrape must still answer; the reason goes to the log
            log.warning("metrics: cannot count the outbox: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        for status, count in counts.items():
            family.add_metric([status], count)
        up.add_metric([], 1)
        yield family
        yield up

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # collected lazily: never query the database at registration


class MeteredMessenger:
    """A messenger for the sender that times and counts posts; everything else passes through."""

    def __init__(self, platform: str, inner: Messenger, metrics: Metrics, *, count_429: bool = True) -> None:
        self.platform = platform
        self.count_429 = count_429  # False where the HTTP client counts them (Slack: count_slack_429s)
        self.inner = inner
        self.metrics = metrics
        self.capabilities: Capabilities = inner.capabilities

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        started = time.perf_counter()
        outcome = "sent"
        try:
            ref = await self.inner.post(conversation, message, tag=tag)
        except DeliveryError as error:
            if error.retry_after is not None:
                outcome = "rate_limited"
                if self.count_429:
                    self.metrics.rate_limited.labels(self.platform).inc()
            else:
                outcome = "unknown" if error.unknown else "retry" if error.retryable else "failed"
            raise
        except BaseException:
            outcome = "unknown"  # the sender treats an unexpected error as a post that may have landed
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.send_seconds.labels(self.platform).observe(elapsed)
            self.metrics.sends.labels(self.platform, outcome).inc()
            log.debug("outbox %s: %s in %.3f s", tag, outcome, elapsed)
        return ref

    async def open_dm(self, user: UserRef) -> ConversationRef:
        return await self.inner.open_dm(user)

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        return await self.inner.open_group(users, topic)

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        return await self.inner.find_tagged(conversation, tag)

    async def update(self, ref: MessageRef, message: Message) -> None:
        await self.inner.update(ref, message)

    async def publish_home(self, user: UserRef, home: Home) -> None:
        await self.inner.publish_home(user, home)

    def __getattr__(self, name: str) -> Any:  # anything else a messenger offers (send_file, ...)
        return getattr(self.inner, name)


def metered(
    messengers: Mapping[str, Messenger], metrics: Metrics, counted_429s: Collection[str] = ()
) -> dict[str, Messenger]:
    return {
        p: MeteredMessenger(p, m, metrics, count_429=p not in counted_429s) for p, m in messengers.items()
    }


def count_slack_429s(client: Any, metrics: Metrics) -> None:
    """Count every 429 the Slack Web API answers this process's client, including those its retry
    handler waits out (the sender then never sees them): a handler first in line that only counts."""
    from slack_sdk.http_retry.async_handler import AsyncRetryHandler

    class Count429(AsyncRetryHandler):
        def __init__(self) -> None:
            super().__init__(max_retry_count=1 << 30)

        async def _can_retry_async(
            self, *, state: Any, request: Any, response: Any = None, error: Any = None
        ) -> bool:
            if response is not None and response.status_code == 429:
                metrics.rate_limited.labels("slack").inc()
            return False

    client.retry_handlers.insert(0, Count429())


def kind_of(interaction: Interaction) -> str:
    match interaction:
        case CommandInvoked():
            return "command"
        case ButtonPressed():
            return "button"
        case FormSubmitted():
            return "form"
    return "event"


def metered_handle(
    handle: EngineHandle, lane_of: Callable[[Interaction], str], metrics: Metrics
) -> EngineHandle:
    """``Engine.handle``, timed by lane; it also tells the request (if any) what kind it was, and
    reports matching done inside the call (see :func:`watch_matching`)."""

    def timed(interaction: Interaction) -> Outcome:
        return _timed(interaction, functools.partial(handle, interaction), lane_of, metrics)

    return timed


def metered_many(
    handle_many: HandleMany, lane_of: Callable[[Interaction], str], metrics: Metrics
) -> HandleMany:
    """``Engine.handle_many``, each interaction's own work timed as :func:`metered_handle` times a
    call (a shared commit is not billed to any one of them)."""

    def timed_many(interactions: Sequence[Interaction], run_in: RunIn) -> list[object]:
        def timed_run_in(i: int, work: Callable[[], object]) -> object:
            return run_in(i, functools.partial(_timed, interactions[i], work, lane_of, metrics))

        return handle_many(interactions, timed_run_in)

    return timed_many


def _timed(
    interaction: Interaction, work: Callable[[], T], lane_of: Callable[[Interaction], str], metrics: Metrics
) -> T:
    scope = REQUEST.get()
    token = None
    if scope is None:  # not from an HTTP request (Socket Mode): a scope of its own, for the log
        scope = RequestScope()
        token = REQUEST.set(scope)
    scope.kind = kind_of(interaction)
    try:
        lane = lane_of(interaction)
    except Exception:  # noqa: BLE001 - the runner logs it; the metric just needs a label
        lane = "unknown"
    started = time.perf_counter()
    try:
        return work()
    finally:
        elapsed = time.perf_counter() - started
        metrics.engine_seconds.labels(lane).observe(elapsed)
        if scope.matching:
            metrics.matching_seconds.observe(elapsed)
            for people in scope.matching:
                metrics.matching_people.observe(people)
            scope.matching.clear()
        if token is not None:
            REQUEST.reset(token)


def watch_matching() -> None:
    """Note each match plan saved during a request (its size) on the request's scope.

    A SQLAlchemy mapper event on the proposal: no hook inside the engine is needed. Registered once
    per process; it does nothing outside a request."""
    from sqlalchemy import event

    from conversations.core.model import MatchProposal

    if event.contains(MatchProposal, "after_insert", _proposal_saved):
        return
    event.listen(MatchProposal, "after_insert", _proposal_saved)


def _proposal_saved(_mapper: Any, _connection: Any, proposal: Any) -> None:
    scope = REQUEST.get()
    if scope is None:
        return
    plan = proposal.plan or {}
    people = sum(len(g.get("members", ())) for g in plan.get("groups", ()))
    people += len(plan.get("waiting", ())) + len(plan.get("ineligible", ()))
    scope.matching.append(people)


def job_kind(job_id: str) -> str:
    """``cohort:3:post`` -> ``post``; ``buddy:sync`` -> ``sync`` (one label per kind, not per cohort)."""
    return job_id.rsplit(":", 1)[-1]
