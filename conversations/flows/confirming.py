"""``match confirm`` for a national cohort, without a long write lock.

Confirming 100,000 people in one transaction holds SQLite's single write lock for seconds (every
other write waits). Here the round goes in steps, each its own short unit of work:

1. **check** the open preview (as :func:`matchmaking.confirm` does) and remove what an earlier,
   interrupted attempt staged;
2. **stage** the groups a slice at a time, as ``staged`` matches under this attempt's token:
   invisible to every other query (not active, not past buddies), so nothing has changed yet;
3. **reveal**, in one short transaction: the cohort moves to the next round (only from the round
   the check saw), the staged groups become active and their members matched, the waiting list
   waits, the preview is confirmed. The counts must agree with the plan, or nothing changes;
4. **introduce**, a slice at a time: introductions are keyed by their group and the waiting
   messages by the round, so a slice that is run again queues nothing twice; the preview is
   marked introduced at the end.

Other writers get in between the steps: on SQLite a writer waiting for the lock tries again only
every 100 ms once it has waited a while, so transactions run back to back (a slice commits, the
next begins a moment later) can keep it out for far longer than any one of them; after each
``BUSY_BUDGET`` of transactions the confirm pauses for longer than those 100 ms (:func:`_polite`);
on PostgreSQL, where writers of different rows don't wait for each other, it never pauses.

SIGKILL at any point leaves the round wholly confirmed (revealed; any introductions not yet
queued are queued by :func:`resume`, which the scheduler and the next confirm run) or not at all
(staged groups are invisible and removed by the next attempt).

The engine's ``match confirm`` (command and button) calls, outside any unit of work::

    Reply(confirming.confirm_staged(self.run, cohort.id, actor, proposal_id))

and its scheduler calls ``confirming.resume(engine.run)`` now and then (``bot/scheduler.py`` does).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from conversations.core.markup import counted, escape
from conversations.core.model import Status
from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.flows.context import Ctx, Refusal
from conversations.flows.matchmaking import MATCHABLE, introduce, tell_waiting

T = TypeVar("T")
Run = Callable[[Callable[[Ctx], T]], T]

STAGE_SLICE = 1000  # groups staged per transaction
INTRODUCE_SLICE = 50  # groups introduced (or people told they wait) per transaction
DISCARD_SLICE = 2000
BUSY_BUDGET = 0.25  # seconds of this confirm's transactions, back to back, before a pause
PAUSE = 0.11  # longer than a waiting SQLite writer's 100 ms between tries, so it gets the lock


@dataclass(frozen=True)
class _Checked:
    proposal_id: int
    cohort_name: str
    round: int  # the round this confirm creates
    groups: list[tuple[float, list[str], list[int]]]
    waiting: list[int]
    members: int


def confirm_staged(
    run: Run[Any],
    cohort_id: int,
    actor: UserRef,
    proposal_id: int | None = None,
    *,
    stage_slice: int = STAGE_SLICE,
    introduce_slice: int = INTRODUCE_SLICE,
    step: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Message:
    """Confirm the cohort's open preview in short transactions (see the module's docstring).
    ``run`` is the engine's ``run``; ``step`` is told the name of each transaction as it commits
    (tests kill the process there); ``sleep`` makes the pauses that let other writers in."""
    done = step or (lambda _name: None)
    run = _polite(run, sleep)
    resume(run, introduce_slice, done)  # a round an earlier confirm revealed but did not finish
    checked: _Checked = run(lambda ctx: _check(ctx, cohort_id, proposal_id))
    done("check")
    while run(lambda ctx: ctx.uow.matches.discard_staged(cohort_id, DISCARD_SLICE)):
        done("discard")
    token = f"{checked.proposal_id}:{uuid.uuid4().hex[:12]}"
    for start in range(0, len(checked.groups), stage_slice):
        part = checked.groups[start : start + stage_slice]
        run(lambda ctx, part=part: ctx.uow.matches.stage(cohort_id, checked.round, token, part, ctx.now))  # type: ignore[misc]
        done("stage")
    run(lambda ctx: _reveal(ctx, cohort_id, actor, checked, token))
    done("reveal")
    _introduce(run, checked.proposal_id, introduce_slice, done)
    return Message.simple(
        f"Confirmed round {checked.round} of **{escape(checked.cohort_name)}**: {counted(len(checked.groups), 'group')} "
        f"introduced, {len(checked.waiting)} on the waiting list."
    )


def resume(
    run: Run[Any], introduce_slice: int = INTRODUCE_SLICE, step: Callable[[str], None] | None = None
) -> int:
    """Queue the introductions of every confirmed round whose confirm stopped before it had
    queued them all; how many rounds. Safe at any time, from any process."""
    run = _polite(run)
    pending: list[int] = run(lambda ctx: [p.id for p in ctx.uow.matches.unintroduced()])
    for proposal_id in pending:
        _introduce(run, proposal_id, introduce_slice, step or (lambda _name: None))
    return len(pending)


def _polite(run: Run[Any], sleep: Callable[[float], None] = time.sleep) -> Run[Any]:
    """``run``, pausing for ``PAUSE`` after each ``BUSY_BUDGET`` of transactions (see the module's
    docstring); a runner already polite is returned as it is."""
    if getattr(run, "polite", False):
        return run
    busy = [0.0]
    one_writer = [True]

    def polite(work: Callable[[Ctx], T]) -> T:
        def noting(ctx: Ctx) -> T:
            one_writer[0] = ctx.uow.one_writer  # PostgreSQL's writers don't wait for each other
            return work(ctx)

        started = time.monotonic()
        try:
            return run(noting)
        finally:
            busy[0] += time.monotonic() - started
            if busy[0] >= BUSY_BUDGET and one_writer[0]:
                sleep(PAUSE)
                busy[0] = 0.0

    polite.polite = True  # type: ignore[attr-defined]
    return polite


def _check(ctx: Ctx, cohort_id: int, proposal_id: int | None) -> _Checked:
    cohort = ctx.uow.cohorts.get(cohort_id)
    if cohort is None:
        raise Refusal("That cohort no longer exists.")
    proposal = ctx.uow.matches.open_proposal(cohort.id)
    if proposal is None:
        raise Refusal("There's no match preview to confirm: run `match preview` first.")
    if proposal_id is not None and proposal.id != proposal_id:
        raise Refusal("That preview has been replaced by a newer one: confirm the latest preview.")
    plan = proposal.plan
    ids = [m for g in plan["groups"] for m in g["members"]] + plan["waiting"]
    if ctx.uow.participants.count_with_status(ids, MATCHABLE) != len(set(ids)):  # load them only to say who
        people = {p.id: p for p in ctx.uow.participants.many(ids)}
        stale = [people[i].display_name if i in people else str(i) for i in ids
                 if i not in people or people[i].status not in MATCHABLE]  # fmt: skip
        raise Refusal(f"The preview is out of date ({escape(', '.join(stale[:5]))} changed status): "
                      "run `match preview` again.")  # fmt: skip
    groups = [(float(g["score"]), list(g["reasons"]), list(g["members"])) for g in plan["groups"]]
    return _Checked(proposal.id, cohort.name, cohort.current_round + 1, groups, list(plan["waiting"]),
                    sum(len(g[2]) for g in groups))  # fmt: skip


def _reveal(ctx: Ctx, cohort_id: int, actor: UserRef, checked: _Checked, token: str) -> None:
    """The one transaction that makes the round visible; anything unexpected changes nothing."""
    if not ctx.uow.matches.confirm_proposal(
        cohort_id, checked.proposal_id, ctx.now
    ):  # the plan is not loaded
        raise Refusal("That preview has already been confirmed or replaced: run `match preview` again.")
    if not ctx.uow.cohorts.advance_round(cohort_id, checked.round - 1):
        raise Refusal("Another round was confirmed meanwhile: run `match preview` again.")
    groups, people = ctx.uow.matches.reveal(token, MATCHABLE, Status.MATCHED)
    waiting = ctx.uow.participants.set_status(checked.waiting, Status.WAITING, MATCHABLE)
    if groups != len(checked.groups) or people != checked.members or waiting != len(checked.waiting):
        raise Refusal("The preview went out of date while it was being confirmed (someone changed status, "
                      "or another confirm ran): run `match preview` again.")  # fmt: skip
    cohort = ctx.uow.cohorts.get(cohort_id)
    ctx.audit(cohort, actor, "match_confirm", proposal=checked.proposal_id, groups=groups, waiting=waiting)


def _introduce(run: Run[Any], proposal_id: int, size: int, done: Callable[[str], None]) -> None:
    prefix = f"{proposal_id}:"
    after = 0
    while True:
        after = run(lambda ctx, after=after: _introduce_slice(ctx, prefix, after, size))  # type: ignore[misc]
        done("introduce")
        if after < 0:
            break
    cohort_id, waiting = run(lambda ctx: _waiting_of(ctx, proposal_id))
    for start in range(0, len(waiting), size):
        run(lambda ctx, start=start: _tell_waiting(ctx, cohort_id, waiting, start, size))  # type: ignore[misc]
        done("waiting")
    run(lambda ctx: _finish(ctx, proposal_id))
    done("introduced")


def _introduce_slice(ctx: Ctx, prefix: str, after: int, size: int) -> int:
    """Introduce the next ``size`` groups after id ``after``; the last id, or -1 when none were left."""
    matches = ctx.uow.matches.revealed(prefix, after, size)
    if not matches:
        return -1
    rows = ctx.uow.matches.member_rows(m.id for m in matches)
    people = {p.id: p for p in ctx.uow.participants.many({r.participant_id for r in rows})}
    by_match: dict[int, list[Any]] = {}
    for row in rows:
        by_match.setdefault(row.match_id, []).append(people[row.participant_id])
    cohort = ctx.uow.cohorts.get(matches[0].cohort_id)
    assert cohort is not None
    for match in matches:
        introduce(ctx, cohort, match, by_match.get(match.id, []))
    return matches[-1].id


def _unintroduced(ctx: Ctx, proposal_id: int) -> Any:
    return next((p for p in ctx.uow.matches.unintroduced() if p.id == proposal_id), None)


def _waiting_of(ctx: Ctx, proposal_id: int) -> tuple[int, list[int]]:
    proposal = _unintroduced(ctx, proposal_id)
    return (0, []) if proposal is None else (proposal.cohort_id, list(proposal.plan["waiting"]))


def _tell_waiting(ctx: Ctx, cohort_id: int, waiting: list[int], start: int, size: int) -> None:
    """Tell a slice of the waiting list their place (keyed by round: told once)."""
    cohort = ctx.uow.cohorts.get(cohort_id)
    if cohort is None:
        return
    people = {p.id: p for p in ctx.uow.participants.many(waiting[start : start + size])}
    for position, pid in enumerate(waiting[start : start + size], start=start + 1):
        p = people.get(pid)
        if p is not None and p.status == Status.WAITING:
            tell_waiting(ctx, cohort, p, position)


def _finish(ctx: Ctx, proposal_id: int) -> None:
    ctx.uow.matches.mark_introduced(proposal_id, ctx.now)
