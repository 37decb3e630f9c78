"""The outbox and the sender: queued once, delivered once, failures told to the coordinator."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from conversations.core.model import OutboxItem
from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from conversations.ports.messenger import DeliveryError
from tests.engine.helpers import ADMIN, matched_pair


def outbox(chat, status):
    with chat.engine.uow_factory() as uow:
        return uow.outbox.by_status(status)


def test_the_same_key_is_queued_once(chat, clock):
    def work(ctx):
        first = queue(ctx.uow, "k1", to_user(UserRef("memory", "T1", "U1")), Message.simple("hi"), ctx.now)
        second = queue(
            ctx.uow, "k1", to_user(UserRef("memory", "T1", "U1")), Message.simple("again"), ctx.now
        )
        return first, second

    assert chat.engine.run(work) == (True, False)
    chat.deliver()
    assert chat.messenger.transcript("U1") == ["hi"]


def test_an_unreachable_person_is_marked_and_the_coordinator_told(chat):
    chat.messenger.fail["U2"] = DeliveryError("cannot_dm_bot", unreachable=True)
    matched_pair(chat)
    assert [i.key for i in outbox(chat, "failed")] == ["intro:1"]
    with chat.engine.uow_factory() as uow:
        assert {p.user_id: p.unreachable for p in uow.participants.in_cohort(1)} == {"U1": False, "U2": True}
    told = [t for t in chat.log[ADMIN] if "couldn't deliver" in t]
    assert told and "Ben Okafor" in told[0] and "cannot_dm_bot" in told[0] and "blocked me" in told[0]
    assert chat.messenger.transcript("U1") == []  # no half-delivered introduction


def test_a_retryable_failure_waits_then_delivers(chat, clock):
    chat.messenger.fail["U2"] = DeliveryError("ratelimited", retryable=True, retry_after=30)
    matched_pair(chat)
    [item] = outbox(chat, "pending")
    assert item.not_before == clock.now() + timedelta(seconds=30)
    del chat.messenger.fail["U2"]
    chat.deliver()
    assert [i.key for i in outbox(chat, "pending")] == ["intro:1"]  # not yet due
    clock.advance(seconds=30)
    chat.deliver()
    assert [i.key for i in outbox(chat, "sent")] == ["intro:1"]
    assert sum("Meet your buddy" in t for t in chat.messenger.transcript("U2")) == 1


def test_an_unknown_outcome_is_checked_before_any_resend(chat, clock):
    """A crash between post and 'sent' leaves the row 'sending'; recovery finds the tagged post."""
    matched_pair(chat)
    chat.engine.run(lambda ctx: queue(ctx.uow, "k-landed", to_user(UserRef("memory", "T1", "U1")),
                                      Message.simple("landed"), ctx.now))  # fmt: skip
    chat.engine.run(lambda ctx: queue(ctx.uow, "k-lost", to_user(UserRef("memory", "T1", "U1")),
                                      Message.simple("lost"), ctx.now))  # fmt: skip

    async def crash_after_post() -> None:
        with chat.engine.uow_factory() as uow:
            items = uow.outbox.claim(clock.now(), 10)
            uow.commit()
        landed = next(i for i in items if i.key == "k-landed")
        conversation = await chat.messenger.open_dm(UserRef("memory", "T1", "U1"))
        await chat.messenger.post(conversation, Message.simple("landed"), tag=landed.key)
        # ... and the process dies here, before marking either row

    asyncio.run(crash_after_post())
    assert {i.key for i in outbox(chat, "sending")} == {"k-landed", "k-lost"}
    assert asyncio.run(chat.sender.recover()) == 2
    chat.deliver()
    assert chat.messenger.transcript("U1").count("landed") == 1
    assert chat.messenger.transcript("U1").count("lost") == 1
    assert {i.key for i in outbox(chat, "sent")} >= {"k-landed", "k-lost"}


def test_a_messenger_that_does_not_know_the_platform_fails_clearly(chat):
    chat.engine.run(lambda ctx: queue(ctx.uow, "elsewhere", to_user(UserRef("carrier-pigeon", "T", "U")),
                                      Message.simple("coo"), ctx.now))  # fmt: skip
    report = chat.deliver()
    assert report.failed == 1 and "no messenger for platform 'carrier-pigeon'" in report.errors[0]


def test_outbox_rows_keep_the_whole_message(chat):
    matched_pair(chat)
    [intro] = outbox(chat, "sent")
    assert isinstance(intro, OutboxItem)
    assert intro.recipient == {"kind": "group", "platform": "memory", "workspace": "T1", "user_ids": ["U1", "U2"],
                               "topic": "Test Cohort buddies"}  # fmt: skip
    assert intro.message["blocks"][0] == {"type": "header", "text": "Meet your buddy"}
    assert intro.result["conversation_id"] == "G-U1-U2"


def test_when_the_platform_cannot_check_the_post_is_held_and_the_coordinator_asked(chat, clock):
    matched_pair(chat)
    chat.engine.run(lambda ctx: queue(ctx.uow, "k-maybe", to_user(UserRef("memory", "T1", "U1")),
                                      Message.simple("maybe"), ctx.now))  # fmt: skip
    with chat.engine.uow_factory() as uow:
        uow.outbox.claim(clock.now(), 10)  # a sender took it and died before marking it
        uow.commit()

    async def cannot_check(conversation, tag):
        raise DeliveryError("no history api", unknown=True)

    chat.messenger.find_tagged = cannot_check
    asyncio.run(chat.sender.recover())
    chat.deliver()
    assert [i.key for i in outbox(chat, "held")] == ["k-maybe"]
    assert "maybe" not in chat.messenger.transcript("U1")  # never resent blindly
    assert any("can't tell whether a message reached Asha Patel" in t for t in chat.log[ADMIN])


def held_post(chat, clock):
    """A post to Asha whose fate is unknown, and the coordinator's alert about it."""
    matched_pair(chat)
    chat.engine.run(lambda ctx: queue(ctx.uow, "k-maybe", to_user(UserRef("memory", "T1", "U1")),
                                      Message.simple("maybe"), ctx.now))  # fmt: skip
    with chat.engine.uow_factory() as uow:
        uow.outbox.claim(clock.now(), 10)
        uow.commit()
    real_find = chat.messenger.find_tagged

    async def cannot_check(conversation, tag):
        raise DeliveryError("no history api", unknown=True)

    chat.messenger.find_tagged = cannot_check
    asyncio.run(chat.sender.recover())
    chat.messenger.find_tagged = real_find
    chat.deliver()
    assert [i.key for i in outbox(chat, "held")] == ["k-maybe"]


