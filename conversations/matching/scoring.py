"""How well people fit together: one vectorised formula used by the optimiser and by explanations alike.

A pair's score is the weighted sum of: specialty/employer-type affinity (a clinician with a manager),
same employer, same region, shared interests (capped at 3) and same specialty or service area. A group's
score is the sum over its member pairs, added in member order, so a given group always gets the same
floating-point score whichever code path builds it.
"""

from __future__ import annotations

import numpy as np

from conversations.matching.features import _POPCOUNT16, CLINICIAN, Cohort
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


class Scorer:
    """:func:`pair_scores` by table look-up, for the optimiser's millions of candidate pairs.

    A pair's score depends on each side's (role, specialty, employer type) and interests, and on whether
    employer and region are the same; the first two take few distinct values, so their terms are scored
    once per distinct combination and looked up. Equal to :func:`pair_scores` up to rounding (terms are
    added in another order); explanations and totals always use :func:`pair_scores`.
    """

    MAX_INTEREST_SETS = 2_048  # beyond this many distinct interest sets, count shared interests directly

    def __init__(self, cohort: Cohort, weights: Weights) -> None:
        self.cohort, self.weights = cohort, weights
        profile = (cohort.role == CLINICIAN).astype(np.int64)
        for code in (cohort.specialty, cohort.employer_type):
            profile = profile * (int(code.max(initial=0)) + 2) + code + 1
        distinct, self.profile = np.unique(profile, return_inverse=True)
        first = _first_holders(self.profile, len(distinct))
        only_profile = Weights(
            affinity=weights.affinity, same_employer=0.0, same_region=0.0, shared_interest=0.0,
            same_specialty=weights.same_specialty,
        )  # fmt: skip
        a, b = np.repeat(first, len(first)), np.tile(first, len(first))
        self.profiles = pair_scores(cohort, a, b, only_profile).reshape(len(first), len(first))
        words = cohort.interests.astype(np.int64)
        if words.shape[1] <= 3:  # up to 48 interests: one int64 key per person
            packed = (words << (16 * np.arange(words.shape[1]))).sum(axis=1)
            _, first_set, self.interest_set = np.unique(packed, return_index=True, return_inverse=True)
            sets = cohort.interests[first_set]
        else:
            sets, inverse = np.unique(cohort.interests, axis=0, return_inverse=True)
            self.interest_set = inverse.ravel()
        self.interests: np.ndarray | None = None
        if len(sets) <= self.MAX_INTEREST_SETS:
            shared = _POPCOUNT16[sets[:, None, :] & sets[None, :, :]].sum(axis=2, dtype=np.int64)
            self.interests = weights.shared_interest * np.minimum(shared, MAX_SHARED_INTERESTS)
        # For __call__: flat tables and row offsets (np.take on flat arrays beats 2-D fancy indexing);
        # an unknown employer or region (-1) is -1 on one side and -2 on the other, so it never matches.
        self._profiles_flat = self.profiles.ravel()
        self._profile_row = self.profile * len(self.profiles)
        if self.interests is not None:
            self._interests_flat = self.interests.ravel()
            self._set_row = self.interest_set * len(self.interests)
        self._employer_a = cohort.employer
        self._employer_b = np.where(cohort.employer >= 0, cohort.employer, -2).astype(cohort.employer.dtype)
        self._region_a = cohort.region
        self._region_b = np.where(cohort.region >= 0, cohort.region, -2).astype(cohort.region.dtype)
        self._bonus = np.array(
            [0.0, weights.same_region, weights.same_employer, weights.same_employer + weights.same_region]
        )

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        value = self._profiles_flat.take(self._profile_row.take(a) + self.profile.take(b))
        if self.interests is not None:
            value += self._interests_flat.take(self._set_row.take(a) + self.interest_set.take(b))
        else:
            shared = np.minimum(self.cohort.shared_interests(a, b), MAX_SHARED_INTERESTS)
            value += self.weights.shared_interest * shared
        # Which bonuses apply, as 2 * same employer + same region: one look-up instead of two products.
        same = (self._employer_a.take(a) == self._employer_b.take(b)).view(np.int8) * np.int8(2)
        same += (self._region_a.take(a) == self._region_b.take(b)).view(np.int8)
        value += self._bonus.take(same)
        return value


def _first_holders(codes: np.ndarray, count: int) -> np.ndarray:
    """For each code, the first position holding it."""
    first = np.full(count, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return first
