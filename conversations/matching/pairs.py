"""Clinician <-> general manager pairs: a maximum-cardinality, maximum-score assignment."""

from __future__ import annotations

import numpy as np

from conversations.matching.assignment import DENSE_CELLS, max_weight_matching
from conversations.matching.candidates import candidate_edges
from conversations.matching.features import Cohort
from conversations.matching.rules import Forbidden
from conversations.matching.scoring import pair_scores
from conversations.matching.types import Weights


def all_edges(n_left: int, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(np.arange(n_left), n_right), np.tile(np.arange(n_right), n_left)


def use_exact(n_left: int, n_right: int, exact: bool | None) -> bool:
    """Consider every pair (exact) or only sparse candidates; None decides by problem size."""
    return n_left * n_right <= DENSE_CELLS if exact is None else exact


def match_pairs(
    cohort: Cohort,
    clinicians: np.ndarray,
    managers: np.ndarray,
    forbidden: Forbidden,
    weights: Weights,
    rng: np.random.Generator,
    exact: bool | None = None,
) -> np.ndarray:
    """(pairs, 2) cohort indices, clinician then manager."""
    if not len(clinicians) or not len(managers):
        return np.zeros((0, 2), dtype=np.int64)
    dense = use_exact(len(clinicians), len(managers), exact)
    if dense:
        left, right = all_edges(len(clinicians), len(managers))
    else:
        left, right = candidate_edges(cohort, clinicians, managers, rng)
    allowed = ~forbidden.contains(clinicians[left], managers[right])
    left, right = left[allowed], right[allowed]
    scores = pair_scores(cohort, clinicians[left], managers[right], weights)
    rows, cols = max_weight_matching(
        len(clinicians), len(managers), left, right, scores, rng, dense=dense or None
    )
    return np.column_stack([clinicians[rows], managers[cols]])
