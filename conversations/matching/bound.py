"""A proven upper bound on the best possible plan, for cohorts too large for the exact solver.

Any prices ``v`` on one side give an upper bound on every matching's score: with
``u_r = max(0, max_k score(r, k) - v_k)`` the pair (u, v) is feasible for the assignment's dual, so
``sum(u) + sum(v)`` bounds the best matching (LP duality). Forbidden pairs are ignored, which can only
raise the bound. The maximum over *all* partners is found without scoring every pair: a pair's score is
a term that depends only on each side's profile and interests, plus a bonus when the employer or the
region is the same, so for each profile-and-interests key of the other side it is enough to know the
lowest price overall, in each region, at each employer, and at each employer in each region.

A plan's groups are bounded stage by stage, as the matcher builds them: its pairs by a bound on every
clinician-manager matching of as many pairs; its trios by a bound on every assignment of specialists to
the plan's pairs (:func:`join_bound`), where a pair's score with a specialist is two terms of the same
kind, so the same grouping prices every (specialist, pair) at once (:func:`pair_response`). Together
they bound "the best pairs, then the best trios on those pairs" whenever the plan's pairs are optimal,
and the benchmark prints each stage's certified gap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conversations.matching.candidates import candidate_edges, unique_pairs
from conversations.matching.kinds import (
    CHUNK,
    Base,
    Buckets,
    base_table,
    kind,
    levels,
    rank_within,
    row_kinds,
)
from conversations.matching.scoring import Scorer
from conversations.matching.solver import max_weight_matching

SPREAD = 8  # rows of one kind pointed at different columns among the SPREAD cheapest of one kind
CLOSE = 1e-4  # stop pricing once the graph's best matching is this close to the bound


def best_response(
    scorer: Scorer, rows: np.ndarray, cols: np.ndarray, price: np.ndarray, spread: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`, max(0, max over all `cols` of score - price), every pair considered, and
    the position in `cols` reaching it (-1 where nothing beats 0).

    With `spread` > 1 the position is only a column worth trying: rows of one kind get different
    columns among the `spread` cheapest of the kind that reaches the value, so that pricing adds many
    useful pairs a round instead of pointing a whole kind at one column.
    """
    if not len(rows) or not len(cols):
        return np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    base, n_keys = base_table(scorer)
    best, arg = np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    for row_group, col_group, bonus in levels(scorer, rows, cols):
        value, where = _grouped_max(
            base, kind(scorer, rows), row_group, kind(scorer, cols), col_group, price, spread
        )
        better = value + bonus > best
        best[better], arg[better] = value[better] + bonus, where[better]
    return best, arg


