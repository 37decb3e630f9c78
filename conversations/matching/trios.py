"""Trios: each extra person (a specialist manager, or a surplus clinician or general manager where the
coordinator allows uneven trios) joins at most one pair, maximising the summed marginal gain.

A joiner's gain on a pair is its score with each of the two members, which does not depend on the other
joiners, so given the pairs this assignment is exactly optimal.
"""

from __future__ import annotations

import numpy as np

from conversations.matching.assignment import max_weight_matching
from conversations.matching.candidates import candidate_edges
from conversations.matching.features import Cohort
from conversations.matching.pairs import all_edges, use_exact
from conversations.matching.rules import Forbidden
from conversations.matching.scoring import pair_scores
from conversations.matching.types import Weights


def join_pairs(
    cohort: Cohort,
    pairs: np.ndarray,
    joiners: np.ndarray,
    forbidden: Forbidden,
    weights: Weights,
    rng: np.random.Generator,
    exact: bool | None = None,
) -> np.ndarray:
    """For each pair, the cohort index of the person joining it, or -1."""
    joined = np.full(len(pairs), -1, dtype=np.int64)
    if not len(pairs) or not len(joiners):
        return joined
    dense = use_exact(len(joiners), len(pairs), exact)
    if dense:
        who, pair = all_edges(len(joiners), len(pairs))
    else:  # candidates near either member: a joiner close to one of them may be the best addition
        found = [candidate_edges(cohort, joiners, pairs[:, side], rng) for side in (0, 1)]
        edge = np.unique(np.concatenate([j * len(pairs) + p for j, p in found]))
        who, pair = edge // len(pairs), edge % len(pairs)
    person, clinician, manager = joiners[who], pairs[pair, 0], pairs[pair, 1]
    allowed = ~(forbidden.contains(person, clinician) | forbidden.contains(person, manager))
    who, pair, person = who[allowed], pair[allowed], person[allowed]
    gain = pair_scores(cohort, person, clinician[allowed], weights) + pair_scores(
        cohort, person, manager[allowed], weights
    )
    rows, cols = max_weight_matching(len(joiners), len(pairs), who, pair, gain, rng, dense=dense or None)
    joined[cols] = joiners[rows]
    return joined
