"""How well people fit together: one vectorised formula used by the optimiser and by explanations alike.

A pair's score is the weighted sum of: specialty/employer-type affinity (a clinician with a manager),
same employer, same region, shared interests (capped at 3) and same specialty or service area. A group's
score is the sum over its member pairs, added in member order, so a given group always gets the same
floating-point score whichever code path builds it.
"""

from __future__ import annotations

import numpy as np

from conversations.matching.features import CLINICIAN, Cohort
from conversations.matching.types import Weights

MAX_SHARED_INTERESTS = 3


def pair_scores(cohort: Cohort, a: np.ndarray, b: np.ndarray, weights: Weights) -> np.ndarray:
    """Scores of the pairs (a[i], b[i]), in either role order."""
    role_a, role_b = cohort.role[a], cohort.role[b]
    a_clinician_b_manager = (role_a == CLINICIAN) & (role_b != CLINICIAN)
    b_clinician_a_manager = (role_b == CLINICIAN) & (role_a != CLINICIAN)
    affinity = np.where(
        a_clinician_b_manager,
        cohort.affinity[cohort.specialty[a], cohort.employer_type[b]],
        np.where(b_clinician_a_manager, cohort.affinity[cohort.specialty[b], cohort.employer_type[a]], 0.0),
    )
    employer = cohort.employer[a]
    same_employer = (employer == cohort.employer[b]) & (employer >= 0)
    region = cohort.region[a]
    same_region = (region == cohort.region[b]) & (region >= 0)
    shared = np.minimum(cohort.shared_interests(a, b), MAX_SHARED_INTERESTS)
    specialty = cohort.specialty[a]
    same_specialty = (specialty == cohort.specialty[b]) & (specialty >= 0)
    return (
        weights.affinity * affinity
        + weights.same_employer * same_employer
        + weights.same_region * same_region
        + weights.shared_interest * shared
        + weights.same_specialty * same_specialty
    )


def group_scores(cohort: Cohort, members: np.ndarray, weights: Weights) -> np.ndarray:
    """Scores of groups given as rows of cohort indices (all rows the same size, in member order)."""
    size = members.shape[1]
    total = np.zeros(members.shape[0])
    for i in range(size):
        for j in range(i + 1, size):
            total = total + pair_scores(cohort, members[:, i], members[:, j], weights)
    return total


def in_member_order(cohort: Cohort, members: np.ndarray) -> np.ndarray:
    """Rows of `members` reordered clinicians first, then general, then specialist managers."""
    rank = cohort.canonical_rank[members]
    return np.take_along_axis(members, np.argsort(rank, axis=1, kind="stable"), axis=1)