def pair_response(
    scorer: Scorer, rows: np.ndarray, pairs: np.ndarray, price: np.ndarray, spread: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`best_response`, the columns being `pairs` (rows of two cohort indices) and a row's
    score with a pair the sum of its scores with both members: every (row, pair) considered.

    A pair's bonus with a row is its first member's (same region, employer, both or neither) plus its
    second's; each of the sixteen combinations is one grouping, in which pairs are told apart by their
    two members' profile-and-interests keys only.
    """
    if not len(rows) or not len(pairs):
        return np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    single, n_keys = base_table(scorer)

    def base(row_key: np.ndarray, pair_key: np.ndarray) -> np.ndarray:
        return single(row_key, pair_key // n_keys) + single(row_key, pair_key % n_keys)

    row_key = kind(scorer, rows)
    pair_key = kind(scorer, pairs[:, 0]) * n_keys + kind(scorer, pairs[:, 1])
    best, arg = np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    first, second = levels(scorer, rows, pairs[:, 0]), levels(scorer, rows, pairs[:, 1])
    for row_a, col_a, bonus_a in first:
        for row_b, col_b, bonus_b in second:
            size = int(max(row_b.max(initial=0), col_b.max(initial=0))) + 1
            row_group = np.where((row_a >= 0) & (row_b >= 0), row_a * size + row_b, -1)
            col_group = np.where((col_a >= 0) & (col_b >= 0), col_a * size + col_b, -1)
            value, where = _grouped_max(base, row_key, row_group, pair_key, col_group, price, spread)
            better = value + bonus_a + bonus_b > best
            best[better], arg[better] = value[better] + bonus_a + bonus_b, where[better]
    return best, arg


def matching_bound(
    scorer: Scorer,
    rows: np.ndarray,
    cols: np.ndarray,
    rng: np.random.Generator,
    rounds: int = 6,
    matched: int | None = None,
) -> float:
    """An upper bound on the score of any matching of at least `matched` edges between `rows` and
    `cols` (None: of maximum cardinality).

    Column generation: solve exactly on a sparse candidate graph, read the dual prices off the solution
    (shortest paths in its residual graph), then price every pair with :func:`best_response`; the pairs
    that beat their prices join the graph and it is solved again. The bound holds after any round and
    meets the optimum when no pair beats its price.
    """
    if not len(rows) or not len(cols):
        return 0.0
    return _column_generation(
        len(rows),
        len(cols),
        candidate_edges(scorer.cohort, rows, cols, scorer, rng),
        lambda r, c: scorer(rows[r], cols[c]),
        lambda price: best_response(scorer, rows, cols, price, SPREAD),
        lambda price: _unclipped_response(scorer, cols, rows, price),
        rng,
        rounds,
        matched,
    )


def join_bound(
    scorer: Scorer,
    joiners: np.ndarray,
    pairs: np.ndarray,
    rng: np.random.Generator,
    rounds: int = 6,
    matched: int | None = None,
) -> float:
    """An upper bound on the score of any assignment of at least `matched` of `joiners` (None: as many
    as can be) to the given `pairs` (rows of two cohort indices), one joiner a pair at most, a joiner's
    gain being its scores with both members: as :func:`matching_bound`, every (joiner, pair) priced
    by :func:`pair_response`."""
    if not len(joiners) or not len(pairs):
        return 0.0
    first, second = pairs[:, 0], pairs[:, 1]
    found = [candidate_edges(scorer.cohort, joiners, side, scorer, rng) for side in (first, second)]
    edges = unique_pairs(
        np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]), len(joiners), len(pairs)
    )
    return _column_generation(
        len(joiners),
        len(pairs),
        edges,
        lambda r, c: scorer(joiners[r], first[c]) + scorer(joiners[r], second[c]),
        lambda price: pair_response(scorer, joiners, pairs, price, SPREAD),
        None,
        rng,
        rounds,
        matched,
    )


Respond = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _column_generation(
    n_rows: int,
    n_cols: int,
    edges: tuple[np.ndarray, np.ndarray],
    gain: Callable[[np.ndarray, np.ndarray], np.ndarray],
    rows_respond: Respond,
    cols_respond: Respond | None,
    rng: np.random.Generator,
    rounds: int,
    matched: int | None,
) -> float:
    """The bound of :func:`matching_bound`: `rows_respond(price)` is each row's best max(0, gain -
    price) over every column (and that column), `cols_respond` each column's over every row, before
    the max with 0 (None: columns are not priced; the bound only uses the rows')."""
    r, c = edges
    bound = np.inf
    for _ in range(rounds):
        weight = gain(r, c)
        bonus = (min(n_rows, n_cols) + 2) * (float(weight.max() - min(weight.min(), 0.0)) + 1.0)
        mr, mc = max_weight_matching(n_rows, n_cols, r, c, weight, rng)
        u, v = _potentials(n_rows, n_cols, r, c, bonus + weight, mr, mc)
        u, v = np.maximum(u, 0.0), np.maximum(v, 0.0)  # raising a price keeps it feasible
        # (u, v) prices the graph's pairs at bonus + gain: make it feasible for every pair. Any
        # matching M of at least `matched` edges then has gain(M) <= dual - bonus * matched.
        u_all, best_col = rows_respond(v - bonus)
        dual = float(u_all.sum() + v.sum())
        add_c, best_row = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if cols_respond is not None:
            v_raw, best_row = cols_respond(u - bonus)
            v_all = np.maximum(0.0, v_raw)
            dual = min(dual, float(u.sum() + v_all.sum()))
            add_c = np.flatnonzero(v_all > v + 1e-9)
        need = len(mr) if matched is None else matched
        bound = min(bound, dual - bonus * need)
        if len(mr) >= need and bound - float(gain(mr, mc).sum()) <= CLOSE * abs(bound):
            break  # the graph's optimum already meets the bound: no pair is worth adding
        add_r = np.flatnonzero((u_all > u + 1e-9) & (best_col >= 0))
        if not len(add_r) and not len(add_c):
            break
        r, c = unique_pairs(
            np.concatenate([r, add_r, best_row[add_c]]),
            np.concatenate([c, best_col[add_r], add_c]),
            n_rows,
            n_cols,
        )
    return bound


def _unclipped_response(
    scorer: Scorer, rows: np.ndarray, cols: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """max over `cols` of score - price for each row, negative or not, and the position reaching it."""
    lift = float(np.abs(price).max(initial=0.0)) + 1.0  # every score is >= 0, so each value is > 0
    value, where = best_response(scorer, rows, cols, price - lift, SPREAD)
    return value - lift, where


def _potentials(
    n_rows: int, n_cols: int, r: np.ndarray, c: np.ndarray, w: np.ndarray, mr: np.ndarray, mc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal dual prices (u on rows, v on columns) of a maximum-weight matching (mr, mc) on the edges
    (r, c, w): longest paths from a root in its residual graph (Bellman-Ford on negated lengths)."""
    root = n_rows + n_cols
    matched_r = np.zeros(n_rows, dtype=bool)
    matched_r[mr] = True
    matched_c = np.zeros(n_cols, dtype=bool)
    matched_c[mc] = True
    pair_weight = dict(zip(zip(mr.tolist(), mc.tolist(), strict=True), [0.0] * len(mr), strict=True))
    for a, b, x in zip(r.tolist(), c.tolist(), w.tolist(), strict=True):
        if (a, b) in pair_weight:
            pair_weight[(a, b)] = x
    matched_w = np.array([pair_weight[(a, b)] for a, b in zip(mr.tolist(), mc.tolist(), strict=True)])
    free_r, free_c = np.flatnonzero(~matched_r), np.flatnonzero(~matched_c)
    every_r, every_c = np.arange(n_rows), np.arange(n_cols)
    src = np.concatenate(
        [r, n_rows + mc, np.full(n_cols, root), every_r, np.full(len(free_r), root), n_rows + free_c]
    )
    dst = np.concatenate(
        [n_rows + c, mr, n_rows + every_c, np.full(n_rows, root), free_r, np.full(len(free_c), root)]
    )
    length = np.concatenate([-w, matched_w, np.zeros(n_cols + n_rows + len(free_r) + len(free_c))])
    distance = _shortest_paths(root + 1, src, dst, length, root)
    return distance[:n_rows], -distance[n_rows:root]


def _shortest_paths(n: int, src: np.ndarray, dst: np.ndarray, length: np.ndarray, root: int) -> np.ndarray:
    """Distances from `root` with negative lengths (no negative cycles): Bellman-Ford relaxing, each
    pass, only the edges out of nodes whose distance just changed."""
    order = np.argsort(src, kind="stable")
    dst, length = dst[order], length[order]
    start = np.searchsorted(src[order], np.arange(n + 1))
    distance = np.full(n, np.inf)
    distance[root] = 0.0
    frontier = np.array([root])
    for _ in range(n + 1):
        count = start[frontier + 1] - start[frontier]
        edge = np.repeat(start[frontier] - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        reach = distance[np.repeat(frontier, count)] + length[edge]
        target = dst[edge]
        better = reach < distance[target] - 1e-12
        if not better.any():
            return distance
        target, reach = target[better], reach[better]
        np.minimum.at(distance, target, reach)
        frontier = np.unique(target)
    raise ValueError("the matching is not optimal on its graph (a negative cycle)")


def _grouped_max(
    base: Base,
    row_key: np.ndarray,
    row_group: np.ndarray,
    col_key: np.ndarray,
    col_group: np.ndarray,
    price: np.ndarray,
    spread: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """For each row: max over columns in the row's group of base(row key, column key) - price
    (-inf where the row has no group or its group has no columns), and a column reaching it (with
    `spread` > 1: the n-th row of a kind, the n-th cheapest column of the best kind, modulo `spread`)."""
    out = np.full(len(row_key), -np.inf)
    arg = np.full(len(row_key), -1, dtype=np.int64)
    columns = Buckets(col_key, col_group, price)  # the lowest price per (group, column key) first
    rows, distinct, inverse = row_kinds(row_key, row_group)  # each distinct pair evaluated once
    value = np.full(len(distinct), -np.inf)
    bucket = np.full(len(distinct), -1, dtype=np.int64)
    for start, end, lo, hi in columns.spans(distinct):
        kinds, prices = columns.kind[lo:hi], columns.price[lo:hi]
        step = max(1, CHUNK // len(kinds))
        for i in range(start, end, step):
            j = min(end, i + step)
            table = base(distinct[i:j, 1], kinds)
            table -= prices[None, :]
            best = table.argmax(axis=1)
            value[i:j] = table[np.arange(j - i), best]
            bucket[i:j] = lo + best
    out[rows] = value[inverse]
    chosen = bucket[inverse]
    if spread > 1:
        arg[rows] = columns.nth(chosen, rank_within(inverse), spread)
    elif len(columns.best_column):
        arg[rows] = np.where(chosen >= 0, columns.best_column[np.maximum(chosen, 0)], -1)
    return out, arg