def test_a_coordinator_has_a_held_post_sent_again_once(chat, clock):
    held_post(chat, clock)
    chat.press_in_last(ADMIN, "Send it again")
    assert "I'll send that message to Asha Patel again now" in chat.last_reply(ADMIN)
    assert chat.messenger.transcript("U1").count("maybe") == 1
    assert [i.key for i in outbox(chat, "sent") if i.key == "k-maybe"] == ["k-maybe"]
    chat.press_in_last(ADMIN, "Send it again")  # a second click, or a second coordinator
    assert "already settled: it has been sent" in chat.last_reply(ADMIN)
    assert chat.messenger.transcript("U1").count("maybe") == 1


def test_a_coordinator_records_that_a_held_post_arrived(chat, clock):
    held_post(chat, clock)
    chat.press_in_last(ADMIN, "It arrived")
    assert "recorded that message to Asha Patel as delivered" in chat.last_reply(ADMIN)
    assert "maybe" not in chat.messenger.transcript("U1")
    assert [i.key for i in outbox(chat, "held")] == []
    with chat.engine.uow_factory() as uow:
        entry = [a for a in uow.audit.for_cohort(1) if a.action == "outbox_settle"]
    assert [e.detail["outcome"] for e in entry] == ["arrived"]


def test_only_a_coordinator_of_its_recipients_can_settle_a_held_post(chat, clock):
    held_post(chat, clock)
    item_id = outbox(chat, "held")[0].id
    chat.press("U2", "outbox_resend", str(item_id))
    assert "Only a coordinator" in chat.last_reply("U2")
    chat.press(ADMIN, "outbox_resend", "999")
    assert "no longer in my outbox" in chat.last_reply(ADMIN)
    assert [i.key for i in outbox(chat, "held")] == ["k-maybe"]
    assert "maybe" not in chat.messenger.transcript("U1")


def test_sent_posts_are_scrubbed_after_thirty_days_in_batches(chat, clock):
    from conversations.ports.store import SCRUBBED

    matched_pair(chat)  # the introduction is sent now
    assert chat.engine.scrub_outbox() == 0
    clock.advance(days=31)
    sent = len(outbox(chat, "sent"))
    assert sent >= 1 and chat.engine.scrub_outbox(batch=1) == sent
    assert all(i.message == SCRUBBED for i in outbox(chat, "sent"))
