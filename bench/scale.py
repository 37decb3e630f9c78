"""Scale benchmark: a coordinator's commands and the scheduled work on one big cohort.

A SQLite file with one cohort of ``--groups`` introduced pairs (built as ``bench/fanout.py`` does),
then, through the real engine:

- ``status`` and ``export`` as a coordinator types them, once every group has a task (each must
  answer well inside Slack's 3 s); ``groups``, ``status chart`` and the XLSX export (each under 1 s);
- the scheduled work as the scheduler runs it (:meth:`Engine.reconcile`, slices of 250 groups per
  transaction): the period's task, then the pair nudges four days later. What matters on SQLite is
  the longest write transaction, since every other writer waits for it; the same work done as one
  transaction (as before slicing) is timed for comparison.

    .venv/bin/python bench/scale.py [--groups 10000]
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
    parser.add_argument("--groups", type=int, default=10000)
    args = parser.parse_args()
    from conversations.schedule import cadence

    with tempfile.TemporaryDirectory() as tmp:
        sliced = build(Path(tmp) / "sliced.db", args.groups)
        sliced.admins = frozenset({f"{TEAM}:{ADMIN}"})
        durations = timed_runs(sliced)
        phases: list[tuple[str, float, float, int]] = []
        status = export = groups = quiet = chart = xlsx = 0.0
        xlsx_bytes = 0
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
                quiet = statistics.median(command_seconds(sliced, "groups quiet page=2") for _ in range(3))
                command_seconds(sliced, "status chart")  # the first chart loads matplotlib's fonts
                chart = statistics.median(command_seconds(sliced, "status chart") for _ in range(3))
                xlsx, xlsx_bytes = spreadsheet(sliced)

        whole = build(Path(tmp) / "whole.db", args.groups)
        start = time.perf_counter()
        whole.run(lambda ctx: cadence.tick(ctx, ctx.uow.cohorts.get(1)))
        one_transaction = time.perf_counter() - start

    print(f"groups {args.groups} ({2 * args.groups} people), SQLite")
    print(f"status (coordinator's figures): {status:.3f} s median of 3")
    print(f"export (CSV of everyone):       {export:.3f} s median of 3")
    print(f"groups (first page of 15):      {groups:.3f} s median of 3")
    print(f"groups quiet page=2:            {quiet:.3f} s median of 3")
    print(f"status chart (figures + PNG):   {chart:.3f} s median of 3")
    print(f"export xlsx (4 sheets, {xlsx_bytes / 1e6:.1f} MB): {xlsx:.3f} s median of 3")
    for label, total, longest, slices in phases:
        print(
            f"reconcile, {label:12}: {total:6.2f} s in {slices} transactions, longest {longest * 1000:5.0f} ms"
        )
    print(f"the task posted as one transaction (before slicing): {one_transaction:.2f} s")
    longest_ms = max(p[2] for p in phases) * 1000
    print(
        f"scale groups={args.groups} status_s={status:.3f} export_s={export:.3f} "
        f"longest_txn_ms={longest_ms:.0f} one_txn_s={one_transaction:.2f} groups_s={groups:.3f} "
        f"status_chart_s={chart:.3f} xlsx_s={xlsx:.3f}"
    )


if __name__ == "__main__":
    main()
