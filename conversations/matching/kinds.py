"""People by kind: what decides a pair's score, so that whole kinds can be compared at once.

A pair's score is a term that depends only on each side's *kind* (profile and interests, see
:class:`Scorer`), plus a bonus when the employer or the region is the same. So the best partners of
everyone, among everyone, can be found kind by kind within a few groupings (everyone, the same region,
the same employer, both) without scoring every pair: :func:`best_kinds` for the matcher's candidates,
and the proven upper bound in :mod:`bound` for the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from conversations.matching.scoring import Scorer

CHUNK = 4_000_000  # cells of a kind-by-kind table evaluated at once

Base = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (row kinds, column kinds) -> outer score table
Level = tuple[np.ndarray, np.ndarray, float]  # row groups, column groups (-1: none), the bonus within one


def usable(scorer: Scorer) -> bool:
    """Kinds need the interest table (at most Scorer.MAX_INTEREST_SETS distinct interest sets)."""
    return scorer.interests is not None


def kind(scorer: Scorer, people: np.ndarray) -> np.ndarray:
    """Each person's profile-and-interests kind: it decides their score with anyone but the bonuses."""
    n_sets = _interests(scorer).shape[0]
    return scorer.profile[people].astype(np.int64) * n_sets + scorer.interest_set[people]


def base_table(scorer: Scorer) -> tuple[Base, int]:
    """The score of two kinds without bonuses, as an outer table, and how many kinds there are."""
    return partial(_outer, scorer), len(scorer.profiles) * _interests(scorer).shape[0]


