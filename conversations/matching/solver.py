"""The solver: maximum-cardinality, maximum-weight bipartite matching on an edge list.

"Match everyone who can be matched, then maximise the score" becomes a plain assignment problem by adding
a bonus per matched edge larger than any score difference an extra match could cost. Small problems go to
a dense exact solver; large or sparse ones to LAPJVsp. Where Hopcroft-Karp finds that every row of the
smaller side can be matched, LAPJVsp runs on the graph as it is (the usual case, and about 10% faster);
otherwise each row gets a private fallback column, so a full matching always exists and rows that cannot
be matched simply take their fallback.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

DENSE_CELLS = 6_250_000  # a 2,500 x 2,500 matrix: about 0.1 s and 50 MB in the dense solver


def max_weight_matching(
    n_rows: int,
    n_cols: int,
    rows: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    rng: np.random.Generator,
    dense: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Matched (row, col) index arrays. Edges must be unique; absent edges are forbidden.

    Rows and columns are shuffled with `rng` before solving, so ties between equally good matchings are
    broken by the seed rather than by input order. `dense` forces a solver (None: by size and density;
    the dense solver slows down badly when most cells are missing edges).
    """
    if not len(rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    row_perm, col_perm = rng.permutation(n_rows), rng.permutation(n_cols)
    row_pos, col_pos = np.empty_like(row_perm), np.empty_like(col_perm)  # the inverse permutations
    row_pos[row_perm], col_pos[col_perm] = np.arange(n_rows), np.arange(n_cols)
    if dense is None:
        dense = n_rows * n_cols <= DENSE_CELLS and len(rows) * 2 >= n_rows * n_cols
    solve = _dense if dense else _sparse
    r, c = solve(n_rows, n_cols, row_pos[rows], col_pos[cols], weights)
    return row_perm[r], col_perm[c]


def _bonus(weights: np.ndarray, size: int) -> float:
    """Large enough that one more matched edge beats any rearrangement of `size` edges' scores."""
    spread = float(weights.max() - min(weights.min(), 0.0))
    return (size + 2) * (spread + 1.0)


def _dense(n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray):
    value = np.zeros((n_rows, n_cols))
    value[rows, cols] = _bonus(weights, min(n_rows, n_cols)) + weights
    r, c = linear_sum_assignment(value, maximize=True)
    kept = value[r, c] > 0
    return r[kept], c[kept]


def _sparse(n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray):
    if n_rows > n_cols:
        c, r = _sparse(n_cols, n_rows, cols, rows, weights)
        return r, c
    # Edges by column first: the sparse compression keeps that order within each row, so the graph comes
    # out with its columns sorted and is not sorted again (a radix sort where columns fit 16 bits).
    order = np.argsort(cols.astype(np.uint16) if n_cols <= 1 << 16 else cols, kind="stable")
    rows, cols, weights = rows[order], cols[order], weights[order]
    top = float(weights.max()) + 1.0
    costs = top - weights
    graph = csr_matrix((costs, (rows, cols)), shape=(n_rows, n_cols))
    if (maximum_bipartite_matching(graph, perm_type="column") >= 0).all():
        # Every row can be matched (Hopcroft-Karp, a millisecond): no fallback columns needed.
        r, c = min_weight_full_bipartite_matching(graph)
        return r, c
    fallback = _bonus(costs, n_rows)
    all_rows = np.concatenate([rows, np.arange(n_rows)])
    all_cols = np.concatenate([cols, n_cols + np.arange(n_rows)])
    graph = csr_matrix(
        (np.concatenate([costs, np.full(n_rows, fallback)]), (all_rows, all_cols)),
        shape=(n_rows, n_cols + n_rows),
    )
    r, c = min_weight_full_bipartite_matching(graph)
    kept = c < n_cols
    return r[kept], c[kept]
