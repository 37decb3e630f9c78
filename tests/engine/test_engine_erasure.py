"""Forgetting a person on request: their profile, answers and queued messages go; their buddy is
told as for a departure; what stays is counted, never named."""

from __future__ import annotations

from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from conversations.flows import erasure
from conversations.flows.context import Refusal
from tests.engine.helpers import ADMIN, matched_pair

ASHA = UserRef("memory", "T1", "U1")


def everyone(chat):  # type: ignore[no-untyped-def]
    with chat.engine.uow_factory() as uow:
        return {p.id: p for p in uow.participants.in_cohort(1)}


def test_forgetting_a_person_clears_what_they_gave_and_wrote(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "Dear Ben, my rota is a mess."})
    chat.engine.run(lambda ctx: queue(ctx.uow, "later:U1", to_user(ASHA), Message.simple("Later"), ctx.now))

    report = chat.engine.run(lambda ctx: erasure.forget(ctx, ASHA))
    assert (report.cohorts, report.responses, report.cancelled) == (["Test Cohort"], 1, 1)
    asha = everyone(chat)[1]
    assert (asha.user_id, asha.display_name, asha.email, asha.employer, asha.region) == (
        "forgotten-1", "Former participant", "", "", "")  # fmt: skip
    assert asha.status == "left" and asha.unreachable and not asha.consent_data
    with chat.engine.uow_factory() as uow:
        assert [r.text for r in uow.responses.for_cohort(1)] == [erasure.REMOVED]
        [cancelled] = [i for i in uow.outbox.by_status("failed") if i.key.startswith("later:")]
        assert (
            "forgotten" in cancelled.error and cancelled.key == f"later:forgotten-{cancelled.id}"
        )  # no id in keys
        [entry] = [a for a in uow.audit.for_cohort(1) if a.action == "forget"]
        assert (
            entry.detail["participant"] == 1 and entry.detail["rows"] > 0 and "Asha" not in str(entry.detail)
        )
    chat.deliver()
    assert "Later" not in chat.messenger.transcript("U1")
    assert "your buddy has stepped away" in chat.transcript("U2")  # told as for a departure
    assert everyone(chat)[2].status == "waiting"
    chat.say("U1", "status")
    assert "not in a buddy scheme yet" in chat.last("U1")  # they may join again, as someone new


def test_forgetting_someone_unknown_changes_nothing_and_says_so(chat):
    matched_pair(chat)
    try:
        chat.engine.run(lambda ctx: erasure.forget(ctx, UserRef("memory", "T1", "U404")))
    except Refusal as refusal:
        assert "Nobody with the memory id U404 in workspace T1" in str(refusal)
    else:
        raise AssertionError("expected a refusal")
    assert {p.display_name for p in everyone(chat).values()} == {"Asha Patel", "Ben Okafor"}


def test_an_operators_erasure_tells_the_person_first_and_their_address_goes_once_sent(chat):
    from conversations.flows import retention

    matched_pair(chat)
    chat.engine.run(lambda ctx: erasure.forget(ctx, ASHA))
    chat.deliver()
    assert "Buddy has erased what it held about you" in chat.transcript("U1")
    chat.engine.run(lambda ctx: retention.apply(ctx, retention.Retention()))
    with chat.engine.uow_factory() as uow:
        rows = [i for s in ("pending", "sent", "failed") for i in uow.outbox.by_status(s)]
    assert rows and all("U1" not in str(i.recipient) for i in rows)


def test_forgetting_u1_leaves_u10_alone(chat):
    from conversations.flows.personal import mentions, scrub

    assert mentions({"user_ids": ["U1", "U2"]}, ["U1"]) and not mentions({"user_ids": ["U10"]}, ["U1"])
    assert scrub("{@U1} and {@U10}", ["U1"]) == "{@[removed]} and {@U10}"
    assert mentions("Dear Ben, the rota is a mess and nobody owns it", ["the rota is a mes"])  # an opening
    matched_pair(chat)
    chat.person("U10", "Dev Shah")
    chat.engine.run(lambda ctx: queue(ctx.uow, "later:U10", to_user(UserRef("memory", "T1", "U10")),
                                      Message.simple("For U10 only"), ctx.now))  # fmt: skip
    chat.engine.run(lambda ctx: erasure.forget(ctx, ASHA))
    chat.deliver()
    assert "For U10 only" in chat.transcript("U10")


def test_a_coordinator_who_never_registered_can_see_and_erase_their_role(chat):
    matched_pair(chat)
    chat.say(ADMIN, "coordinator add @U7")
    chat.say("U7", "mydata").expect("cannot take files", "Test Cohort")
    chat.say("U7", "forget me")
    chat.press_in_last("U7", "Erase my data").expect("Buddy has erased what it held about you")
    with chat.engine.uow_factory() as uow:
        assert all(c.user_id != "U7" for c in uow.cohorts.coordinators(1))
        assert all("U7" not in str(a.detail) for a in uow.audit.for_cohort(1))
    chat.say("U7", "mydata").expect("Buddy holds nothing about you")
