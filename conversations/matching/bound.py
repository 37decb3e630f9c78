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
from conversations.matching.scoring import Scorer
from conversations.matching.solver import max_weight_matching

CHUNK = 4_000_000  # cells of a key-by-key table evaluated at once


def best_response(
    scorer: Scorer, rows: np.ndarray, cols: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`, max(0, max over all `cols` of score - price), every pair considered, and
    the position in `cols` reaching it (-1 where nothing beats 0)."""
    if not len(rows) or not len(cols):
        return np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    base, n_keys = _base(scorer)
    best, arg = np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    for row_group, col_group, bonus in _levels(scorer, rows, cols):
        value, where = _grouped_max(base, _key(scorer, rows), row_group, _key(scorer, cols), col_group, price)
        better = value + bonus > best
        best[better], arg[better] = value[better] + bonus, where[better]
    return best, arg


def pair_response(
    scorer: Scorer, rows: np.ndarray, pairs: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`best_response`, the columns being `pairs` (rows of two cohort indices) and a row's
    score with a pair the sum of its scores with both members: every (row, pair) considered.

    A pair's bonus with a row is its first member's (same region, employer, both or neither) plus its
    second's; each of the sixteen combinations is one grouping, in which pairs are told apart by their
    two members' profile-and-interests keys only.
    """
    if not len(rows) or not len(pairs):
        return np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    single, n_keys = _base(scorer)

    def base(row_key: np.ndarray, pair_key: np.ndarray) -> np.ndarray:
        return single(row_key, pair_key // n_keys) + single(row_key, pair_key % n_keys)

    row_key = _key(scorer, rows)
    pair_key = _key(scorer, pairs[:, 0]) * n_keys + _key(scorer, pairs[:, 1])
    best, arg = np.zeros(len(rows)), np.full(len(rows), -1, dtype=np.int64)
    first, second = _levels(scorer, rows, pairs[:, 0]), _levels(scorer, rows, pairs[:, 1])
    for row_a, col_a, bonus_a in first:
        for row_b, col_b, bonus_b in second:
            size = int(max(row_b.max(initial=0), col_b.max(initial=0))) + 1
            row_group = np.where((row_a >= 0) & (row_b >= 0), row_a * size + row_b, -1)
            col_group = np.where((col_a >= 0) & (col_b >= 0), col_a * size + col_b, -1)
            value, where = _grouped_max(base, row_key, row_group, pair_key, col_group, price)
            better = value + bonus_a + bonus_b > best
            best[better], arg[better] = value[better] + bonus_a + bonus_b, where[better]
    return best, arg


def _key(scorer: Scorer, people: np.ndarray) -> np.ndarray:
    """Each person's profile-and-interests key: it decides their score with anyone but the bonuses."""
    n_sets = _interests(scorer).shape[0]
    return scorer.profile[people].astype(np.int64) * n_sets + scorer.interest_set[people]


def _base(scorer: Scorer) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], int]:
    """The score of two keys without bonuses, as an outer table, and how many keys there are."""
    interests = _interests(scorer)
    n_sets = interests.shape[0]

    def base(row_key: np.ndarray, col_key: np.ndarray) -> np.ndarray:
        r, c = row_key[:, None], col_key[None, :]
        return scorer.profiles[r // n_sets, c // n_sets] + interests[r % n_sets, c % n_sets]

    return base, len(scorer.profiles) * n_sets


def _levels(scorer: Scorer, rows: np.ndarray, cols: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Groupings of rows and columns, each with the bonus a row and a column in one group get at most:
    everyone (none), the same region, the same employer, both (-1: in no group)."""
    cohort, weights = scorer.cohort, scorer.weights
    employer_rows, employer_cols = (
        cohort.employer[rows].astype(np.int64),
        cohort.employer[cols].astype(np.int64),
    )
    region_rows, region_cols = cohort.region[rows].astype(np.int64), cohort.region[cols].astype(np.int64)
    n_regions = int(max(region_rows.max(initial=0), region_cols.max(initial=0))) + 1
    both_rows = np.where(employer_rows >= 0, employer_rows * n_regions + region_rows, -1)
    both_rows[region_rows < 0] = -1
    both_cols = np.where(employer_cols >= 0, employer_cols * n_regions + region_cols, -1)
    both_cols[region_cols < 0] = -1
    return [
        (np.zeros(len(rows), dtype=np.int64), np.zeros(len(cols), dtype=np.int64), 0.0),
        (region_rows, region_cols, max(weights.same_region, 0.0)),
        (employer_rows, employer_cols, max(weights.same_employer, 0.0)),
        (both_rows, both_cols, max(weights.same_region, 0.0) + max(weights.same_employer, 0.0)),
    ]


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
        lambda price: best_response(scorer, rows, cols, price),
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
        lambda price: pair_response(scorer, joiners, pairs, price),
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
        bound = min(bound, dual - bonus * (len(mr) if matched is None else matched))
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
    value, where = best_response(scorer, rows, cols, price - lift)
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
    base: Callable[[np.ndarray, np.ndarray], np.ndarray],
    row_key: np.ndarray,
    row_group: np.ndarray,
    col_key: np.ndarray,
    col_group: np.ndarray,
    price: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each row: max over columns in the row's group of base(row key, column key) - price
    (-inf where the row has no group or its group has no columns)."""
    out = np.full(len(row_key), -np.inf)
    arg = np.full(len(row_key), -1, dtype=np.int64)
    # The lowest price per (group, column key), and the column holding it.
    valid = np.flatnonzero(col_group >= 0)
    order = np.lexsort((price[valid], col_key[valid], col_group[valid]))
    g, k, p, c = col_group[valid][order], col_key[valid][order], price[valid][order], valid[order]
    first = np.concatenate(([True], (g[1:] != g[:-1]) | (k[1:] != k[:-1]))) if len(g) else np.zeros(0, bool)
    g, k, p, c = g[first], k[first], p[first], c[first]
    group_lo = np.searchsorted(g, np.unique(g), side="left")
    group_hi = np.searchsorted(g, np.unique(g), side="right")
    group_of = {
        int(x): (int(lo), int(hi)) for x, lo, hi in zip(np.unique(g), group_lo, group_hi, strict=True)
    }
    # Rows by (group, row key): each distinct pair is evaluated once.
    rows_valid = np.flatnonzero(row_group >= 0)
    pair = np.unique(
        np.column_stack([row_group[rows_valid], row_key[rows_valid]]), axis=0, return_inverse=True
    )
    distinct, inverse = pair[0], pair[1].ravel()
    value = np.full(len(distinct), -np.inf)
    where = np.full(len(distinct), -1, dtype=np.int64)
    starts: list[int] = (
        np.flatnonzero(np.concatenate(([True], distinct[1:, 0] != distinct[:-1, 0]))).tolist()
        if len(distinct)
        else []
    )
    ends = [*starts[1:], len(distinct)] if starts else []
    for s, e in zip(starts, ends, strict=True):
        span = group_of.get(int(distinct[s, 0]))
        if span is None:
            continue
        ck, cp, cc = k[span[0] : span[1]], p[span[0] : span[1]], c[span[0] : span[1]]
        rk = distinct[s:e, 1]
        step = max(1, CHUNK // max(len(ck), 1))
        for i in range(0, len(rk), step):
            r = rk[i : i + step]
            table = base(r, ck)
            best = (table - cp[None, :]).argmax(axis=1)
            value[s + i : s + i + len(r)] = table[np.arange(len(r)), best] - cp[best]
            where[s + i : s + i + len(r)] = cc[best]
    out[rows_valid] = value[inverse]
    arg[rows_valid] = where[inverse]
    return out, arg


def _interests(scorer: Scorer) -> np.ndarray:
    if scorer.interests is not None:
        return scorer.interests
    raise ValueError("the bound needs the interest table (at most Scorer.MAX_INTEREST_SETS interest sets)")
