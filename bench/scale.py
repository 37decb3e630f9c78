"""Scale benchmark: a coordinator's commands and the scheduled work on one big cohort.

A SQLite file with one cohort of ``--groups`` introduced pairs (built as ``bench/fanout.py`` does),
then, through the real engine:

- with the garbage collector set as ``buddybot serve`` sets it once warmed up (``freeze_heap``),
  ``status`` and ``export`` as a coordinator types them, once every group has a task (each must
  answer well inside Slack's 3 s); ``groups`` and ``status chart``, and the XLSX export once
  everyone has written a letter (each under 1 s);
- the scheduled work as the scheduler runs it (:meth:`Engine.reconcile`, slices of 250 groups per
  transaction): the period's task, then the pair nudges four days later. What matters on SQLite is
  the longest write transaction, since every other writer waits for it; the same work done as one
  transaction (as before slicing) is timed for comparison;
- ``match confirm`` of a national round (``--people``, default 100,000 registered people and a
  previewed plan pairing them, 1% left waiting) through :func:`conversations.flows.confirming.
  confirm_staged`: groups staged in slices, the round revealed in one short transaction, then
  introductions queued in slices. Printed: the longest write transaction (goal: at most 0.5 s)
  and each step's longest, against the one-transaction confirm timed on a tenth of the people; and
  the longest another process's one-row write, tried every 10 ms throughout, took: what other
  writers wait, through consecutive transactions as well as the longest (``--groups 0`` runs
  the confirm alone).
  The plan is built directly (pairs in registration order): what a confirm costs does not
  depend on who is paired with whom, and the matcher has its own bench.

- a national survey import (``bench/survey.py``): a ``--survey-rows`` SurveyMonkey XLSX read, checked,
  its people looked up by email on the fake Slack at its enforced rate, and imported. Slack allows 50
  lookups a minute (Tier 3), so 20,000 take 400 minutes at least: the benchmark scales the fake's rate
  and the directory's pace by ``--lookup-scale`` (default 200, 10,000 a minute) and reports the time
  against that scaled floor.

    .venv/bin/python bench/scale.py [--groups 10000] [--people 100000] [--survey-rows 20000] [--lookup-scale 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fanout import TEAM, build  # noqa: E402
from machine import Moment  # noqa: E402

from bot.serve import freeze_heap  # noqa: E402

ADMIN = "UADMIN"


def timed_runs(engine: Any) -> list[float]:
    """Wrap ``engine.run`` so each unit of work's duration is recorded."""
    durations: list[float] = []
    run = engine.run

    def timed(work: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(work)
        finally:
            durations.append(time.perf_counter() - start)

    engine.run = timed
    return durations


def command_seconds(engine: Any, text: str) -> float:
    from conversations.core.interactions import Actor, CommandInvoked, Reply
    from conversations.core.refs import UserRef

    start = time.perf_counter()
    outcome = engine.handle(CommandInvoked(Actor(UserRef("slack", TEAM, ADMIN), "Admin"), text))
    elapsed = time.perf_counter() - start
    assert isinstance(outcome, Reply), outcome
    return elapsed


def confirm_cohort(database: Path, people: int) -> Any:
    """A SQLite file with one cohort of ``people`` registered people and an open preview pairing
    them (clinician with manager, 1% of clinicians over); returns the engine."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from conversations.core.clock import FakeClock
    from conversations.core.model import MatchProposal
    from conversations.engine import Engine
    from conversations.flows.bank import sync_builtin
    from storage import tables
    from storage.database import make_engine
    from storage.migrate import upgrade
    from storage.unit_of_work import SqlUnitOfWorkFactory

    db = make_engine(f"sqlite:///{database}")
    upgrade(db)
    now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    pairs = int(people / 2 * 0.99)
    clinicians = people - pairs
    with db.begin() as conn:
        conn.execute(insert(tables.cohorts).values(
            id=1, name="National", platform="slack", workspace=TEAM, region="", registration_open=False, paused=False,
            cadence_weekday=0, cadence_time="09:00", cadence_timezone="Europe/London", cadence_every_weeks=1,
            nudge_pair_days=4, nudge_individual_days=7, alert_coordinator_days=10, allow_trios=False, settings={},
            current_round=0, created_at=now))  # fmt: skip
        conn.execute(insert(tables.participants), [
            dict(id=i + 1, cohort_id=1, platform="slack", workspace=TEAM, user_id=f"U{i:07d}", display_name=f"Person {i}",
                 email="", role="clinician" if i < clinicians else "general_manager", specialist_area="",
                 profession="", grade="", specialty="", employer="", employer_type="", region="", interests=[],
                 consent_data=True, consent_share=False, status="registered", registered_at=now,
                 last_active_at=None, unreachable=False)
            for i in range(people)
        ])  # fmt: skip
    plan = {"groups": [{"members": [i + 1, clinicians + i + 1], "score": 0.8, "reasons": ["same region"]}
                       for i in range(pairs)],
            "waiting": [i + 1 for i in range(pairs, clinicians)]}  # fmt: skip
    engine = Engine(SqlUnitOfWorkFactory(db), clock=FakeClock(now), admins=frozenset({f"{TEAM}:{ADMIN}"}))
    engine.run(sync_builtin)
    engine.run(lambda ctx: ctx.uow.matches.add_proposal(
        MatchProposal(cohort_id=1, created_by=f"slack:{TEAM}:{ADMIN}", plan=plan, seed=0, created_at=now)))  # fmt: skip
    return engine


def probe_writes(database: str, stop: Any, result: Any) -> None:
    """Another writer, in its own process: a one-row write every 10 ms through SQLite's busy
    timeout, as any other process's would be; sends back the longest one took (s) and how many."""
    import sqlite3

    conn = sqlite3.connect(database, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_probe (id INTEGER PRIMARY KEY, n INTEGER)")
    conn.execute("INSERT OR IGNORE INTO bench_probe VALUES (1, 0)")
    longest, writes = 0.0, 0
    while not stop.is_set():
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE bench_probe SET n = n + 1 WHERE id = 1")
        conn.execute("COMMIT")
        longest, writes = max(longest, time.perf_counter() - start), writes + 1
        stop.wait(0.01)
    result.put((longest, writes))


def confirm_bench(tmp: Path, people: int) -> tuple[float, float, dict[str, float], float, float]:
    """Staged confirm of ``people``: (total s, longest write s, longest per step, one-transaction
    confirm of a tenth as many people s, longest another process's one-row write waited s)."""
    import multiprocessing

    from conversations.core.refs import UserRef
    from conversations.flows import confirming, matchmaking

    actor = UserRef("slack", TEAM, ADMIN)
    engine = confirm_cohort(tmp / "confirm.db", people)
    context = multiprocessing.get_context("spawn")
    stop, probed = context.Event(), context.Queue()
    probe = context.Process(target=probe_writes, args=(str(tmp / "confirm.db"), stop, probed))
    probe.start()
    time.sleep(1.0)  # started and writing
    last = [0.0]
    run = engine.run

    def timed(work: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(work)
        finally:
            last[0] = time.perf_counter() - start

    longest: dict[str, float] = {}

    def step(name: str) -> None:  # called as each transaction commits
        longest[name] = max(longest.get(name, 0.0), last[0])

    start = time.perf_counter()
    answer = confirming.confirm_staged(timed, 1, actor, step=step)
    total = time.perf_counter() - start
    stop.set()
    waited, _writes = probed.get(timeout=60)
    probe.join()
    assert "Confirmed round 1" in answer.text, answer.text
    writes = {name: seconds for name, seconds in longest.items() if name != "check"}  # the check only reads

    small = confirm_cohort(tmp / "confirm-whole.db", people // 10)
    start = time.perf_counter()
    small.run(lambda ctx: matchmaking.confirm(ctx, ctx.uow.cohorts.get(1), actor))
    whole = time.perf_counter() - start
    return total, max(writes.values()), longest, whole, waited


def answered(engine: Any, words: int = 100) -> int:
    """Everyone writes their letter (``words`` words) to their group's current task, as a bulk insert:
    the export's Answers sheet then holds one row per person."""
    from sqlalchemy import insert, select

    from storage import tables

    def write(ctx: Any) -> int:
        a, mm = tables.assignments.c, tables.match_members.c
        rows = ctx.uow.session.execute(
            select(a.id, mm.participant_id, a.posted_at).join(tables.match_members, mm.match_id == a.match_id)
        ).all()
        text = " ".join(["word"] * words)
        ctx.uow.session.execute(insert(tables.responses), [
            dict(assignment_id=aid, phase="letter", owner_id=pid, author_id=pid, text=text, submitted_at=posted)
            for aid, pid, posted in rows])  # fmt: skip
        return len(rows)

    return int(engine.run(write))


def spreadsheet(engine: Any) -> tuple[float, int]:
    """The XLSX export's workbook, built as ``export xlsx`` builds it (median of 3, and its size)."""
    from conversations.flows.reports import workbook

    times, size = [], 0
    for _ in range(3):
        start = time.perf_counter()
        size = len(engine.run(lambda ctx: workbook(ctx, ctx.uow.cohorts.get(1))))
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10000, help="0 skips the cohort figures")
    parser.add_argument("--survey-rows", type=int, default=20000, help="0 skips the survey import")
    parser.add_argument(
        "--lookup-scale",
        type=float,
        default=200.0,
        help="run the fake Slack's users.lookupByEmail rate (and Buddy's pace) this many times Tier 3",
    )
    parser.add_argument("--people", type=int, default=100_000, help="people in the confirmed round (0: skip)")
    args = parser.parse_args()
    moment = Moment()
    survey_figures = None
    if args.survey_rows:
        import survey

        survey_figures = survey.run(args.survey_rows, args.lookup_scale)
    if not args.groups:  # the survey import and the confirm alone
        line = report_survey(survey_figures, summary=False)
        if args.people:
            with tempfile.TemporaryDirectory() as tmp:
                line += report_confirm(args.people, confirm_bench(Path(tmp), args.people))
        print(f"scale groups=0{line} {moment.field()}")
        return
    from conversations.schedule import cadence

    with tempfile.TemporaryDirectory() as tmp:
        sliced = build(Path(tmp) / "sliced.db", args.groups)
        freeze_heap()  # the garbage collector set as `buddybot serve` sets it once warm, where commands run
        sliced.admins = frozenset({f"{TEAM}:{ADMIN}"})
        durations = timed_runs(sliced)
        phases: list[tuple[str, float, float, int]] = []
        status = export = groups = quiet = chart = 0.0
        for label, days in (("task posted", 0), ("pair nudges", 5)):
            sliced.clock.advance(days=days)
            durations.clear()
            start = time.perf_counter()
            report = sliced.reconcile(1)
            total = time.perf_counter() - start
            assert report is not None and not report.failed_groups
            done = report.posts.posted or report.nudges.pair
            assert done == args.groups, (label, report)
            phases.append((label, total, max(durations[1:]), len(durations) - 1))
            if label == "task posted":  # the figures now count every group's current task
                status = statistics.median(command_seconds(sliced, "status") for _ in range(3))
                export = statistics.median(command_seconds(sliced, "export") for _ in range(3))
                groups = statistics.median(command_seconds(sliced, "groups") for _ in range(3))
                command_seconds(sliced, "status chart")  # the first chart loads matplotlib's fonts
                chart = statistics.median(command_seconds(sliced, "status chart") for _ in range(3))
            else:  # four days on, nobody has written: every group is quiet, the listing's worst case
                quiet = statistics.median(command_seconds(sliced, "groups quiet page=2") for _ in range(3))
        answers = answered(sliced)  # then everyone writes their letter: the Answers sheet's worst case
        xlsx, xlsx_bytes = spreadsheet(sliced)

        whole = build(Path(tmp) / "whole.db", args.groups)
        start = time.perf_counter()
        whole.run(lambda ctx: cadence.tick(ctx, ctx.uow.cohorts.get(1)))
        one_transaction = time.perf_counter() - start
        confirm = confirm_bench(Path(tmp), args.people) if args.people else None

    print(f"groups {args.groups} ({2 * args.groups} people), SQLite")
    print(f"status (coordinator's figures): {status:.3f} s median of 3")
    print(f"export (CSV of everyone):       {export:.3f} s median of 3")
    print(f"groups (first page of 15):      {groups:.3f} s median of 3")
    print(f"groups quiet page=2 (all quiet): {quiet:.3f} s median of 3")
    print(f"status chart (figures + PNG):   {chart:.3f} s median of 3")
    print(f"export xlsx (4 sheets, {answers} answers, {xlsx_bytes / 1e6:.1f} MB): {xlsx:.3f} s median of 3")
    for label, total, longest, slices in phases:
        print(
            f"reconcile, {label:12}: {total:6.2f} s in {slices} transactions, longest {longest * 1000:5.0f} ms"
        )
    print(f"the task posted as one transaction (before slicing): {one_transaction:.2f} s")
    longest_ms = max(p[2] for p in phases) * 1000
    survey_line = report_survey(survey_figures, summary=False)
    summary = (f"scale groups={args.groups} status_s={status:.3f} export_s={export:.3f} "
               f"longest_txn_ms={longest_ms:.0f} one_txn_s={one_transaction:.2f} groups_s={groups:.3f} "
               f"status_chart_s={chart:.3f} xlsx_s={xlsx:.3f}{survey_line}")  # fmt: skip
    if confirm is not None:
        summary += report_confirm(args.people, confirm)
    print(f"{summary} {moment.field()}")


def report_confirm(people: int, figures: tuple[float, float, dict[str, float], float, float]) -> str:
    """The confirm's figures; its part of the summary line."""
    total, longest_write, steps, whole, waited = figures
    print(f"match confirm, {people} people: {total:.1f} s in all; longest transaction per step: "
          + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in steps.items()))  # fmt: skip
    print(f"match confirm: another process's one-row write, every 10 ms, took {waited * 1000:.0f} ms at most")
    print(f"match confirm as one transaction (before staging), {people // 10} people: {whole:.2f} s")
    return (f" confirm_people={people} confirm_s={total:.1f} confirm_longest_write_ms={longest_write * 1000:.0f} "
            f"confirm_other_write_ms={waited * 1000:.0f} confirm_one_txn_s_at_tenth={whole:.2f}")  # fmt: skip


def report_survey(f: Any, summary: bool = True) -> str:
    """The survey import's figures; its part of the summary line."""
    if f is None:
        return ""
    rate = 50 * f.scale
    print(f"survey import: {f.rows} rows, SurveyMonkey XLSX, SQLite; lookups on the fake Slack at {rate:.0f}/min "
          f"(Tier 3 scaled {f.scale:g}x)")  # fmt: skip
    print(f"  read the workbook:             {f.decode_s:6.2f} s")
    print(f"  check and normalise every row: {f.check_s:6.2f} s  ({f.checks} values to check)")
    print(f"  {f.lookups} email lookups:        {f.lookups_s:6.2f} s  floor {f.floor_s:.2f} s at the enforced rate "
          f"({f.lookups_s / f.floor_s:.2f}x the floor), {f.throttled} answered 429")  # fmt: skip
    print(
        f"  unscaled, at Tier 3 (50/min) the floor is {f.unscaled_floor_min:.0f} min "
        f"({f.unscaled_floor_min / 60:.1f} h); Buddy keeps that pace in the background"
    )
    print(f"  import, staged:                {f.import_s:6.2f} s in {f.import_txns} transactions, longest "
          f"{f.import_txn_s * 1000:.0f} ms ({f.found} invited, {f.not_found} not found)")  # fmt: skip
    print(f"  write transactions: rows stored {f.check_txn_s * 1000:.0f} ms, lookups recorded (longest) "
          f"{f.lookup_txn_s * 1000:.0f} ms, import (longest) {f.import_txn_s * 1000:.0f} ms")  # fmt: skip
    print(f"survey {f.rows} rows SurveyMonkey XLSX: longest write transaction {f.longest_txn_s * 1000:.0f} ms; "
          f"lookups {f.lookups_s:.1f} s vs the rate-limit floor {f.floor_s:.1f} s ({f.lookups_s / f.floor_s:.2f}x)")  # fmt: skip
    line = (f" survey_rows={f.rows} lookup_scale={f.scale:g} lookups_s={f.lookups_s:.1f} floor_s={f.floor_s:.1f} "
            f"vs_floor={f.lookups_s / f.floor_s:.2f} throttled={f.throttled} import_s={f.import_s:.2f} "
            f"survey_longest_write_txn_ms={f.longest_txn_s * 1000:.0f}")  # fmt: skip
    if summary:
        print("scale" + line)
    return line


if __name__ == "__main__":
    main()
