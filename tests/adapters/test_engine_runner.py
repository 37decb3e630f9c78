"""The engine runner: engine calls off the event loop, by lane, answers back to their callers."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable

import pytest

from adapters.runner import BATCH, EngineRunner, lane_threads
from conversations.core.interactions import Actor, CommandInvoked, Interaction, Outcome, Reply
from conversations.core.refs import UserRef
from conversations.core.views import Message


def say(text: str, user: str = "U1") -> CommandInvoked:
    return CommandInvoked(Actor(UserRef("slack", "T1", user), user), text)


def echo(interaction: Interaction) -> Outcome:
    assert isinstance(interaction, CommandInvoked)
    return Reply(Message.simple(f"{interaction.actor.ref.user_id}: {interaction.text.upper()}"))


class Held:
    """A handle whose call saying "first" waits until released, so the calls after it queue up."""

    def __init__(self, then: Callable[[Interaction], Outcome]) -> None:
        self.then = then
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, interaction: Interaction) -> Outcome:
        if getattr(interaction, "text", "") == "first":
            self.started.set()
            assert self.release.wait(10)
        return self.then(interaction)


def text_of(outcome: Outcome) -> str:
    assert isinstance(outcome, Reply)
    return outcome.message.text


def test_every_caller_gets_its_own_answer_and_the_loop_never_runs_the_engine():
    loop_thread: list[int] = []
    engine_threads: set[int] = set()

    def handle(interaction: Interaction) -> Outcome:
        engine_threads.add(threading.get_ident())
        return echo(interaction)

    async def main() -> list[str]:
        loop_thread.append(threading.get_ident())
        runner = EngineRunner(handle)
        outcomes = await asyncio.gather(*(runner(say(f"pause {i}", f"U{i}")) for i in range(300)))
        runner.close()
        return [text_of(o) for o in outcomes]

    answers = asyncio.run(main())
    assert answers == [f"U{i}: PAUSE {i}" for i in range(300)]
    assert loop_thread[0] not in engine_threads and len(engine_threads) == 1


def test_an_engine_failure_reaches_its_caller_and_the_lane_goes_on():
    def handle(interaction: Interaction) -> Outcome:
        if "boom" in getattr(interaction, "text", ""):
            raise ValueError("the database is on fire")
        return echo(interaction)

    async def main() -> None:
        runner = EngineRunner(handle)
        results = await asyncio.gather(runner(say("ok")), runner(say("boom")), runner(say("still ok")),
                                       return_exceptions=True)  # fmt: skip
        assert text_of(results[0]) == "U1: OK"  # type: ignore[arg-type]
        assert isinstance(results[1], ValueError) and "on fire" in str(results[1])
        assert text_of(results[2]) == "U1: STILL OK"  # type: ignore[arg-type]
        runner.close()

    asyncio.run(main())


def test_slow_coordinator_work_does_not_hold_up_members():
    release = threading.Event()

    def handle(interaction: Interaction) -> Outcome:
        if "match" in getattr(interaction, "text", ""):
            assert release.wait(10)
        return echo(interaction)

    def lane_of(interaction: Interaction) -> str:
        return "coordinator" if "match" in getattr(interaction, "text", "") else "member"

    async def main() -> None:
        runner = EngineRunner(handle, lane_of=lane_of, threads={"member": 1, "coordinator": 1})
        slow = asyncio.ensure_future(runner(say("match preview", "UADMIN")))
        quick = await asyncio.wait_for(runner(say("pause")), timeout=5)
        assert text_of(quick) == "U1: PAUSE" and not slow.done()
        release.set()
        assert text_of(await asyncio.wait_for(slow, timeout=5)) == "UADMIN: MATCH PREVIEW"
        runner.close()

    asyncio.run(main())


@pytest.mark.parametrize("threads", [1, 3])
def test_a_lane_runs_as_many_calls_at_once_as_it_has_threads(threads):
    running = 0
    most = 0
    guard = threading.Lock()

    def handle(interaction: Interaction) -> Outcome:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with guard:
            running -= 1
        return echo(interaction)

    async def main() -> None:
        runner = EngineRunner(handle, threads={"member": threads})
        await asyncio.gather(*(runner(say(str(i))) for i in range(30)))
        runner.close()

    asyncio.run(main())
    assert most == threads


def test_a_caller_that_gives_up_leaves_the_work_done_and_nothing_broken():
    started = threading.Event()
    release = threading.Event()
    done: list[str] = []

    def handle(interaction: Interaction) -> Outcome:
        started.set()
        assert release.wait(10)
        done.append(getattr(interaction, "text", ""))
        return echo(interaction)

    async def main() -> None:
        runner = EngineRunner(handle)
        call = asyncio.ensure_future(runner(say("pause")))
        await asyncio.to_thread(started.wait, 5)
        call.cancel()  # e.g. the platform hung up
        release.set()
        assert text_of(await asyncio.wait_for(runner(say("resume")), timeout=5)) == "U1: RESUME"
        runner.close()

    asyncio.run(main())
    assert done == ["pause", "resume"]


def test_closing_finishes_queued_work_and_a_later_call_starts_again():
    def handle(interaction: Interaction) -> Outcome:
        time.sleep(0.005)
        return echo(interaction)

    async def main() -> None:
        runner = EngineRunner(handle)
        calls = [asyncio.ensure_future(runner(say(f"n{i}"))) for i in range(20)]
        await asyncio.sleep(0)  # all queued
        await asyncio.to_thread(runner.close)
        assert [text_of(c.result()) for c in calls] == [f"U1: N{i}" for i in range(20)]
        assert text_of(await runner(say("again"))) == "U1: AGAIN"
        runner.close()

    asyncio.run(main())


def test_threads_per_lane_follow_the_database():
    assert lane_threads("sqlite:///buddy.db") == {"member": 1, "coordinator": 1}
    assert lane_threads("postgresql+psycopg://db/buddy")["member"] > 1


@pytest.mark.parametrize("batched", [False, True])
def test_a_call_an_ack_waits_for_goes_ahead_of_work_already_queued(batched):
    order: list[str] = []
    sizes: list[int] = []

    def then(interaction: Interaction) -> Outcome:
        order.append(getattr(interaction, "text", ""))
        return echo(interaction)

    handle = Held(then)
    started, release = handle.started, handle.release

    async def main() -> None:
        runner = EngineRunner(handle, handle_many=_many(handle, sizes) if batched else None)
        assert text_of(await runner(say("alone"))) == "U1: ALONE"
        assert sizes == []  # nothing else was waiting: it went alone
        first = asyncio.ensure_future(runner(say("first")))
        await asyncio.to_thread(started.wait, 5)
        clicks = [asyncio.ensure_future(runner(say(f"click {i}"))) for i in range(5)]
        command = asyncio.ensure_future(runner(say("command"), urgent=True))
        await asyncio.sleep(0)  # all queued behind "first"
        release.set()
        assert text_of(await asyncio.wait_for(command, timeout=5)) == "U1: COMMAND"
        await asyncio.gather(first, *clicks)
        runner.close()

    asyncio.run(main())
    assert order == ["alone", "first", "command", *(f"click {i}" for i in range(5))]
    assert sizes == ([5] if batched else [])  # the command alone and at once, then the clicks together


def test_closing_finishes_queued_urgent_calls_too():
    def handle(interaction: Interaction) -> Outcome:
        time.sleep(0.002)
        return echo(interaction)

    async def main() -> None:
        runner = EngineRunner(handle)
        calls = [asyncio.ensure_future(runner(say(f"n{i}"), urgent=i % 2 == 0)) for i in range(20)]
        await asyncio.sleep(0)
        await asyncio.to_thread(runner.close)
        assert sorted(text_of(c.result()) for c in calls) == sorted(f"U1: N{i}" for i in range(20))
        runner.close()

    asyncio.run(main())


# ---- group commit: calls waiting together go to the engine together -----------------------------


def _many(handle, sizes: list[int]):  # type: ignore[no-untyped-def]
    """What ``Engine.handle_many`` promises, over ``handle``: each call run in order where its
    caller asks, a failure returned in its place; the sizes of the batches it was given."""

    def handle_many(interactions, run_in):  # type: ignore[no-untyped-def]
        sizes.append(len(interactions))
        results: list[object] = []
        for i, interaction in enumerate(interactions):
            try:
                results.append(run_in(i, lambda x=interaction: handle(x)))
            except Exception as error:  # noqa: BLE001
                results.append(error)
        return results

    return handle_many


def test_calls_waiting_together_go_to_the_engine_together_each_in_its_callers_context():
    caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
    sizes: list[int] = []

    def then(interaction: Interaction) -> Outcome:
        if getattr(interaction, "text", "") == "boom":
            raise ValueError("on fire")
        assert caller.get() == interaction.actor.ref.user_id  # the log's request id is the caller's
        return echo(interaction)

    handle = Held(then)
    started, release = handle.started, handle.release

    async def main() -> list[object]:
        runner = EngineRunner(handle, handle_many=_many(handle, sizes))

        async def call(text: str, user: str) -> Outcome:
            caller.set(user)  # in this task's own context, as a request's id is
            return await runner(say(text, user))

        first = asyncio.ensure_future(call("first", "U0"))
        await asyncio.to_thread(started.wait, 5)
        rest = [
            asyncio.ensure_future(call("boom" if i == 3 else f"click {i}", f"U{i + 1}")) for i in range(19)
        ]
        await asyncio.sleep(0)  # all queued behind "first"
        release.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        runner.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[4], ValueError)
    assert [text_of(r) for i, r in enumerate(results) if i not in (0, 4)] == [  # type: ignore[arg-type]
        f"U{i + 1}: CLICK {i}" for i in range(19) if i != 3
    ]
    assert sizes and max(sizes) <= BATCH and sum(sizes) == 19  # the 19 waiting went in batches
    assert len(sizes) < 19
