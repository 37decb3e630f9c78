"""A reply the platform refused within its turn (``failures.reply_undelivered``, wired by ``bot/``):
sent later by the outbox, or its person marked unreachable."""

from __future__ import annotations

from conversations.core.views import Message
from conversations.flows import failures
from conversations.ports.messenger import DeliveryError
from tests.engine.helpers import cohort, register


def test_a_throttled_reply_is_sent_later_by_the_outbox(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    user = chat.actor("U1").ref
    refused = DeliveryError("teams_http_429", retryable=True, retry_after=30)
    for _ in range(2):  # the same reply handed over twice is queued once
        chat.engine.run(lambda ctx: failures.reply_undelivered(ctx, user, None, Message.simple("Your status"), refused, "reply:k1"))  # fmt: skip
    chat.deliver()
    assert [p.text for p in chat.messenger.seen("U1")].count("Your status") == 1


def test_a_person_who_blocked_buddy_is_marked_unreachable(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    user = chat.actor("U1").ref
    blocked = DeliveryError("teams_ConversationBlockedByUser", unreachable=True)
    chat.engine.run(
        lambda ctx: failures.reply_undelivered(ctx, user, None, Message.simple("Hi"), blocked, "reply:k2")
    )
    with chat.engine.uow_factory() as uow:
        assert all(p.unreachable for p in uow.participants.for_user(user))
