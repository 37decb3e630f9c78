"""Groups with their score and the few reasons a coordinator would give for them.

Reasons mirror the score: each one is a term of it (an affinity, a shared employer, region, specialty or
interest) and they rank by how much they add, ties in that order. They are computed for all groups at
once, so a national cohort's plan does not spend its time writing sentences.
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

Phrase = Callable[[int], str]  # group row -> reason


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
    kept = np.take_along_axis(value, best, axis=1) > 0
    return [
        tuple(phrases[s](row) for s, keep in zip(slots, keeps, strict=True) if keep)
        for row, (slots, keeps) in enumerate(zip(best.tolist(), kept.tolist(), strict=True))
    ]


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
        phrases.append(partial(_affinity_phrase, cohort, specialty, kind))
    values.extend(slot_values)


def _shared_fields(
    cohort: Cohort, members: np.ndarray, weights: Weights, values: list[np.ndarray], phrases: list[Phrase]
) -> None:
    """Same employer, region and specialty: worth the weight once per pair of members sharing it."""
    size = members.shape[1]
    fields: list[tuple[np.ndarray, float, Callable[[int, int, int], str]]] = [
        (cohort.employer, weights.same_employer, lambda person, code, n: _same_employer(cohort, person)),
        (
            cohort.region,
            weights.same_region,
            lambda person, code, n: f"{_together(n, size)} in {_region(cohort, code)}",
        ),
        (
            cohort.specialty,
            weights.same_specialty,
            lambda person, code, n: f"{_together(n, size)} in {_specialty(cohort.names.specialty[code])}",
        ),
    ]
    for codes, weight, phrase in fields:
        equal_pairs = np.zeros(len(members), dtype=np.int64)
        holder = np.full(len(members), -1, dtype=np.int64)  # the first member holding the shared value
        for i, j in combinations(range(size), 2):
            same = (codes[members[:, i]] == codes[members[:, j]]) & (codes[members[:, i]] >= 0)
            equal_pairs += same
            holder = np.where(same & (holder < 0), members[:, i], holder)
        values.append(weight * equal_pairs)
        holders = np.where(equal_pairs == 3, 3, 2)  # one equal pair: two holders; three: all three
        phrases.append(partial(_field_phrase, phrase, holder, codes, holders))


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
        phrases.append(partial(_interest_phrase, holders, size, label))


def _affinity_phrase(cohort: Cohort, specialty: np.ndarray, kind: np.ndarray, row: int) -> str:
    return _affinity_text(cohort.names.specialty[specialty[row]], cohort.names.employer_type[kind[row]])


@cache
def _affinity_text(specialty: str, employer_type: str) -> str:
    return f"{_specialty(specialty)} trainee with {affinity_table().manager_phrase[employer_type]}"


def _field_phrase(
    phrase: Callable[[int, int, int], str],
    holder: np.ndarray,
    codes: np.ndarray,
    holders: np.ndarray,
    row: int,
) -> str:
    return phrase(int(holder[row]), int(codes[holder[row]]), int(holders[row]))


def _interest_phrase(holders: np.ndarray, size: int, label: str, row: int) -> str:
    return f"{_together(int(holders[row]), size)} interested in {label}"


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
