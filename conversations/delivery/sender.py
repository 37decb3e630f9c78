"""The sender: drains the outbox through the messengers, paced to each platform's limits.

A row is claimed (status ``sending``, with this sender's token and the time) in its own
transaction before the network call, and marked ``sent`` after it. Several senders can share one
outbox: claims skip rows another sender has locked (PostgreSQL) or taken (the token, on SQLite).

A crash between the post and its ``sent`` leaves the row ``sending``. A post that failed in a way
that may have reached the platform (a reset connection, a 5xx) leaves it ``unknown``. Neither is
ever sent again blindly: :meth:`Sender.recover` takes rows whose claim has outlived its *lease*
(their sender is gone) and ``unknown`` ones, asks the messenger whether the tagged post landed
(:meth:`~conversations.ports.messenger.Messenger.find_tagged`), and marks them ``sent`` if it did and
``pending`` if it did not. A platform that cannot tell leaves the row ``held`` for a person.

Pacing: each platform has limits per conversation and per workspace, declared by its messenger
(``capabilities.pacing``, a :class:`~conversations.ports.messenger.Pace`), enforced as
sliding windows in this process and, when several workers share a database (PostgreSQL), as
slots reserved atomically in the store (:class:`~conversations.store.PaceSlots`), so that all of
them together keep to the limits. A shared slot is used within ``LATE_SLOT`` of its moment or not
at all, and the conversation is opened before it is taken, so nothing comes between the two. A
send that would wait longer than ``max_hold`` for its conversation goes back to the queue with
``not_before`` instead of holding a claimed row, so no claim lives anywhere near its lease.
``Retry-After`` pauses the conversation and the row.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conversations.core.clock import Clock
from conversations.core.model import OutboxItem
from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Message
from conversations.core.views_codec import message_from_dict
from conversations.ports.messenger import DeliveryError, Limit, Messenger, Pace
from conversations.ports.store import PaceSlots, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
UNKNOWN_CHECK_DELAY = timedelta(seconds=30)  # let a post that did land show up in history first
RECHECK_DELAY = timedelta(minutes=1)  # when the platform could not be asked just now
RESERVE_BATCH = 256  # sends whose shared slots are taken in one transaction, at most
SETTLE_SECONDS = 0.05  # a finished send is recorded within this (with the others finished by then)
# A shared slot is used within this of its moment or not at all: a worker whose event loop woke it
# later would send together with the other workers' next sends, in a burst the platform refuses.
# Each millisecond late is a millisecond of the workspace rate sent early by the next sender: at
# 200/s, 15 ms is 3 posts (30 ms left the fake Slack's 20-post bucket 13 rather than 16 full).
LATE_SLOT = 0.015


# ---- pacing ----------------------------------------------------------------------------------------


class _Gate:
    """The recent send times for one key, one window per limit."""

    def __init__(self, limits: Iterable[Limit]) -> None:
        self.windows = [(limit, deque[float](maxlen=limit.count)) for limit in limits]
        # the sustained spacing between sends: what a deferred send is told to allow per place in line
        self.interval = max((limit.seconds / limit.count for limit, _ in self.windows), default=0.0)
        self.blocked_until = 0.0
        self.promised = 0.0  # deferred sends have been told to come back no earlier than this
        self.busy = False
        self.lock = asyncio.Lock()

    def earliest(self, now: float) -> float:
        when = max(now, self.blocked_until)
        for limit, times in self.windows:
            if len(times) == limit.count:
                when = max(when, times[0] + limit.seconds)
        return when

    def record(self, at: float) -> None:
        for _, times in self.windows:
            times.append(at)

    def idle(self, now: float) -> bool:
        return not self.busy and all(not t or t[-1] + lim.seconds < now for lim, t in self.windows)


def cells(pace: Pace, platform: str, workspace: str, conversation: str) -> list[tuple[str, float, float]]:
    """The shared GCRA cells of one send: each limit as ``(key, interval, tolerance)``, a limit of
    ``count`` in ``seconds`` being one send every ``seconds / count``, with a burst of ``count`` in
    a conversation. A workspace's slots are taken evenly, with no burst: they are reserved ahead,
    so a sender that wakes late does not lower the rate, and a burst would only let several
    workers that woke late together overrun the platform."""
    out = []
    for scope, limits in ((conversation, pace.per_conversation), ("*", pace.per_workspace)):
        for limit in limits:
            interval = limit.seconds / limit.count
            burst = limit.seconds - interval if scope != "*" else 0.0
            key = f"{platform}|{workspace}|{scope}|{limit.count}/{limit.seconds:g}"
            if len(key) > 255:  # a big group's member list: the pacing key only has to be unique
                key = f"{platform}|{workspace}|#{uuid.uuid5(uuid.NAMESPACE_URL, scope).hex}|{limit.count}/{limit.seconds:g}"
            out.append((key, interval, burst))
    return out


class Pacer:
    """Per-conversation and per-workspace sliding windows, shared by one sender's sends; with
    ``shared`` slots, the same limits shared by every sender on the database as well."""

    def __init__(
        self,
        pacing: Mapping[str, Pace],
        *,
        max_hold: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        shared: PaceSlots | None = None,
        late: float = LATE_SLOT,
    ) -> None:
        self.pacing = dict(pacing)
        self.max_hold = max_hold
        self.late = late
        self.late_slots = 0  # shared slots given up because the send woke too late for them
        self.monotonic = monotonic
        self.sleep = sleep
        self.shared = shared
        self._gates: dict[tuple[str, ...], _Gate] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wanted: list[tuple[list[tuple[str, float, float]], asyncio.Future[tuple[bool, float]]]] = []
        self._reserving: asyncio.Task[None] | None = None

    async def acquire(self, platform: str, workspace: str, conversation: str) -> float:
        """Wait for a turn to send and take it (0.0), or, when the conversation is busy for longer
        than ``max_hold``, return at once with the seconds after which to try again."""
        pace = self.pacing.get(platform)
        if pace is None or not (pace.per_conversation or pace.per_workspace):
            return 0.0  # a platform with no declared limits is not paced
        self._same_loop()
        if come_back := self.busy(platform, workspace, conversation):
            return come_back
        conv = self._gate(("conversation", platform, workspace, conversation), pace.per_conversation)
        conv.busy = True
        try:
            await self._wait(conv)
            if self.shared is not None:
                taken = await self._reserve_shared(pace, platform, workspace, conversation)
                if taken is not None:
                    if taken > 0:
                        return taken  # the conversation is busy in another worker: come back later
                    conv.record(self.monotonic())
                    return 0.0
            space = self._gate(("workspace", platform, workspace), pace.per_workspace)
            async with space.lock:  # FIFO: one waiter wakes per turn, not all of them
                await self._wait(space)
                space.record(self.monotonic())
            conv.record(self.monotonic())
        finally:
            conv.busy = False
        return 0.0

    def busy(self, platform: str, workspace: str, conversation: str) -> float:
        """When the conversation is busy in this process for longer than ``max_hold``, the seconds
        after which to try again (each caller told a later turn); otherwise 0.0, and nothing taken."""
        pace = self.pacing.get(platform)
        if pace is None:
            return 0.0
        self._same_loop()
        conv = self._gate(("conversation", platform, workspace, conversation), pace.per_conversation)
        now = self.monotonic()
        if not conv.busy and conv.earliest(now) - now <= self.max_hold:
            return 0.0
        come_back = max(conv.promised, conv.earliest(now) + (conv.interval if conv.busy else 0.0))
        conv.promised = come_back + conv.interval
        return max(come_back - now, 0.001)

    async def _reserve_shared(
        self, pace: Pace, platform: str, workspace: str, conversation: str
    ) -> float | None:
        """Take a shared slot and wait for it (0.0), or the seconds to come back after when the
        slot is further off than ``max_hold``; None when the store cannot be reached (this
        process's own windows still apply). A slot this worker woke for more than ``late`` after
        its moment is given up, and the send comes back later.

        Sends that want a slot at about the same time share one reservation (the sends of a
        drain wake together): while one reservation is in flight the next ones gather, so a
        worker asks the database once per batch, not once per send."""
        assert self.shared is not None
        wanted = cells(pace, platform, workspace, conversation)
        taken: asyncio.Future[tuple[bool, float]] = asyncio.get_running_loop().create_future()
        self._wanted.append((wanted, taken))
        if self._reserving is None:
            self._reserving = asyncio.create_task(self._reserve_batches())
        try:
            ok, at = await taken
        except Exception as error:  # noqa: BLE001 - pace locally rather than stop sending
            log.warning("shared pacing unavailable (%s); pacing this worker alone", type(error).__name__)
            return None
        if not ok:
            return max(at - self.monotonic(), 0.001)
        if (wait := at - self.monotonic()) > 0:
            await self.sleep(wait)
        if self.monotonic() - at <= self.late:
            return 0.0
        # Woke too late: sent now, it would go together with the other workers' next sends. The
        # slot goes unused, and the row back to the queue until its conversation's next turn (a
        # worker waiting here for that would hold one of its sends idle).
        self.late_slots += 1
        return max((interval for _key, interval, _tolerance in wanted), default=0.001)

    async def _reserve_batches(self) -> None:
        assert self.shared is not None
        try:
            await asyncio.sleep(0)  # let the sends woken in this turn of the loop ask too
            while self._wanted:
                batch, self._wanted = self._wanted[:RESERVE_BATCH], self._wanted[RESERVE_BATCH:]
                try:
                    results = await asyncio.to_thread(self._reserve, [c for c, _ in batch])
                except Exception as error:  # noqa: BLE001 - each send hears it and paces locally
                    for _, taken in batch:
                        if not taken.done():
                            taken.set_exception(error)
                    continue
                for (_, taken), result in zip(batch, results, strict=True):
                    if not taken.done():  # done: its send was cancelled (stopping); the slot goes unused
                        taken.set_result(result)
        finally:
            self._reserving = None

    def _reserve(self, sends: list[list[tuple[str, float, float]]]) -> list[tuple[bool, float]]:
        """The store's answer as moments on this pacer's clock, read as the answer comes (in the
        reserving thread): the event loop may take a while to wake each send, and a wait counted
        from then would send late."""
        assert self.shared is not None
        answers = self.shared.reserve(sends, self.max_hold)
        now = self.monotonic()
        return [(ok, now + wait) for ok, wait in answers]

    def penalise(self, platform: str, workspace: str, conversation: str, seconds: float) -> None:
        """The platform said Retry-After: nothing more to this conversation until then."""
        pace = self.pacing.get(platform)
        if pace is not None:
            gate = self._gate(("conversation", platform, workspace, conversation), pace.per_conversation)
            gate.blocked_until = max(gate.blocked_until, self.monotonic() + seconds)

    async def penalise_shared(self, platform: str, workspace: str, conversation: str, seconds: float) -> None:
        """Retry-After told to every worker: the conversation's shared cells are blocked too."""
        pace = self.pacing.get(platform)
        if pace is None or self.shared is None:
            return
        only_conversation = Pace(per_conversation=pace.per_conversation)
        try:
            await asyncio.to_thread(
                self.shared.block, cells(only_conversation, platform, workspace, conversation), seconds
            )
        except Exception as error:  # noqa: BLE001 - this worker still holds back
            log.warning("could not share a Retry-After (%s)", type(error).__name__)

    async def _wait(self, gate: _Gate) -> None:
        while (delay := gate.earliest(self.monotonic()) - self.monotonic()) > 0:
            await self.sleep(delay)

    def _gate(self, key: tuple[str, ...], limits: Iterable[Limit]) -> _Gate:
        gate = self._gates.get(key)
        if gate is None:
            if len(self._gates) > 50_000:
                now = self.monotonic()
                self._gates = {k: g for k, g in self._gates.items() if not g.idle(now)}
            gate = self._gates[key] = _Gate(limits)
        return gate

    def _same_loop(self) -> None:
        # asyncio locks belong to one event loop: a sender reused under a new loop gets new locks
        # (and keeps what it knows about recent sends).
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._wanted, self._reserving = [], None
            for gate in self._gates.values():
                gate.lock, gate.busy = asyncio.Lock(), False


def conversation_key(recipient: Mapping[str, Any]) -> str:
    """Who a row goes to, known before any network call: the pacing key."""
    kind = recipient.get("kind")
    if kind in ("user", "invite"):
        return f"user:{recipient.get('user_id')}"
    if kind == "group":
        return "group:" + ",".join(sorted(recipient.get("user_ids", [])))
    return f"conversation:{recipient.get('conversation_id')}"


# ---- sending -----------------------------------------------------------------------------------------


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    item: OutboxItem
    ref: MessageRef | None = None
    error: DeliveryError | None = None
    defer: float = 0.0  # seconds: not sent; back to the queue


class Sender:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        messengers: Mapping[str, Messenger],
        clock: Clock,
        *,
        on_failure: Callable[[OutboxItem, DeliveryError], None] | None = None,
        pacing: Mapping[str, Pace] | None = None,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=5),
        max_hold: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        name: str = "",
        shared_pacing: PaceSlots | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.messengers = dict(messengers)
        self.clock = clock
        self.on_failure = on_failure  # e.g. tell the coordinator
        self.concurrency = max(1, concurrency)
        self.lease = lease  # a claim not renewed for this long belongs to a sender that died
        if pacing is None:  # each platform's limits, as its messenger declares them
            pacing = {name: m.capabilities.pacing for name, m in self.messengers.items()}
        self.pacer = Pacer(pacing, max_hold=max_hold,
                           monotonic=monotonic, sleep=sleep, shared=shared_pacing)  # fmt: skip
        self.owner = name or f"sender-{uuid.uuid4().hex[:16]}"  # the token on this sender's claims
        self.closing = False  # shutting down: claim nothing more, finish the sends in flight
        self._posting: set[int] = set()  # rows whose post has started: only recovery may settle them

    async def drain(self, batch: int = 50, max_rounds: int = 100_000) -> DrainReport:
        """Send everything due now, ``concurrency`` at a time; returns when nothing more is due.

        Rows are claimed and settled in handfuls (a quarter of ``concurrency``, or what finished
        in the last ``SETTLE_SECONDS``), so a busy sender makes a few transactions a second, not
        one or two per send."""
        report = DrainReport()
        running: set[asyncio.Task[_Outcome]] = set()
        finished: list[_Outcome] = []
        refill = max(1, self.concurrency // 4)  # claim in handfuls, not one query per send
        exhausted = False
        settled_at = time.monotonic()
        try:
            for _ in range(max_rounds):
                room = self.concurrency - len(running)
                if room > 0 and not self.closing and (not running or (not exhausted and room >= refill)):
                    wanted = min(room, batch)
                    # off the event loop: sends waiting for their slot go on while the database answers
                    items = await asyncio.to_thread(self._claim, wanted)
                    exhausted = len(items) < wanted
                    running |= {asyncio.create_task(self._attempt(item)) for item in items}
                if not running and not finished:
                    break
                if running:
                    done, running = await asyncio.wait(
                        running, timeout=SETTLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                    finished += [task.result() for task in done]
                if finished and (
                    not running or len(finished) >= refill or time.monotonic() - settled_at >= SETTLE_SECONDS
                ):
                    settling, finished = finished, []
                    await asyncio.to_thread(self._settle, settling, report)
                    settled_at = time.monotonic()
        finally:
            if (
                running or finished
            ):  # cancelled: keep what finished; the rest stay claimed and are recovered later
                for task in running:
                    task.cancel()
                finished += [t.result() for t in running if t.done() and not t.cancelled()]
                self._settle(finished, report)
                self._release()
        return report

    def _release(self) -> None:
        """Give back this sender's claims whose post never started (cancelled while paced), so the
        next sender takes them at once; a post that started is left to :meth:`recover`."""
        try:
            with self.uow_factory() as uow:
                released = uow.outbox.release(self.owner, keep=self._posting)
                uow.commit()
        except Exception:  # noqa: BLE001 - stopping anyway: recovery takes them after their lease
            log.warning("outbox: could not give back claimed rows; they are recovered after the lease")
            return
        if released:
            log.info("outbox: released %d claimed rows that were not sent", released)

    def next_due(self) -> datetime | None:
        with self.uow_factory() as uow:
            return uow.outbox.next_due(self.clock.now())

    def renew(self) -> int:
        """The heartbeat: this sender's claims are alive (see :func:`keep_alive`)."""
        with self.uow_factory() as uow:
            renewed = uow.outbox.renew(self.owner, self.clock.now())
            uow.commit()
        return renewed

    def _claim(self, limit: int) -> list[OutboxItem]:
        with self.uow_factory() as uow:
            items = uow.outbox.claim(self.clock.now(), limit, self.owner)
            uow.commit()
        return items

    async def _attempt(self, item: OutboxItem) -> _Outcome:
        recipient = item.recipient
        platform, workspace = recipient.get("platform", ""), recipient.get("workspace", "")
        messenger = self.messengers.get(platform)
        if messenger is None:
            return _Outcome(item, error=DeliveryError(f"no messenger for platform {platform!r}"))
        try:
            message: Message = message_from_dict(item.message)
        except Exception as error:  # noqa: BLE001 - a malformed row must not stop the queue
            return _Outcome(item, error=DeliveryError(f"unreadable message: {error}"))
        key = conversation_key(recipient)
        if wait := self.pacer.busy(platform, workspace, key):
            return _Outcome(item, defer=wait)
        try:  # before the turn to post is taken (both are idempotent), so no call comes between them
            if recipient.get("kind") == "invite" and not await invite(messenger, recipient):
                message = message_from_dict(recipient["fallback"])
            conversation = await resolve(messenger, recipient)
        except DeliveryError as error:
            return _Outcome(item, error=error)
        except Exception as error:  # noqa: BLE001 - nothing was posted yet: safe to retry
            log.exception("opening a conversation for outbox item %s failed", item.id)
            return _Outcome(item, error=DeliveryError(f"unexpected {type(error).__name__}", retryable=True))
        wait = await self.pacer.acquire(platform, workspace, key)
        if wait > 0:
            return _Outcome(item, defer=wait)
        self._posting.add(item.id)
        try:
            return _Outcome(item, ref=await messenger.post(conversation, message, tag=item.key))
        except DeliveryError as error:
            if error.retry_after:
                self.pacer.penalise(platform, workspace, key, error.retry_after)
                await self.pacer.penalise_shared(platform, workspace, key, error.retry_after)
            return _Outcome(item, error=error)
        except Exception as error:  # noqa: BLE001 - the post may have landed: check before any resend
            log.exception("posting outbox item %s failed", item.id)
            return _Outcome(item, error=DeliveryError(f"unexpected {type(error).__name__}", unknown=True))
        finally:
            self._posting.discard(item.id)

    def _settle(self, outcomes: list[_Outcome], report: DrainReport) -> None:
        """Record what happened to each send, all in one transaction."""
        if not outcomes:
            return
        failed: list[tuple[OutboxItem, DeliveryError]] = []
        now = self.clock.now()
        with self.uow_factory() as uow:
            for outcome in outcomes:
                row = uow.outbox.get(outcome.item.id)
                if row is None:
                    continue
                if outcome.ref is not None:  # sent, whoever holds the row now: never send it again
                    _mark_sent(uow, row, outcome.ref, now)
                    report.sent += 1
                    continue
                if row.status != "sending" or _claimant(row) != self.owner:
                    continue  # recovered by someone else meanwhile: theirs now
                if outcome.error is None:
                    row.status, row.attempts = "pending", max(0, row.attempts - 1)  # a deferral is no attempt
                    row.not_before = now + timedelta(seconds=outcome.defer)
                    report.deferred += 1
                    continue
                error = outcome.error
                row.error = error.code
                if error.unknown:
                    row.status, row.not_before = "unknown", now + UNKNOWN_CHECK_DELAY
                    report.unknown += 1
                elif error.retryable and row.attempts < MAX_ATTEMPTS:
                    delay = error.retry_after if error.retry_after is not None else 2**row.attempts
                    row.status, row.not_before = "pending", now + timedelta(seconds=delay)
                    report.retried += 1
                else:
                    row.status = "failed"
                    report.failed += 1
                    report.errors.append(f"{row.key}: {error.code}")
                    failed.append((row, error))
            uow.commit()
        if self.on_failure is not None:
            for row, error in failed:
                self.on_failure(row, error)

    async def recover(self, limit: int = 100) -> int:
        """Settle rows a dead sender left ``sending`` (past the lease, or claimed without an owner)
        and ``unknown`` ones that are due: ``sent`` if the messenger finds the tagged post, otherwise
        ``pending``. Safe to run at any time, from any sender: it takes rows with a claim of its own."""
        settled = 0
        while True:
            now = self.clock.now()
            with self.uow_factory() as uow:
                rows = uow.outbox.claim_stale(now, now - self.lease, limit, self.owner)
                uow.commit()
            if not rows:
                return settled
            found = await asyncio.gather(*(self._find(row) for row in rows))
            now = self.clock.now()
            held: list[tuple[OutboxItem, DeliveryError]] = []
            with self.uow_factory() as uow:
                for row, result in zip(rows, found, strict=True):
                    current = uow.outbox.get(row.id)
                    if current is None or current.status != "checking" or _claimant(current) != self.owner:
                        continue
                    if isinstance(result, MessageRef):
                        _mark_sent(uow, current, result, now)
                        settled += 1
                    elif result is None:
                        current.status, current.not_before = "pending", None
                        settled += 1
                    elif result.unknown:  # the platform cannot tell: a person must settle it
                        current.status, current.error = "held", f"outcome unknown: {result.code}"
                        held.append((current, result))
                        log.warning(
                            "outbox item %s (%s) held: cannot check delivery", current.id, current.key
                        )
                    else:
                        current.status, current.not_before = "unknown", now + RECHECK_DELAY
                        current.error = f"check failed: {result.code}"
                uow.commit()
            if self.on_failure is not None:
                for row, error in held:  # never resent blindly: the coordinator is asked to check
                    self.on_failure(row, error)
            if len(rows) < limit:
                return settled

    async def _find(self, row: OutboxItem) -> MessageRef | DeliveryError | None:
        messenger = self.messengers.get(row.recipient.get("platform", ""))
        if messenger is None:
            return DeliveryError("no messenger for platform", retryable=True)
        try:
            conversation = await resolve(messenger, row.recipient)
            return await messenger.find_tagged(conversation, row.key)
        except DeliveryError as error:
            log.warning("cannot check outbox item %s: %s", row.id, error.code)
            return error
        except Exception as error:  # noqa: BLE001 - try again later
            log.exception("checking outbox item %s failed", row.id)
            return DeliveryError(f"unexpected {type(error).__name__}", retryable=True)


def _claimant(row: OutboxItem) -> str:
    return row.claimed_by or ""


def _mark_sent(uow: UnitOfWork, row: OutboxItem, ref: MessageRef, now: datetime) -> None:
    row.status, row.sent_at, row.error, row.not_before = "sent", now, "", None
    row.result = {"conversation_id": ref.conversation.conversation_id, "message_id": ref.message_id}
    if row.match_id is not None and row.recipient.get("kind") == "group":
        match = uow.matches.get(row.match_id)
        if match is not None and not match.conversation:
            conv = ref.conversation
            match.conversation = {
                "platform": conv.platform,
                "workspace": conv.workspace,
                "conversation_id": conv.conversation_id,
                "extra": conv.extra,
            }


async def invite(messenger: Messenger, recipient: dict[str, Any]) -> bool:
    """Add the recipient to the channel named in an ``invite`` recipient; False if the platform won't."""
    if not messenger.capabilities.channel_invite:
        return False
    channel = ConversationRef(recipient["platform"], recipient["workspace"], recipient["channel_id"],
                              recipient.get("extra", ""))  # fmt: skip
    return await messenger.invite(
        channel, UserRef(recipient["platform"], recipient["workspace"], recipient["user_id"])
    )


async def resolve(messenger: Messenger, recipient: dict[str, Any]) -> ConversationRef:
    platform, workspace = recipient["platform"], recipient["workspace"]
    kind = recipient["kind"]
    if kind in ("user", "invite"):  # an invite's confirmation goes to the person's DM
        return await messenger.open_dm(UserRef(platform, workspace, recipient["user_id"]))
    if kind == "group":
        users = [UserRef(platform, workspace, u) for u in recipient["user_ids"]]
        return await messenger.open_group(users, recipient.get("topic", ""))
    if kind == "conversation":
        return ConversationRef(platform, workspace, recipient["conversation_id"], recipient.get("extra", ""))
    raise DeliveryError(f"unknown recipient kind {kind!r}")


async def drain_forever(
    sender: Sender, wake: asyncio.Event, idle_seconds: float = 5.0, recover_seconds: float = 60.0
) -> None:
    """Drain whenever woken (something was queued), when a deferred row falls due, or every
    ``idle_seconds``; recover abandoned and unknown rows at start and every ``recover_seconds``."""
    last_recovery = -float("inf")
    while not sender.closing:
        try:
            if time.monotonic() - last_recovery >= recover_seconds:
                await sender.recover()
                last_recovery = time.monotonic()
            await sender.drain()
            if sender.closing:
                return
            soonest = sender.next_due()
        except Exception:  # keep the loop alive; claimed rows are recovered after their lease
            log.exception("outbox drain failed")
            soonest = None
        delay = idle_seconds
        if soonest is not None:
            delay = min(delay, max(0.05, (soonest - sender.clock.now()).total_seconds()))
        try:
            await asyncio.wait_for(wake.wait(), timeout=delay)
        except TimeoutError:
            pass
        wake.clear()


async def keep_alive(sender: Sender, renew_seconds: float = 10.0, recover_seconds: float = 15.0) -> None:
    """Beside :func:`drain_forever` in every worker: renew this sender's claims every
    ``renew_seconds`` (so a lease of half a minute is safe however long a drain runs) and recover
    other senders' abandoned claims every ``recover_seconds``, even in the middle of a long drain:
    a dead worker's posts are checked and sent again within a minute."""
    last_recovery = time.monotonic()
    while True:
        await asyncio.sleep(min(renew_seconds, recover_seconds))
        try:
            await asyncio.to_thread(sender.renew)
            if time.monotonic() - last_recovery >= recover_seconds:
                last_recovery = time.monotonic()
                await sender.recover()
        except Exception:  # noqa: BLE001 - the database may be down for a moment
            log.exception("outbox heartbeat failed")
