"""Benchmark the matcher on synthetic national cohorts: 1,000, 10,000 and 100,000 participants.

For each size: wall time of `plan_matches`, peak memory, its total score against the exact
optimum (every pair considered, dense solver; where that fits), against a random shuffle (what most
pairing bots do), and, at 1,000, its pairs against networkx's maximum-cardinality max_weight_matching.
Goals on a 2-core machine: 10,000 in at most 0.5 s; 100,000 in at most 5 s and 1.5 GB.
Peak memory is the whole process's peak RSS (each size runs in its own process).
Usage: python bench/matching.py [sizes...]
"""

from __future__ import annotations

import gc
import resource
import subprocess
import sys
import time
from collections.abc import Sequence

import networkx as nx
import numpy as np

from conversations.matching import Candidate, MatchPlan, MatchRules, plan_matches
from conversations.matching.features import CLINICIAN, GENERAL_MANAGER, encode
from conversations.matching.plan import plan_with
from conversations.matching.rules import Forbidden
from conversations.matching.scoring import group_scores, pair_scores
from conversations.matching.synthetic import synthetic_cohort

EXACT_UP_TO = 10_000
NETWORKX_AT = 1_000
SEED = 2026


def timed(people: Sequence[Candidate], rules: MatchRules) -> tuple[MatchPlan, float, float]:
    """The plan, its best wall time over a few runs (one for large cohorts), and the process's peak RSS
    in MB so far (interpreter, cohort and matcher together: this process has done nothing else yet)."""
    runs = 3 if len(people) <= 10_000 else 1
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        plan = plan_matches(people, rules, SEED)
        best = min(best, time.perf_counter() - start)
    return plan, best, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_shuffle(people: Sequence[Candidate], rules: MatchRules) -> float:
    """Total score of shuffled pairs, specialists dropped into random pairs: hard rules ignored."""
    cohort = encode(people)
    rng = np.random.default_rng(SEED)
    role = cohort.role
    clinicians = rng.permutation(np.flatnonzero(role == CLINICIAN))
    managers = rng.permutation(np.flatnonzero(role == GENERAL_MANAGER))
    specialists = rng.permutation(np.flatnonzero(role > GENERAL_MANAGER))
    n = min(len(clinicians), len(managers))
    pairs = np.column_stack([clinicians[:n], managers[:n]])
    k = min(len(specialists), n)
    trios = np.column_stack([pairs[:k], specialists[:k]])
    return float(
        group_scores(cohort, pairs[k:], rules.weights).sum()
        + group_scores(cohort, trios, rules.weights).sum()
    )


def pair_total(people: Sequence[Candidate], rules: MatchRules, plan: MatchPlan) -> tuple[int, float]:
    """Number of pairs and their clinician-manager scores, trios counted by their pair only."""
    cohort = encode(people)
    index = {int(pid): i for i, pid in enumerate(cohort.ids)}
    pairs = np.array([[index[g.members[0]], index[g.members[1]]] for g in plan.groups])
    return len(pairs), float(pair_scores(cohort, pairs[:, 0], pairs[:, 1], rules.weights).sum())


def networkx_pairs(people: Sequence[Candidate], rules: MatchRules) -> tuple[int, float, float]:
    """networkx's maximum-cardinality maximum-weight matching over every allowed pair."""
    cohort = encode(people)
    forbidden = Forbidden(cohort.ids, rules)
    clinicians = np.flatnonzero(cohort.role == CLINICIAN)
    managers = np.flatnonzero(cohort.role == GENERAL_MANAGER)
    a, b = np.repeat(clinicians, len(managers)), np.tile(managers, len(clinicians))
    keep = ~forbidden.contains(a, b)
    a, b = a[keep], b[keep]
    weight = pair_scores(cohort, a, b, rules.weights)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(a.tolist(), b.tolist(), weight.tolist(), strict=True))
    start = time.perf_counter()
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    seconds = time.perf_counter() - start
    total = sum(graph[u][v]["weight"] for u, v in matching)
    return len(matching), total, seconds


def bench(n: int) -> str:
    people, rules = synthetic_cohort(n, SEED)
    plan, seconds, peak = timed(people, rules)
    roles = {
        r: sum(1 for p in people if p.role == r)
        for r in ("clinician", "general_manager", "specialist_manager")
    }
    sizes = {k: sum(1 for g in plan.groups if len(g.members) == k) for k in (2, 3)}
    print(
        f"# n={n}: {roles['clinician']} clinicians, {roles['general_manager']} general managers, "
        f"{roles['specialist_manager']} specialists, {len(rules.past_buddies)} past-buddy pairs, "
        f"{len(rules.exclusions)} exclusions -> {sizes[2]} pairs, {sizes[3]} trios, {len(plan.waiting)} waiting"
    )
    vs_exact = "n/a"
    if n <= EXACT_UP_TO:
        start = time.perf_counter()
        exact = plan_with(people, rules, SEED, exact=True)
        print(f"# n={n}: exact optimum {exact.total_score:.1f} in {time.perf_counter() - start:.2f} s")
        vs_exact = f"{plan.total_score / exact.total_score:.4f}"
    vs_random = f"{plan.total_score / random_shuffle(people, rules):.2f}"
    if n == NETWORKX_AT:
        mine = pair_total(people, rules, plan)
        count, total, nx_seconds = networkx_pairs(people, rules)
        print(
            f"# n={n}: pairs {mine[0]} scoring {mine[1]:.1f}; networkx max_weight_matching {count} scoring "
            f"{total:.1f} in {nx_seconds:.1f} s -> vs_networkx={mine[1] / total:.4f}"
        )
    return (
        f"matching n={n} seconds={seconds:.3f} peak_mb={peak:.0f} vs_exact={vs_exact} vs_random={vs_random}"
    )


def main(argv: list[str]) -> None:
    """Each size in a fresh process, so its peak memory is its own."""
    if argv[:1] == ["--one"]:
        print(bench(int(argv[1])), flush=True)
        return
    for n in [int(a) for a in argv] or [1_000, 10_000, 100_000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
