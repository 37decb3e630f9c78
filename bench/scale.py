"""Scale benchmark: a coordinator's commands and the scheduled work on one big cohort.

A SQLite file with one cohort of ``--groups`` introduced pairs (built as ``bench/fanout.py`` does),
then, through the real engine:

- ``status`` and ``export`` as a coordinator types them, once every group has a task (each must
  answer well inside Slack's 3 s);
- the scheduled work as the scheduler runs it (:meth:`Engine.reconcile`, slices of 250 groups per
  transaction): the period's task, then the pair nudges four days later. What matters on SQLite is
  the longest write transaction, since every other writer waits for it; the same work done as one
  transaction (as before slicing) is timed for comparison;
- a national survey import (``bench/survey.py``): a ``--survey-rows`` SurveyMonkey XLSX read, checked,
  its people looked up by email on the fake Slack at its enforced rate, and imported. Slack allows 50
  lookups a minute (Tier 3), so 20,000 take 400 minutes at least: the benchmark scales the fake's rate
  and the directory's pace by ``--lookup-scale`` (default 200, 10,000 a minute) and reports the time
  against that scaled floor.

    .venv/bin/python bench/scale.py [--groups 10000] [--survey-rows 20000] [--lookup-scale 200]
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
    args = parser.parse_args()
    survey_figures = None
    if args.survey_rows:
        import survey

        survey_figures = survey.run(args.survey_rows, args.lookup_scale)
    if not args.groups:
        report_survey(survey_figures)
        return
    from conversations.schedule import cadence

    with tempfile.TemporaryDirectory() as tmp:
        sliced = build(Path(tmp) / "sliced.db", args.groups)
        sliced.admins = frozenset({f"{TEAM}:{ADMIN}"})
        durations = timed_runs(sliced)
        phases: list[tuple[str, float, float, int]] = []
        status = export = 0.0
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

        whole = build(Path(tmp) / "whole.db", args.groups)
        start = time.perf_counter()
        whole.run(lambda ctx: cadence.tick(ctx, ctx.uow.cohorts.get(1)))
        one_transaction = time.perf_counter() - start

    print(f"groups {args.groups} ({2 * args.groups} people), SQLite")
    print(f"status (coordinator's figures): {status:.3f} s median of 3")
    print(f"export (CSV of everyone):       {export:.3f} s median of 3")
    for label, total, longest, slices in phases:
        print(
            f"reconcile, {label:12}: {total:6.2f} s in {slices} transactions, longest {longest * 1000:5.0f} ms"
        )
    print(f"the task posted as one transaction (before slicing): {one_transaction:.2f} s")
    longest_ms = max(p[2] for p in phases) * 1000
    survey_line = report_survey(survey_figures, summary=False)
    print(
        f"scale groups={args.groups} status_s={status:.3f} export_s={export:.3f} "
        f"longest_txn_ms={longest_ms:.0f} one_txn_s={one_transaction:.2f}{survey_line}"
    )


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
    print(
        f"  import (one transaction):      {f.import_s:6.2f} s  ({f.found} invited, {f.not_found} not found)"
    )
    line = (f" survey_rows={f.rows} lookup_scale={f.scale:g} lookups_s={f.lookups_s:.1f} floor_s={f.floor_s:.1f} "
            f"vs_floor={f.lookups_s / f.floor_s:.2f} throttled={f.throttled} import_txn_s={f.import_s:.2f}")  # fmt: skip
    if summary:
        print("scale" + line)
    return line


if __name__ == "__main__":
    main()
