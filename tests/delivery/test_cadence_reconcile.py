"""The cadence reconciler: each period's task once, whatever the downtime; reminders once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversations.core.model import Response
from conversations.schedule import cadence
from tests.delivery.builders import COORDINATOR, scheme

MONDAY_SLOT = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 in London
CREATED = MONDAY_SLOT - timedelta(days=3)


def run(chat, fn, cohort_id):  # type: ignore[no-untyped-def]
    return chat.engine.run(lambda ctx: fn(ctx, ctx.uow.cohorts.get(cohort_id)))


def assignments(chat) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    def work(ctx):  # type: ignore[no-untyped-def]
        return {
            m.id: [a.task_key for a in ctx.uow.assignments.for_match(m.id)]
            for m in ctx.uow.matches.active_in(1)
        }

    return chat.engine.run(work)


def task_posts(chat, user_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [t for t in chat.messenger.transcript(user_id) if t.startswith("Task ")]


def test_down_for_two_hours_across_post_time_posts_once(chat, clock):
    cohort_id = scheme(chat.engine, 3, CREATED)
    clock.set(MONDAY_SLOT - timedelta(hours=1))
    assert run(chat, cadence.post_due, cohort_id).posted == 0  # last week's slot predates the groups
    clock.set(MONDAY_SLOT + timedelta(hours=2))  # the bot was down at 09:00
    report = run(chat, cadence.post_due, cohort_id)
    assert (report.period, report.posted) == ("2026-09-07", 3)
    assert run(chat, cadence.post_due, cohort_id).posted == 0
    chat.deliver()
    for i in range(3):
        assert len(task_posts(chat, f"UA{i}")) == 1 and len(task_posts(chat, f"UB{i}")) == 1


def test_down_for_two_weeks_makes_one_catch_up_post(chat, clock):
    cohort_id = scheme(chat.engine, 2, CREATED)
    clock.set(MONDAY_SLOT)
    assert run(chat, cadence.post_due, cohort_id).posted == 2
    clock.set(MONDAY_SLOT + timedelta(days=17))  # Thursday 24 Sep: missed 14 and 21 Sep
    report = run(chat, cadence.post_due, cohort_id)
    assert (report.period, report.posted) == ("2026-09-21", 2)
    assert run(chat, cadence.post_due, cohort_id).posted == 0
    assert all(len(keys) == 2 and len(set(keys)) == 2 for keys in assignments(chat).values())
    chat.deliver()
    assert len(task_posts(chat, "UA0")) == 2


def test_a_group_formed_mid_period_starts_next_period(chat, clock):
    cohort_id = scheme(chat.engine, 1, MONDAY_SLOT + timedelta(days=2))
    clock.set(MONDAY_SLOT + timedelta(days=3))
    assert run(chat, cadence.post_due, cohort_id).posted == 0
    clock.set(MONDAY_SLOT + timedelta(days=7))
    assert run(chat, cadence.post_due, cohort_id).posted == 1


def test_a_task_sent_by_hand_this_period_counts(chat, clock):
    scheme(chat.engine, 2, CREATED)
    clock.set(MONDAY_SLOT + timedelta(minutes=5))
    chat.say(COORDINATOR, "task send")
    assert run(chat, cadence.post_due, 1).posted == 0


def test_skipped_weeks_post_nothing(chat, clock):
    scheme(chat.engine, 2, CREATED)
    clock.set(MONDAY_SLOT + timedelta(days=1))
    chat.say(COORDINATOR, "cadence skip")
    assert "Skipping the task on Mon 14 Sep" in chat.last(COORDINATOR)
    assert "next one goes out on Mon 21 Sep at 09:00" in chat.last(COORDINATOR)
    clock.set(MONDAY_SLOT + timedelta(days=7, hours=1))
    report = run(chat, cadence.post_due, 1)
    assert (report.period, report.posted, report.reason) == ("2026-09-14", 0, "skipped")
    clock.set(MONDAY_SLOT + timedelta(days=14, hours=1))
    assert run(chat, cadence.post_due, 1).posted == 2


def test_a_paused_cohort_posts_nothing_and_resuming_does_not_catch_up(chat, clock):
    scheme(chat.engine, 2, CREATED)
    clock.set(MONDAY_SLOT + timedelta(days=1))
    chat.say(COORDINATOR, "cohort pause")
    assert "Paused **North**" in chat.transcript(COORDINATOR) or "Paused North" in chat.last(COORDINATOR)
    clock.set(MONDAY_SLOT + timedelta(days=7, hours=1))
    assert run(chat, cadence.tick, 1).posts.reason == "paused"
    clock.set(MONDAY_SLOT + timedelta(days=8))
    chat.say(COORDINATOR, "cohort resume")
    assert "next task goes out on Mon 21 Sep at 09:00" in chat.last(COORDINATOR)
    assert run(chat, cadence.post_due, 1).posted == 0  # 14 Sep fell in the pause
    clock.set(MONDAY_SLOT + timedelta(days=14))
    assert run(chat, cadence.post_due, 1).posted == 2


def test_changing_the_cadence_never_posts_at_once(chat, clock):
    scheme(chat.engine, 1, CREATED)
    clock.set(MONDAY_SLOT)
    assert run(chat, cadence.post_due, 1).posted == 1
    clock.set(MONDAY_SLOT + timedelta(days=2))  # Wednesday
    chat.say(COORDINATOR, "cadence fortnightly tuesday 10:30")
    assert "every 2 weeks on Tuesday at 10:30 (Europe/London)" in chat.last(COORDINATOR)
    assert "first goes out on Tue 15 Sep at 10:30" in chat.last(COORDINATOR)
    assert run(chat, cadence.post_due, 1).posted == 0
    posted = []
    for day in range(6, 24):  # every morning and evening to 30 Sep
        for hour in (9, 20):
            clock.set(MONDAY_SLOT.replace(hour=hour) + timedelta(days=day))
            if run(chat, cadence.post_due, 1).posted:
                posted.append(clock.now().date().isoformat())
    assert posted == ["2026-09-15", "2026-09-29"]


def test_reminders_go_once_to_members_who_have_not_finished(chat, clock):
    scheme(chat.engine, 1, CREATED)
    clock.set(MONDAY_SLOT)
    run(chat, cadence.post_due, 1)
    [assignment] = chat.engine.run(lambda ctx: ctx.uow.assignments.for_match(1))
    task = chat.engine.run(lambda ctx: ctx.uow.tasks.get(assignment.task_key))

    def finish(ctx):  # type: ignore[no-untyped-def]
        ua0 = next(p for p in ctx.uow.participants.in_cohort(1) if p.user_id == "UA0")
        for phase in task.phases:
            owner = 0 if phase.mode == "joint" else ua0.id
            ctx.uow.responses.add(Response(assignment.id, phase.key, owner, ua0.id, "done", ctx.now))

    clock.set(assignment.due_at - timedelta(hours=25))
    assert run(chat, cadence.remind, 1) == 0  # too early
    clock.set(assignment.due_at - timedelta(hours=23))
    chat.engine.run(finish)
    assert run(chat, cadence.remind, 1) == 1
    assert run(chat, cadence.remind, 1) == 0
    clock.set(assignment.due_at - timedelta(hours=1))
    assert run(chat, cadence.remind, 1) == 0
    chat.deliver()
    assert [t for t in chat.messenger.transcript("UB0") if t.startswith("A reminder")]
    assert not [t for t in chat.messenger.transcript("UA0") if t.startswith("A reminder")]


def test_tick_runs_posts_reminders_and_the_sweep(chat, clock):
    scheme(chat.engine, 1, CREATED)
    clock.set(MONDAY_SLOT)
    report = run(chat, cadence.tick, 1)
    assert report.posts.posted == 1 and report.reminders == 0
    clock.set(MONDAY_SLOT + timedelta(days=4))
    assert run(chat, cadence.tick, 1).nudges.pair == 1


def test_reconcile_goes_through_a_cohort_a_slice_at_a_time_with_the_same_result(chat, clock):
    cohort_id = scheme(chat.engine, 5, CREATED)
    clock.set(MONDAY_SLOT + timedelta(minutes=5))
    transactions = count_units_of_work(chat)
    report = chat.engine.reconcile(cohort_id, slice_size=2)
    assert report is not None and report.posts.posted == 5 and report.failed_groups == []
    assert transactions() == 1 + 3  # the list of groups, then slices of 2, 2 and 1
    assert all(keys == ["problem_page"] for keys in assignments(chat).values())
    assert chat.engine.reconcile(cohort_id, slice_size=2).posts.posted == 0  # type: ignore[union-attr]
    assert chat.engine.reconcile(404) is None


def test_a_failing_group_holds_back_only_its_own_slice(chat, clock, monkeypatch, caplog):
    cohort_id = scheme(chat.engine, 5, CREATED)
    clock.set(MONDAY_SLOT + timedelta(minutes=5))
    real_post = cadence.post_task
    monkeypatch.setattr(cadence, "post_task", broken_for(3, real_post))
    report = chat.engine.reconcile(cohort_id, slice_size=2)
    assert report is not None and report.posts.posted == 3 and report.failed_groups == [3, 4]
    assert "groups 3 to 4 failed" in caplog.text
    posted = {match_id for match_id, keys in assignments(chat).items() if keys}
    assert posted == {1, 2, 5}  # group 4 shared the failed transaction, so it waits too
    monkeypatch.setattr(cadence, "post_task", real_post)
    report = chat.engine.reconcile(cohort_id, slice_size=2)  # the next tick
    assert report is not None and report.posts.posted == 2
    assert all(keys == ["problem_page"] for keys in assignments(chat).values())


def count_units_of_work(chat):  # type: ignore[no-untyped-def]
    made = [0]
    factory = chat.engine.uow_factory

    def counting():  # type: ignore[no-untyped-def]
        made[0] += 1
        return factory()

    chat.engine.uow_factory = counting
    return lambda: made[0]


def test_task_send_goes_a_slice_at_a_time_and_a_failing_group_can_be_retried(chat, clock, monkeypatch):
    from conversations import engine as engine_module
    from conversations.flows import assignments

    cohort_id = scheme(chat.engine, 5, CREATED)
    clock.set(MONDAY_SLOT + timedelta(days=1))
    monkeypatch.setattr(engine_module, "RECONCILE_SLICE", 2)
    real_post = assignments.post_task
    monkeypatch.setattr(assignments, "post_task", broken_for(3, real_post))
    transactions = count_units_of_work(chat)
    chat.say(COORDINATOR, "task send")
    assert "Posted the task to 3 groups; 2 groups failed" in chat.last(COORDINATOR)
    assert transactions() == 1 + 3 + 1  # check and list, slices of 2, 2 and 1, the audit
    assert {m for m, keys in assignments_by_match(chat).items() if keys} == {1, 2, 5}
    monkeypatch.setattr(assignments, "post_task", real_post)
    chat.say(COORDINATOR, "task send problem_page")  # the same task, to the groups that lack it
    assert "Posted the task to 2 groups." in chat.last(COORDINATOR)
    assert all(keys == ["problem_page"] for keys in assignments_by_match(chat).values())
    chat.say(COORDINATOR, "task send no_such_task")
    assert "There's no task" in chat.last(COORDINATOR)
    assert cohort_id == 1


def test_repeating_an_interrupted_task_send_finishes_it_and_posts_nobody_a_second_task(
    chat, clock, monkeypatch
):
    from conversations import engine as engine_module
    from conversations.flows import assignments

    scheme(chat.engine, 5, CREATED)
    clock.set(MONDAY_SLOT + timedelta(days=1))
    monkeypatch.setattr(engine_module, "RECONCILE_SLICE", 2)
    real_post = assignments.post_task
    monkeypatch.setattr(assignments, "post_task", broken_for(3, real_post))
    chat.say(COORDINATOR, "task send")  # interrupted: the slice with group 3 fails
    assert "2 groups failed" in chat.last(COORDINATOR)
    monkeypatch.setattr(assignments, "post_task", real_post)
    chat.say(COORDINATOR, "task send")  # the same words again, without a key
    assert "Posted the task to 2 groups." in chat.last(COORDINATOR)
    assert all(keys == ["problem_page"] for keys in assignments_by_match(chat).values())
    chat.say(COORDINATOR, "task send")  # and again: nothing more this period, and it says so
    assert "Every active group has had a task this period; use `task send KEY` to send another" in chat.last(
        COORDINATOR
    )
    assert all(keys == ["problem_page"] for keys in assignments_by_match(chat).values())


class Stopped(BaseException):
    """The process stopping mid-send (a deploy, a crash): not an error the engine catches."""


def test_the_coordinator_sees_that_a_task_send_was_interrupted_and_can_finish_it(chat, clock, monkeypatch):
    import pytest

    from conversations import engine as engine_module
    from conversations.flows import assignments

    scheme(chat.engine, 5, CREATED)
    clock.set(MONDAY_SLOT + timedelta(days=1))
    monkeypatch.setattr(engine_module, "RECONCILE_SLICE", 2)
    real_post = assignments.post_task

    def stops_at_group_3(ctx, match, task, sequence):  # type: ignore[no-untyped-def]
        if match.id == 3:
            raise Stopped()
        return real_post(ctx, match, task, sequence)

    monkeypatch.setattr(assignments, "post_task", stops_at_group_3)
    with pytest.raises(Stopped):
        chat.say(COORDINATOR, "task send")  # the reply never comes
    monkeypatch.setattr(assignments, "post_task", real_post)
    chat.say(COORDINATOR, "status")
    assert "The last `task send` was interrupted" in chat.last(COORDINATOR)
    assert "after posting the task to 2 groups" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "task send")  # the reply to the repeat reports the interrupted send too
    assert "The last `task send` was interrupted" in chat.last(COORDINATOR)
    assert "Posted the task to 3 groups." in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "task send")
    assert "interrupted" not in chat.last(COORDINATOR)
    assert "Every active group has had a task this period" in chat.last(COORDINATOR)
    chat.say(COORDINATOR, "status")
    assert "interrupted" not in chat.last(COORDINATOR)
    assert all(keys == ["problem_page"] for keys in assignments_by_match(chat).values())


def assignments_by_match(chat):  # type: ignore[no-untyped-def]
    return assignments(chat)


def broken_for(match_id: int, post_task):  # type: ignore[no-untyped-def]
    """``post_task`` that fails for one group, as a group with bad data would."""

    def post(ctx, match, task, sequence):  # type: ignore[no-untyped-def]
        if match.id == match_id:
            raise RuntimeError("a broken group")
        return post_task(ctx, match, task, sequence)

    return post
