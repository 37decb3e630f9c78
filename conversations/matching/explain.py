"""Groups with their score and the few reasons a coordinator would give for them."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations
from math import comb

import numpy as np

from conversations.matching.affinity import affinity_table
from conversations.matching.features import CLINICIAN, Cohort, encode, norm_employer, norm_key, role_code
from conversations.matching.rules import group_violations
from conversations.matching.scoring import group_scores, in_member_order
from conversations.matching.types import Candidate, Group, MatchRules, Weights
from conversations.vocabulary import INTERESTS, REGIONS, SPECIALTIES

MAX_REASONS = 3


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
    """Groups from rows of cohort indices already in member order."""
    scores = group_scores(cohort, members, weights)
    return [
        Group(
            members=tuple(int(cohort.ids[i]) for i in row),
            score=float(score),
            reasons=reasons([cohort.candidates[i] for i in row], weights),
        )
        for row, score in zip(members, scores, strict=True)
    ]


def reasons(members: Sequence[Candidate], weights: Weights) -> tuple[str, ...]:
    """The strongest reasons, best first: each phrase ranks by the score it brings to the group."""
    found: defaultdict[str, float] = defaultdict(float)
    table = affinity_table()
    for x, y in combinations(members, 2):
        clinician, manager = sorted((x, y), key=lambda m: role_code(m) != CLINICIAN)
        if role_code(clinician) == CLINICIAN and role_code(manager) != CLINICIAN:
            employer_type = norm_key(manager.employer_type)
            strength = table.of(norm_key(clinician.specialty), employer_type)
            if strength > 0:
                phrase = (
                    f"{_specialty(clinician.specialty)} trainee with {table.manager_phrase[employer_type]}"
                )
                found[phrase] += weights.affinity * strength
    size = len(members)
    for holders in _sharing(members, lambda m: [norm_employer(m.employer)]):
        found[f"same employer ({holders[0].employer.strip()})"] += weights.same_employer * comb(
            len(holders), 2
        )
    for holders in _sharing(members, lambda m: [norm_key(m.region)]):
        region = REGIONS.get(norm_key(holders[0].region), holders[0].region.strip())
        found[f"{_together(len(holders), size)} in {region}"] += weights.same_region * comb(len(holders), 2)
    for holders in _sharing(
        members, lambda m: [norm_key(m.specialty)] if norm_key(m.specialty) != "other" else []
    ):
        phrase = f"{_together(len(holders), size)} in {_specialty(holders[0].specialty)}"
        found[phrase] += weights.same_specialty * comb(len(holders), 2)
    for interest, holders in _sharing_by_value(members, lambda m: [norm_key(i) for i in m.interests]).items():
        phrase = f"{_together(len(holders), size)} interested in {INTERESTS.get(interest, interest)}"
        found[phrase] += weights.shared_interest * comb(len(holders), 2)
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return tuple(phrase for phrase, value in ranked if value > 0)[:MAX_REASONS]


def _sharing_by_value(
    members: Sequence[Candidate], values: Callable[[Candidate], Iterable[str]]
) -> dict[str, list[Candidate]]:
    """Each non-empty value held by two or more members, with its holders."""
    holders: defaultdict[str, list[Candidate]] = defaultdict(list)
    for member in members:
        for value in set(values(member)) - {""}:
            holders[value].append(member)
    return {value: group for value, group in sorted(holders.items()) if len(group) >= 2}


def _sharing(
    members: Sequence[Candidate], values: Callable[[Candidate], Iterable[str]]
) -> list[list[Candidate]]:
    return list(_sharing_by_value(members, values).values())


def _together(holders: int, size: int) -> str:
    if holders == size:
        return "both" if size == 2 else "all three"
    return "two of the three"


def _specialty(value: str) -> str:
    """ "Foundation (not yet specialised)" -> "foundation"; unknown specialties as written."""
    label = SPECIALTIES.get(norm_key(value), value.strip())
    return re.sub(r"\s*\(.*\)", "", label).lower()
