"""Groups with their score and the few reasons a coordinator would give for them.

Reasons mirror the score: each one is a term of it (an affinity, a shared employer, region, specialty or
interest) and they rank by how much they add, ties in that order. They are computed for all groups at
once, and each distinct sentence is written once (groups sharing a reason share its string), so a
national cohort's plan does not spend its time writing sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache, partial
from itertools import combinations

import numpy as np

from conversations.core.vocabulary import INTERESTS, REGIONS, SPECIALTIES
from conversations.matching.affinity import affinity_table
from conversations.matching.features import CLINICIAN, Cohort, encode
from conversations.matching.rules import group_violations
from conversations.matching.scoring import group_scores, in_member_order
from conversations.matching.types import Candidate, Group, MatchRules, Weights

MAX_REASONS = 3

# A slot's reasons: for each group row a key that decides the text, and the text of a key. Rows sharing a
# key share one string, so a large plan writes a few hundred sentences, not one per reason.
Phrase = tuple[np.ndarray, Callable[[int], str]]


def explain_group(members: Sequence[Candidate], rules: MatchRules) -> Group:
    """Score and reasons for any group, e.g. one a coordinator built by hand.

    Raises ValueError naming the participants (by id) when the group breaks a hard rule.
    """
    problems = list(group_violations(members, rules))
    if problems:
        raise ValueError("; ".join(problems))
    cohort = encode(members)
    return build_groups(cohort, in_member_order(cohort, np.arange(len(members))[None, :]), rules.weights)[0]


def build_groups(cohort: Cohort, members: np.ndarray, weights: Weights) -> list[Group]:
    """Groups from rows of cohort indices (all rows the same size) already in member order."""
    scores = group_scores(cohort, members, weights).tolist()
    ids = cohort.ids[members].tolist()
    return [
        Group(members=tuple(row), score=score, reasons=why)
        for row, score, why in zip(ids, scores, group_reasons(cohort, members, weights), strict=True)
    ]


def group_reasons(cohort: Cohort, members: np.ndarray, weights: Weights) -> list[tuple[str, ...]]:
    """For each group row, its strongest reasons, best first."""
    values: list[np.ndarray] = []
    phrases: list[Phrase] = []
    _affinity(cohort, members, weights, values, phrases)
    _shared_fields(cohort, members, weights, values, phrases)
    _shared_interests(cohort, members, weights, values, phrases)
    value = np.column_stack(values)
    best = np.argsort(-value, axis=1, kind="stable")[:, :MAX_REASONS]  # ties in slot order
    kept = np.take_along_axis(value, best, axis=1) > 0  # a prefix of each row: values are sorted
    texts = np.empty(best.shape, dtype=object)
    rows, rank = np.nonzero(kept)
    slots = best[rows, rank]
    for slot in np.unique(slots).tolist():
        chosen = slots == slot
        keys, text = phrases[slot]
        distinct, which = np.unique(keys[rows[chosen]], return_inverse=True)
        words = np.array([text(key) for key in distinct.tolist()], dtype=object)
        texts[rows[chosen], rank[chosen]] = words[which]
    return [tuple(row[:n]) for row, n in zip(texts.tolist(), kept.sum(axis=1).tolist(), strict=True)]


def _affinity(
    cohort: Cohort, members: np.ndarray, weights: Weights, values: list[np.ndarray], phrases: list[Phrase]
) -> None:
    """One slot per clinician-manager member pair; a pair repeating an earlier pair's phrase adds to it."""
    n_types = cohort.affinity.shape[1]
    size = members.shape[1]
    slot_values: list[np.ndarray] = []
    slot_keys: list[np.ndarray] = []
    for i, j in combinations(range(size), 2):
        a, b = members[:, i], members[:, j]
        clinician_first = (cohort.role[a] == CLINICIAN) & (cohort.role[b] != CLINICIAN)
        clinician_second = (cohort.role[b] == CLINICIAN) & (cohort.role[a] != CLINICIAN)
        specialty = cohort.specialty[np.where(clinician_first, a, b)]
        kind = cohort.employer_type[np.where(clinician_first, b, a)]
        value = np.where(
            clinician_first | clinician_second, weights.affinity * cohort.affinity[specialty, kind], 0.0
        )
        key = np.where(value > 0, specialty.astype(np.int64) * n_types + kind, -1)
        for earlier, earlier_key in zip(slot_values, slot_keys, strict=True):
            repeat = (key == earlier_key) & (key >= 0)
            earlier[repeat] += value[repeat]
            value = np.where(repeat, 0.0, value)
        slot_values.append(value)
        slot_keys.append(key)
        phrases.append((key, partial(_affinity_phrase, cohort, n_types)))
    values.extend(slot_values)


