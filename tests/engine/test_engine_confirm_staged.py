"""``match confirm`` staged in slices: the same round as a one-transaction confirm, and a SIGKILL
at any point leaves it wholly confirmed or not at all (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from conversations.core.clock import SystemClock
from conversations.core.model import MatchProposal
from conversations.core.refs import UserRef
from conversations.engine import Engine
from conversations.flows import confirming
from storage import tables
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.engine.helpers import ADMIN
from tests.engine.test_engine_matching_round import rows, small_cohort

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 60
WAITING = 3


def test_a_staged_confirm_makes_the_same_round_as_one_transaction(chat):
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    actor = UserRef("memory", "T1", ADMIN)
    answer = confirming.confirm_staged(chat.engine.run, 1, actor, stage_slice=1, introduce_slice=1)
    assert "2 groups introduced, 1 on the waiting list" in answer.text
    people, matches, groups = rows(chat)
    assert sorted(groups) == [["U1", "U3"], ["U2", "U4"]]
    assert {p.user_id: p.status for p in people.values()} == {
        "U1": "matched", "U2": "matched", "U3": "matched", "U4": "matched", "U5": "waiting"}  # fmt: skip
    chat.deliver()
    intro = [p for p in chat.messenger.seen("U1") if "Meet your buddy" in p.text]
    assert len(intro) == 1 and "Why we matched you: psychiatry trainee" in intro[0].text
    assert "number 1 on the waiting list" in chat.transcript("U5")
    with chat.engine.uow_factory() as uow:
        assert uow.cohorts.get(1).current_round == 1
        assert [e.action for e in uow.audit.for_cohort(1)][-1] == "match_confirm"
        assert uow.matches.unintroduced() == []
    again = chat.say(ADMIN, "match confirm")  # nothing left to confirm
    assert "match preview" in again.message.text


def test_a_staged_confirm_pauses_now_and_then_so_other_writers_get_in(chat):
    """On SQLite a writer kept waiting tries again every 100 ms: transactions run back to back,
    each short, would keep it out for as long as they last together. On a slow database (each
    transaction 60 ms here) the confirm pauses for longer than that after every quarter second."""
    small_cohort(chat)
    chat.say(ADMIN, "match preview")
    timeline: list[tuple[str, float]] = []

    def slow(work):  # type: ignore[no-untyped-def]
        time.sleep(0.06)
        result = chat.engine.run(work)
        timeline.append(("transaction", 0.06))
        return result

    answer = confirming.confirm_staged(slow, 1, UserRef("memory", "T1", ADMIN), stage_slice=1, introduce_slice=1,
                                       sleep=lambda seconds: timeline.append(("pause", seconds)))  # fmt: skip
    assert "2 groups introduced" in answer.text
    pauses = [seconds for kind, seconds in timeline if kind == "pause"]
    assert len(pauses) >= 2 and min(pauses) > 0.1
    back_to_back, longest = 0.0, 0.0
    for kind, seconds in timeline:
        back_to_back = back_to_back + seconds if kind == "transaction" else 0.0
        longest = max(longest, back_to_back)
    assert longest <= confirming.BUSY_BUDGET + 0.06


def build(url: str) -> SqlUnitOfWorkFactory:
    """A cohort of PAIRS clinician-manager pairs and WAITING more clinicians, previewed."""
    db = make_engine(url)
    upgrade(db)
    now = datetime.now(UTC)
    with db.begin() as conn:
        conn.execute(insert(tables.cohorts).values(
            id=1, name="Crash", platform="memory", workspace="T1", region="", registration_open=True, paused=False,
            cadence_weekday=0, cadence_time="09:00", cadence_timezone="Europe/London", cadence_every_weeks=1,
            nudge_pair_days=4, nudge_individual_days=7, alert_coordinator_days=10, allow_trios=False, settings={},
            current_round=0, created_at=now))  # fmt: skip
        conn.execute(insert(tables.participants), [
            dict(id=i + 1, cohort_id=1, platform="memory", workspace="T1", user_id=f"U{i:04d}", display_name=f"P{i}",
                 email="", role="clinician" if i % 2 == 0 or i >= 2 * PAIRS else "general_manager",
                 specialist_area="", profession="", grade="", specialty="", employer="", employer_type="", region="",
                 interests=[], consent_data=True, consent_share=False, status="registered", registered_at=now,
                 last_active_at=None, unreachable=False)
            for i in range(2 * PAIRS + WAITING)
        ])  # fmt: skip
    uow = SqlUnitOfWorkFactory(db)
    plan = {"groups": [{"members": [2 * i + 1, 2 * i + 2], "score": 1.0, "reasons": ["same region"]}
                       for i in range(PAIRS)],
            "waiting": [2 * PAIRS + i + 1 for i in range(WAITING)]}  # fmt: skip
    with uow() as work:
        work.matches.add_proposal(MatchProposal(cohort_id=1, created_by="memory:T1:UADMIN", plan=plan, seed=0,
                                                created_at=now))  # fmt: skip
        work.commit()
    return uow


def state(uow: SqlUnitOfWorkFactory) -> dict[str, object]:
    with uow() as work:
        counts = work.participants.status_counts(1)
        intros = [o.key for s in ("pending",) for o in work.outbox.by_status(s) if o.key.startswith("intro:")]
        waits = [o.key for o in work.outbox.by_status("pending") if o.key.startswith("waiting:")]
        return {"round": work.cohorts.get(1).current_round, "active": work.matches.count_active(1),
                "matched": counts.get("matched", 0), "waiting": counts.get("waiting", 0),
                "registered": counts.get("registered", 0), "intros": len(intros), "waits": len(waits),
                "unintroduced": len(work.matches.unintroduced())}  # fmt: skip


def confirm_process(url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.engine.confirm_process", url, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)


NOTHING = {"round": 0, "active": 0, "matched": 0, "waiting": 0, "registered": 2 * PAIRS + WAITING, "intros": 0,
           "waits": 0, "unintroduced": 0}  # fmt: skip
EVERYTHING = {"round": 1, "active": PAIRS, "matched": 2 * PAIRS, "waiting": WAITING, "registered": 0,
              "intros": PAIRS, "waits": WAITING, "unintroduced": 0}  # fmt: skip


def test_an_uninterrupted_confirm_counts_its_steps(db_url):
    uow = build(db_url)
    done = confirm_process(db_url)
    assert done.returncode == 0, done.stderr.decode()
    # check, 6 stages, reveal, 6 slices of introductions and one that finds none, the waiting list, introduced
    assert done.stdout.decode().split()[0] == "steps=17"
    assert state(uow) == EVERYTHING


def test_the_confirm_pauses_for_other_writers_on_sqlite_only(db_url):
    """SQLite has one writer at a time, so a long confirm leaves gaps; PostgreSQL's writers of
    different rows don't wait for each other, so there it goes straight through."""
    from conversations.core.clock import SystemClock
    from conversations.engine import Engine

    engine = Engine(build(db_url), clock=SystemClock())
    pauses: list[float] = []

    def slow(work):  # type: ignore[no-untyped-def]
        time.sleep(0.03)
        return engine.run(work)

    confirming.confirm_staged(slow, 1, UserRef("memory", "T1", "UADMIN"), stage_slice=10, introduce_slice=10,
                              sleep=pauses.append)  # fmt: skip
    if db_url.startswith("sqlite"):
        assert len(pauses) >= 1 and min(pauses) > 0.1
    else:
        assert pauses == []


