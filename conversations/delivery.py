"""The sender: drains the outbox through the messengers, one platform each.

A row is claimed (status ``sending``) in its own transaction before the network call, and marked
``sent`` after it. A crash in between leaves it ``sending``; :meth:`Sender.recover` later asks the
messenger whether the tagged post landed, and only re-queues it if it did not, so a post whose
outcome is unknown is never blindly sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from conversations.clock import Clock
from conversations.messenger import DeliveryError, Messenger
from conversations.model import OutboxItem
from conversations.refs import ConversationRef, MessageRef, UserRef
from conversations.store import UnitOfWorkFactory
from conversations.views import Message
from conversations.views_codec import message_from_dict

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)


class Sender:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        messengers: Mapping[str, Messenger],
        clock: Clock,
        *,
        on_failure: Callable[[OutboxItem, DeliveryError], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.messengers = dict(messengers)
        self.clock = clock
        self.on_failure = on_failure  # e.g. tell the coordinator

    async def drain(self, batch: int = 50, max_rounds: int = 1000) -> DrainReport:
        """Send everything due now; returns when the outbox has nothing due."""
        report = DrainReport()
        for _ in range(max_rounds):
            with self.uow_factory() as uow:
                items = uow.outbox.claim(self.clock.now(), batch)
                uow.commit()
            if not items:
                break
            for item in items:
                await self.send_one(item, report)
        return report

    async def send_one(self, item: OutboxItem, report: DrainReport) -> None:
        assert item.id is not None
        try:
            ref = await self._deliver(item)
        except DeliveryError as error:
            self._record_failure(item.id, error, report)
            return
        with self.uow_factory() as uow:
            row = uow.outbox.get(item.id)
            assert row is not None
            row.status = "sent"
            row.sent_at = self.clock.now()
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
            uow.commit()
        report.sent += 1

    async def _deliver(self, item: OutboxItem) -> MessageRef:
        recipient = item.recipient
        messenger = self.messengers.get(recipient["platform"])
        if messenger is None:
            raise DeliveryError(f"no messenger for platform {recipient['platform']!r}")
        conversation = await resolve(messenger, recipient)
        message: Message = message_from_dict(item.message)
        return await messenger.post(conversation, message, tag=item.key)

    def _record_failure(self, item_id: int, error: DeliveryError, report: DrainReport) -> None:
        with self.uow_factory() as uow:
            row = uow.outbox.get(item_id)
            assert row is not None
            row.error = error.code
            if error.retryable and row.attempts < MAX_ATTEMPTS:
                delay = error.retry_after if error.retry_after is not None else 2**row.attempts
                row.status = "pending"
                row.not_before = self.clock.now() + timedelta(seconds=delay)
                report.retried += 1
            elif error.unknown:
                row.status = "unknown"
                report.unknown += 1
            else:
                row.status = "failed"
                report.failed += 1
                report.errors.append(f"{row.key}: {error.code}")
            uow.commit()
            failed = row if row.status == "failed" else None
        if failed is not None and self.on_failure is not None:
            self.on_failure(failed, error)

    async def recover(self) -> int:
        """Settle rows left ``sending`` or ``unknown`` by a crash: sent if the tagged post is found,
        otherwise back to pending. Run once at start-up, before :meth:`drain`."""
        settled = 0
        with self.uow_factory() as uow:
            stuck = uow.outbox.by_status("sending") + uow.outbox.by_status("unknown")
        for item in stuck:
            messenger = self.messengers.get(item.recipient["platform"])
            if messenger is None:
                continue
            found: MessageRef | None = None
            try:
                conversation = await resolve(messenger, item.recipient)
                found = await messenger.find_tagged(conversation, item.key)
            except DeliveryError as error:
                log.warning("cannot check outbox item %s: %s", item.id, error.code)
                continue
            with self.uow_factory() as uow:
                row = uow.outbox.get(item.id)
                assert row is not None
                if found is not None:
                    row.status, row.sent_at = "sent", self.clock.now()
                    row.result = {
                        "conversation_id": found.conversation.conversation_id,
                        "message_id": found.message_id,
                    }
                else:
                    row.status = "pending"
                uow.commit()
            settled += 1
        return settled


async def resolve(messenger: Messenger, recipient: dict[str, Any]) -> ConversationRef:
    platform, workspace = recipient["platform"], recipient["workspace"]
    kind = recipient["kind"]
    if kind == "user":
        return await messenger.open_dm(UserRef(platform, workspace, recipient["user_id"]))
    if kind == "group":
        users = [UserRef(platform, workspace, u) for u in recipient["user_ids"]]
        return await messenger.open_group(users, recipient.get("topic", ""))
    if kind == "conversation":
        return ConversationRef(platform, workspace, recipient["conversation_id"], recipient.get("extra", ""))
    raise DeliveryError(f"unknown recipient kind {kind!r}")


async def drain_forever(sender: Sender, wake: asyncio.Event, idle_seconds: float = 5.0) -> None:
    """Drain whenever woken (after a request queued something) or every ``idle_seconds``."""
    await sender.recover()
    while True:
        try:
            await sender.drain()
        except Exception:  # keep the loop alive; the row stays claimed and is recovered later
            log.exception("outbox drain failed")
        try:
            await asyncio.wait_for(wake.wait(), timeout=idle_seconds)
        except TimeoutError:
            pass
        wake.clear()
