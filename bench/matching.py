"""Benchmark the matcher on cohorts of many shapes, at 10,000 and 100,000 participants.

Shapes (conversations/matching/shapes.py): the usual national mix; clinician-heavy with one dominant
employer; manager-heavy over hundreds of employers; thousands of employers; heavy ties (few distinct
values); region-clustered (clinicians in one region, managers in others); a long past-buddy history
(six past buddies a person, mostly colleagues); and one built from public NHS England figures.

For each shape and size, in its own process: wall and CPU time of `plan_matches` (median of three runs: one
run at 100,000 moved by a fifth with the machine's moment), the process's peak RSS, and the plan's total score
- against the exact optimum (`vs_exact`): scipy's linear_sum_assignment over every allowed
  clinician-manager pair (most pairs first, then score), then every allowed specialist-pair join, where
  that runs (up to 10,000 people);
- above that, against a proven upper bound (`gap_bound` = 1 - total / bound; see
  conversations/matching/bound.py) on the same two-stage optimum: the best pairs (bounded by the
  clinician-manager assignment's dual, every allowed pair priced), plus the best trios on the plan's
  pairs (the specialist-pair assignment's dual, every specialist-pair join priced). `pair_gap_bound`
  and `trio_gap_bound` are the two stages' alone. Forbidden pairs are left in the bound, which can only
  raise it.
Goals on a 2-core machine: 10,000 in at most 0.5 s, 100,000 in at most 5 s and 1.5 GB, and within 1%
of the optimum on every shape. CPU time is printed too: on a busy machine wall time is not the matcher's.
Usage: python bench/matching.py [--shapes a,b] [sizes...]
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from machine import Moment

from conversations.matching import plan_matches
from conversations.matching.bound import join_bound, matching_bound
from conversations.matching.features import CLINICIAN, GENERAL_MANAGER, SPECIALIST_MANAGER, encode
from conversations.matching.plan import plan_with
from conversations.matching.scoring import Scorer, group_scores, pair_scores
from conversations.matching.shapes import SHAPES, shaped_cohort

EXACT_UP_TO = 10_000
SEED = 2026
BOUND_ROUNDS = 12  # pricing rounds at most; it stops early once the bound is met (bound.CLOSE)


def bench(shape: str, n: int) -> str:
    people, rules = shaped_cohort(shape, n, SEED)
    walls, cpus = [], []
    for _ in range(3):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        plan = plan_matches(people, rules, SEED)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]  # the machine's, while the plan ran: CPU time suffers less from it than wall
    cohort = encode(people)
    roles = np.bincount(cohort.role, minlength=3)
    sizes = {k: sum(1 for g in plan.groups if len(g.members) == k) for k in (2, 3)}
    print(
        f"# {shape} n={n}: {roles[CLINICIAN]} clinicians, {roles[GENERAL_MANAGER]} general managers, "
        f"{roles[SPECIALIST_MANAGER]} specialists, {len(rules.past_buddies)} past-buddy pairs, "
        f"{len(rules.exclusions)} exclusions -> {sizes[2]} pairs, {sizes[3]} trios, {len(plan.waiting)} waiting",
        flush=True,
    )
    quality = ""
    if n <= EXACT_UP_TO:
        start = time.perf_counter()
        exact = plan_with(people, rules, SEED, exact=True)
        print(
            f"# {shape} n={n}: exact optimum {exact.total_score:.1f} in {time.perf_counter() - start:.1f} s"
        )
        quality = f"vs_exact={plan.total_score / exact.total_score:.4f}"
    else:
        start, start_cpu = time.perf_counter(), time.process_time()
        scorer = Scorer(cohort, rules.weights)
        rng = np.random.default_rng(SEED)
        clinicians, managers, specialists = (np.flatnonzero(cohort.role == r) for r in range(3))
        index = {int(pid): i for i, pid in enumerate(cohort.ids)}
        pairs = np.array([[index[g.members[0]], index[g.members[1]]] for g in plan.groups]).reshape(-1, 2)
        pair_bound = matching_bound(scorer, clinicians, managers, rng, BOUND_ROUNDS, matched=len(pairs))
        trio_bound = join_bound(scorer, specialists, pairs, rng, BOUND_ROUNDS, matched=sizes[3])
        mine = float(pair_scores(cohort, pairs[:, 0], pairs[:, 1], rules.weights).sum())
        bound = pair_bound + trio_bound
        print(
            f"# {shape} n={n}: upper bound {bound:.1f} (pairs {pair_bound:.1f}, trios on the plan's pairs "
            f"{trio_bound:.1f}; the plan's {mine:.1f} and {plan.total_score - mine:.1f}) "
            f"in {time.perf_counter() - start:.0f} s ({time.process_time() - start_cpu:.0f} s CPU)"
        )
        quality = (
            f"gap_bound={1 - plan.total_score / bound:.4f} pair_gap_bound={1 - mine / pair_bound:.4f} "
            f"trio_gap_bound={1 - (plan.total_score - mine) / max(trio_bound, 1e-9):.4f}"
        )
    vs_random = plan.total_score / _random_shuffle(cohort, rules.weights)
    return (
        f"matching shape={shape} n={n} seconds={statistics.median(walls):.3f} "
        f"cpu_seconds={statistics.median(cpus):.3f} peak_mb={peak:.0f} {quality} vs_random={vs_random:.2f} "
        f"load={load:.1f}"
    )


def _random_shuffle(cohort, weights) -> float:  # type: ignore[no-untyped-def]
    """Total score of shuffled pairs, specialists dropped into random pairs (what most pairing bots do)."""
    rng = np.random.default_rng(SEED)
    clinicians, managers, specialists = (rng.permutation(np.flatnonzero(cohort.role == r)) for r in range(3))
    n = min(len(clinicians), len(managers))
    pairs = np.column_stack([clinicians[:n], managers[:n]])
    k = min(len(specialists), n)
    trios = np.column_stack([pairs[:k], specialists[:k]])
    return float(group_scores(cohort, pairs[k:], weights).sum() + group_scores(cohort, trios, weights).sum())


def main(argv: list[str]) -> None:
    """Each shape and size in a fresh process, so its peak memory is its own; then one summary line."""
    if argv[:1] == ["--one"]:
        print(bench(argv[1], int(argv[2])), flush=True)
        return
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return
    shapes = list(SHAPES)
    if argv[:1] == ["--shapes"] and len(argv) > 1:
        shapes, argv = argv[1].split(","), argv[2:]
    unknown = [s for s in shapes if s not in SHAPES]
    sizes = [a for a in argv if a.isdigit() and int(a) > 1]
    if unknown or len(sizes) < len(argv):
        problem = (
            f"unknown shape {', '.join(unknown)}"
            if unknown
            else f"not a size: {' '.join(sorted(set(argv) - set(sizes)))}"
        )
        sys.exit(
            f"{problem}\nusage: python bench/matching.py [--shapes a,b] [sizes...]\nshapes: {', '.join(SHAPES)}"
        )
    moment, lines = Moment(), []
    for n in [int(a) for a in sizes] or [10_000, 100_000]:
        for shape in shapes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", shape, str(n)], check=True, capture_output=True, text=True
            ).stdout
            print(out, end="", flush=True)
            lines.append(dict(f.split("=", 1) for f in out.strip().splitlines()[-1].split()[1:]))
    print(f"{_summary(lines)} {moment.field()}")


def _summary(lines: list[dict[str, str]]) -> str:
    def worst(key: str, pick=max, small=None):  # type: ignore[no-untyped-def]
        values = [
            float(x[key])
            for x in lines
            if key in x and (small is None or (int(x["n"]) <= EXACT_UP_TO) == small)
        ]
        return f"{pick(values):.4g}" if values else "n/a"

    return (
        f"matching summary: shapes={len({x['shape'] for x in lines})} "
        f"worst_vs_exact={worst('vs_exact', min)} worst_gap_bound={worst('gap_bound')} "
        f"max_seconds_10k={worst('seconds', small=True)} max_cpu_10k={worst('cpu_seconds', small=True)} "
        f"max_seconds_100k={worst('seconds', small=False)} max_cpu_100k={worst('cpu_seconds', small=False)} "
        f"max_peak_mb={worst('peak_mb')}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
