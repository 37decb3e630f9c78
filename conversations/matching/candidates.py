"""A sparse set of promising partners, so large cohorts never need an n x n score matrix.

Scores come from a few categorical features, so the partners worth considering for someone share a
*key* with them: the same employer, the same region, a region plus the kind of employer their specialty
fits, a region plus an interest, a region plus a specialty. People are bucketed by key and each person
draws a few partners from each of their buckets, in both directions, plus a few at random so the graph
always holds a large matching. The optimiser then runs exactly on this graph; the test suite and the
benchmark check the result stays within 1% of the exact optimum over all pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conversations.matching.features import CLINICIAN, Cohort
from conversations.matching.scoring import pair_scores
from conversations.matching.types import Weights

PER_KEY = 4  # partners kept per person per bucket and direction
POOL = 4  # ... out of POOL times as many drawn at random

Score = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (source positions, target positions) -> scores
Keys = tuple[np.ndarray, np.ndarray]  # (position in the side, key): a person may hold several keys


def candidate_edges(
    cohort: Cohort, left: np.ndarray, right: np.ndarray, weights: Weights, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Unique (left position, right position) candidate pairs between two sets of cohort indices."""

    def left_right(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        return pair_scores(cohort, left[src], right[dst], weights)

    def right_left(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        return pair_scores(cohort, right[src], left[dst], weights)

    found_left, found_right = [], []
    # Each side draws about as many edges in total: when trios are formed, the many pairs draw one
    # specialist each per bucket while each specialist draws PER_KEY pairs.
    smaller = min(len(left), len(right))
    per_left = max(1, round(PER_KEY * smaller / max(len(left), 1)))
    per_right = max(1, round(PER_KEY * smaller / max(len(right), 1)))
    for family in _FAMILIES:
        left_keys, right_keys = family(cohort, left), family(cohort, right)
        for a, b, per, score, flip in (
            (left_keys, right_keys, per_left, left_right, False),
            (right_keys, left_keys, per_right, right_left, True),
        ):
            src, dst = _draw(a, b, per, score, rng)
            found_left.append(dst if flip else src)
            found_right.append(src if flip else dst)
    edge = unique(np.concatenate(found_left) * len(right) + np.concatenate(found_right))
    return edge // len(right), edge % len(right)


def unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; for large int arrays sorting beats numpy's hash-based np.unique."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _draw(
    source: Keys, target: Keys, per: int, score: Score, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """For every (person, key) in `source`, the best `per` of POOL * `per` random holders of the key in
    `target`: a random pool finds variety, keeping its best makes each edge count."""
    owner, key = source
    target_owner, target_key = target
    if not len(owner) or not len(target_owner):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    shuffled = np.lexsort((rng.random(len(target_key)), target_key))
    sorted_keys, sorted_owner = target_key[shuffled], target_owner[shuffled]
    lo = np.searchsorted(sorted_keys, key, side="left")
    size = np.searchsorted(sorted_keys, key, side="right") - lo
    start = (rng.random(len(owner)) * np.maximum(size, 1)).astype(np.int64)
    step = np.arange(POOL * per)
    valid = step < size[:, None]
    drawn = np.zeros(valid.shape, dtype=np.int64)
    drawn[valid] = sorted_owner[(lo[:, None] + (start[:, None] + step) % np.maximum(size, 1)[:, None])[valid]]
    value = np.full(valid.shape, -np.inf)
    value[valid] = score(np.broadcast_to(owner[:, None], valid.shape)[valid], drawn[valid])
    best = np.argsort(-value, axis=1, kind="stable")[:, :per]
    kept = np.take_along_axis(valid, best, axis=1)
    return np.broadcast_to(owner[:, None], kept.shape)[kept], np.take_along_axis(drawn, best, axis=1)[kept]


def _single(values: np.ndarray) -> Keys:
    present = np.flatnonzero(values >= 0)
    return present, values[present].astype(np.int64)


def _employer(cohort: Cohort, people: np.ndarray) -> Keys:
    return _single(cohort.employer[people])


def _region(cohort: Cohort, people: np.ndarray) -> Keys:
    return _single(cohort.region[people])


def _anyone(cohort: Cohort, people: np.ndarray) -> Keys:
    return np.arange(len(people)), np.zeros(len(people), dtype=np.int64)


def _region_specialty(cohort: Cohort, people: np.ndarray) -> Keys:
    region, specialty = cohort.region[people].astype(np.int64), cohort.specialty[people]
    return _single(np.where(specialty >= 0, region * (cohort.affinity.shape[0] + 1) + specialty, -1))


def _region_fit(cohort: Cohort, people: np.ndarray) -> Keys:
    """Managers by (region, employer type); clinicians under every employer type their specialty fits."""
    region = cohort.region[people].astype(np.int64)
    n_types = cohort.affinity.shape[1]
    clinician = cohort.role[people] == CLINICIAN
    owners, keys = (
        [np.flatnonzero(~clinician)],
        [region[~clinician] * n_types + cohort.employer_type[people][~clinician]],
    )
    fits = cohort.affinity[cohort.specialty[people]] > 0  # (people, employer types)
    person, employer_type = np.nonzero(fits & clinician[:, None])
    owners.append(person)
    keys.append(region[person] * n_types + employer_type)
    owner, key = np.concatenate(owners), np.concatenate(keys)
    keep = (region[owner] >= 0) & (key % n_types != n_types - 1)  # region known, type known
    return owner[keep], key[keep]


def _region_interest(cohort: Cohort, people: np.ndarray) -> Keys:
    masks = cohort.interests[people]
    words = masks.shape[1]
    bits = (masks[:, :, None] >> np.arange(16, dtype=np.uint16)) & 1  # (people, words, 16)
    person, word, bit = np.nonzero(bits)
    region = cohort.region[people].astype(np.int64)[person]
    keep = region >= 0
    return person[keep], (region * words * 16 + word * 16 + bit)[keep]


_FAMILIES: tuple[Callable[[Cohort, np.ndarray], Keys], ...] = (
    _employer,
    _region_fit,
    _region_interest,
    _region_specialty,
    _region,
    _anyone,
)