def _shared_fields(
    cohort: Cohort, members: np.ndarray, weights: Weights, values: list[np.ndarray], phrases: list[Phrase]
) -> None:
    """Same employer, region and specialty: worth the weight once per pair of members sharing it."""
    size = members.shape[1]
    # The employer is named as its first holder wrote it; a region or specialty by its code.
    fields: list[tuple[np.ndarray, float, Callable[[int, int, int], str], bool]] = [
        (
            cohort.employer,
            weights.same_employer,
            lambda person, code, n: _same_employer(cohort, person),
            True,
        ),
        (
            cohort.region,
            weights.same_region,
            lambda person, code, n: f"{_together(n, size)} in {_region(cohort, code)}",
            False,
        ),
        (
            cohort.specialty,
            weights.same_specialty,
            lambda person, code, n: f"{_together(n, size)} in {_specialty(cohort.names.specialty[code])}",
            False,
        ),
    ]
    for codes, weight, phrase, by_person in fields:
        equal_pairs = np.zeros(len(members), dtype=np.int64)
        holder = np.full(len(members), -1, dtype=np.int64)  # the first member holding the shared value
        for i, j in combinations(range(size), 2):
            same = (codes[members[:, i]] == codes[members[:, j]]) & (codes[members[:, i]] >= 0)
            equal_pairs += same
            holder = np.where(same & (holder < 0), members[:, i], holder)
        values.append(weight * equal_pairs)
        holders = np.where(equal_pairs == 3, 3, 2)  # one equal pair: two holders; three: all three
        if by_person:
            phrases.append((holder, partial(_person_phrase, phrase)))
        else:  # -1 (nothing shared) only where the slot is worth nothing, so never phrased
            phrases.append((codes[holder] * 4 + holders, partial(_code_phrase, phrase)))


def _shared_interests(
    cohort: Cohort, members: np.ndarray, weights: Weights, values: list[np.ndarray], phrases: list[Phrase]
) -> None:
    """One slot per interest, in name order: worth the weight once per pair of members sharing it."""
    size = members.shape[1]
    for bit, name in enumerate(cohort.names.interest):
        word, mask = bit // 16, np.uint16(1 << (bit % 16))
        holders = ((cohort.interests[members, word] & mask) > 0).sum(axis=1)
        values.append(weights.shared_interest * (holders * (holders - 1) // 2))
        label = INTERESTS.get(name, name)
        phrases.append((holders, partial(_interest_phrase, size, label)))


def _affinity_phrase(cohort: Cohort, n_types: int, key: int) -> str:
    return _affinity_text(cohort.names.specialty[key // n_types], cohort.names.employer_type[key % n_types])


@cache
def _affinity_text(specialty: str, employer_type: str) -> str:
    return f"{_specialty(specialty)} trainee with {affinity_table().manager_phrase[employer_type]}"


def _person_phrase(phrase: Callable[[int, int, int], str], person: int) -> str:
    return phrase(person, -1, 0)


def _code_phrase(phrase: Callable[[int, int, int], str], key: int) -> str:
    return phrase(-1, key // 4, key % 4)


def _interest_phrase(size: int, label: str, holders: int) -> str:
    return f"{_together(holders, size)} interested in {label}"


def _together(holders: int, size: int) -> str:
    if holders == size:
        return "both" if size == 2 else "all three"
    return "two of the three"


def _same_employer(cohort: Cohort, person: int) -> str:
    return _same_employer_text(cohort.candidates[person].employer)


@lru_cache(maxsize=4096)  # employers are free text: bounded, unlike the vocabulary's phrases
def _same_employer_text(employer: str) -> str:
    return f"same employer ({' '.join(employer.split())})"


def _region(cohort: Cohort, code: int) -> str:
    name = cohort.names.region[code]
    return REGIONS.get(name, name)


@cache
def _specialty(name: str) -> str:
    """ "foundation" -> "foundation" (not "foundation (not yet specialised)"); unknown names as written."""
    label = SPECIALTIES.get(name, name)
    return re.sub(r"\s*\(.*\)", "", label).lower()