def _outer(
    scorer: Scorer, row_kind: np.ndarray, col_kind: np.ndarray, dtype: type = np.float64
) -> np.ndarray:
    """:func:`base_table`'s table of `row_kind` by `col_kind`, built by whole rows, then columns
    (np.take: three times faster than indexing every cell)."""
    interests = _interests(scorer)
    n_sets = interests.shape[0]
    profiles: np.ndarray = scorer.profiles.astype(dtype, copy=False)
    sets: np.ndarray = interests.astype(dtype, copy=False)
    table = profiles.take(row_kind // n_sets, axis=0).take(col_kind // n_sets, axis=1)
    table += sets.take(row_kind % n_sets, axis=0).take(col_kind % n_sets, axis=1)
    return table


def levels(scorer: Scorer, rows: np.ndarray, cols: np.ndarray) -> list[Level]:
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


def best_kinds(
    scorer: Scorer, left: np.ndarray, right: np.ndarray, per: int
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (left position, right position) pairs: everyone's `per` best kinds of partner overall,
    in their region and at their employer, both ways, every partner considered. Rows of one kind take
    different people of a kind.
    """
    left_kinds, left_kind = np.unique(kind(scorer, left), return_inverse=True)
    right_kinds, right_kind = np.unique(kind(scorer, right), return_inverse=True)
    # Every kind against every kind, once, as a cost (the lower the better); float32 halves the memory
    # traffic, and this table only ranks kinds.
    cost = _outer(scorer, left_kinds, right_kinds, np.float32)
    np.negative(cost, out=cost)
    transposed = np.ascontiguousarray(cost.T)
    found_left, found_right = [], []
    for left_group, right_group, _ in levels(scorer, left, right)[:3]:  # everyone, region, employer
        chosen = top_kinds(cost, left_kind, left_group, right_kind, right_group, per)
        found_left.append(np.repeat(np.arange(len(left)), per))
        found_right.append(chosen.ravel())
        chosen = top_kinds(transposed, right_kind, right_group, left_kind, left_group, per)
        found_left.append(chosen.ravel())
        found_right.append(np.repeat(np.arange(len(right)), per))
    a, b = np.concatenate(found_left), np.concatenate(found_right)
    kept = (a >= 0) & (b >= 0)
    return a[kept], b[kept]


def top_kinds(
    cost: np.ndarray,
    row_kind: np.ndarray,
    row_group: np.ndarray,
    col_kind: np.ndarray,
    col_group: np.ndarray,
    per: int,
) -> np.ndarray:
    """(rows, per) columns: for each row, one column of each of the `per` cheapest kinds in its group (by
    `cost`, a row kind by column kind table; -1 where there are fewer), the n-th row of a kind taking the
    n-th column of a kind."""
    chosen = np.full((len(row_kind), per), -1, dtype=np.int64)
    columns = Buckets(col_kind, col_group, None)
    rows, distinct, inverse = row_kinds(row_kind, row_group)
    bucket = np.full((len(distinct), per), -1, dtype=np.int64)
    for start, end, lo, hi in columns.spans(distinct):
        kinds = columns.kind[lo:hi]
        every = len(kinds) == cost.shape[1]  # every column kind (sorted, once each): no gathering
        take = min(per, len(kinds))
        step = max(1, CHUNK // len(kinds))
        for i in range(start, end, step):
            j = min(end, i + step)
            which = distinct[i:j, 1]
            run = which[-1] - which[0] == j - i - 1  # distinct kinds, sorted: a run of rows
            table = cost[which[0] : which[-1] + 1] if run else cost.take(which, axis=0)
            if not every:
                table = table.take(kinds, axis=1)
            # A run of every column is a view of ``cost``; anything taken is a copy of its own.
            best = cheapest(table, take, owned=not (run and every)) if take < len(kinds) else None
            bucket[i:j, :take] = lo + (np.arange(take) if best is None else best)
    chosen[rows] = columns.nth(bucket[inverse], rank_within(inverse)[:, None])
    return chosen


WIDE = 64  # columns from which picking the cheapest one at a time beats np.argpartition


def cheapest(table: np.ndarray, take: int, owned: bool = False) -> np.ndarray:
    """(rows, take) columns of each row's `take` smallest values, the first of equal ones first. On a
    wide table, `take` passes of argmin (each masking what it found) are five times as fast as
    np.argpartition (1,570 by 1,440: 1.5 against 8.2 ms). `owned`: the table may be written over."""
    if table.shape[1] < WIDE:
        return np.argpartition(table, take - 1, axis=1)[:, :take]
    if not owned:
        table = table.copy()
    found = np.empty((table.shape[0], take), dtype=np.int64)
    rows = np.arange(table.shape[0])
    for k in range(take):
        found[:, k] = table.argmin(axis=1)
        if k + 1 < take:
            table[rows, found[:, k]] = np.inf
    return found


class Buckets:
    """Columns sorted by (group, kind, price): each distinct (group, kind) is one bucket."""

    def __init__(self, col_kind: np.ndarray, col_group: np.ndarray, price: np.ndarray | None) -> None:
        """`price` None: every column's is 0 (sorted by group and kind only, in one stable sort)."""
        valid = np.flatnonzero(col_group >= 0)
        if price is None:
            price = np.zeros(len(col_kind))
            radix = int(col_kind.max(initial=0)) + 1
            order = np.argsort(col_group[valid] * radix + col_kind[valid], kind="stable")
        else:
            order = np.lexsort((price[valid], col_kind[valid], col_group[valid]))
        group, kinds, self.column = col_group[valid][order], col_kind[valid][order], valid[order]
        first = np.ones(len(group), dtype=bool)
        first[1:] = (group[1:] != group[:-1]) | (kinds[1:] != kinds[:-1])
        self.start = np.flatnonzero(first)
        self.size = np.diff(np.append(self.start, len(group)))
        self.group, self.kind, self.price = group[first], kinds[first], price[valid][order][first]
        self.best_column = self.column[first]

    def spans(self, distinct: np.ndarray) -> list[tuple[int, int, int, int]]:
        """For each group among the sorted (group, row kind) rows `distinct`: its rows [start, end)
        and its buckets [lo, hi)."""
        if not len(distinct) or not len(self.group):
            return []
        starts = np.flatnonzero(np.concatenate(([True], distinct[1:, 0] != distinct[:-1, 0])))
        ends = np.append(starts[1:], len(distinct))
        groups = distinct[starts, 0]
        lo = np.searchsorted(self.group, groups, side="left")
        hi = np.searchsorted(self.group, groups, side="right")
        keep = hi > lo
        return list(
            zip(
                starts[keep].tolist(),
                ends[keep].tolist(),
                lo[keep].tolist(),
                hi[keep].tolist(),
                strict=True,
            )
        )

    def nth(self, bucket: np.ndarray, n: np.ndarray, spread: int | None = None) -> np.ndarray:
        """The n-th column of each bucket (modulo its size, or `spread` if smaller; -1 for no bucket)."""
        has = bucket >= 0
        if not len(self.start):
            return np.full(bucket.shape, -1, dtype=np.int64)
        b = np.where(has, bucket, 0)
        size = self.size[b] if spread is None else np.minimum(self.size[b], spread)
        return np.where(has, self.column[self.start[b] + n % np.maximum(size, 1)], -1)


def row_kinds(row_kind: np.ndarray, row_group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows in a group, the distinct (group, kind) among them sorted, and each such row's index there."""
    rows = np.flatnonzero(row_group >= 0)
    radix = int(row_kind.max(initial=0)) + 1
    keys, inverse = np.unique(row_group[rows] * radix + row_kind[rows], return_inverse=True)
    return rows, np.column_stack([keys // radix, keys % radix]), inverse.ravel()


def rank_within(inverse: np.ndarray) -> np.ndarray:
    """Each item's rank among the items with the same value, in order."""
    by_value = np.argsort(inverse, kind="stable")
    rank = np.empty(len(inverse), dtype=np.int64)
    rank[by_value] = np.arange(len(inverse)) - np.searchsorted(inverse[by_value], inverse[by_value])
    return rank


def _interests(scorer: Scorer) -> np.ndarray:
    if scorer.interests is not None:
        return scorer.interests
    raise ValueError("kinds need the interest table (at most Scorer.MAX_INTEREST_SETS interest sets)")