@pytest.mark.parametrize("kill", ["--kill-at-step=1", "--kill-at-step=4", "--kill-at-step=8", "--kill-at-step=9",
                                  "--kill-at-step=12", "--kill-at-step=16", "--kill-after-ms=60", "--kill-after-ms=150",
                                  "--kill-after-ms=250"])  # fmt: skip
def test_sigkill_at_any_point_leaves_the_round_wholly_confirmed_or_not_at_all(db_url, kill):
    uow = build(db_url)
    killed = confirm_process(db_url, kill)
    after_kill = state(uow)
    if killed.returncode == 0:  # the timer was too slow for this machine: nothing to test
        assert after_kill == EVERYTHING
        return
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    visible = {k: after_kill[k] for k in ("round", "active", "matched", "waiting", "registered")}
    if after_kill["round"] == 0:
        assert after_kill == NOTHING  # staged groups, if any, are invisible
    else:
        assert visible == {k: EVERYTHING[k] for k in visible}  # revealed in one transaction
        assert after_kill["intros"] <= PAIRS

    # restart: the scheduler resumes introductions; the coordinator confirms again if nothing showed
    engine = Engine(uow, clock=SystemClock())
    confirming.resume(engine.run)
    if after_kill["round"] == 0:
        confirming.confirm_staged(engine.run, 1, UserRef("memory", "T1", ADMIN), stage_slice=10)
    assert state(uow) == EVERYTHING
    with uow() as work:
        intros = [o.key for o in work.outbox.by_status("pending") if o.key.startswith("intro:")]
        assert len(intros) == len(set(intros)) == PAIRS  # each group introduced once
    with make_engine(db_url).connect() as conn:
        staged = conn.execute(tables.matches.select().where(tables.matches.c.status == "staged")).all()
        assert staged == []
