"""Synthetic cohorts with a realistic NHS mix, for the benchmark, the tests and demos.

Employers belong to a region and have a type; clinicians' specialties follow their employer type
(psychiatry in mental health trusts, general practice in primary care...), managers are spread more
evenly across employer types, everyone has one to three interests, and a few pairs are past buddies or
excluded by the coordinator.
"""

from __future__ import annotations

import numpy as np

from conversations.core.vocabulary import INTERESTS, REGIONS, SPECIALIST_AREAS, EmployerType, Role
from conversations.matching.types import Candidate, MatchRules, Pairs

ROLE_MIX = {Role.CLINICIAN: 0.47, Role.GENERAL_MANAGER: 0.43, Role.SPECIALIST_MANAGER: 0.10}
REGION_WEIGHTS = {
    "london": 16, "midlands": 18, "north_east_yorkshire": 15, "north_west": 13, "south_east": 15,
    "south_west": 10, "east_of_england": 11, "scotland": 1, "wales": 1, "northern_ireland": 1,
}  # fmt: skip
EMPLOYERS_PER_REGION = {
    EmployerType.ACUTE: 18, EmployerType.MENTAL_HEALTH: 4, EmployerType.COMMUNITY: 3,
    EmployerType.PRIMARY_CARE: 6, EmployerType.AMBULANCE: 1, EmployerType.COMMISSIONER: 2,
}  # fmt: skip
CLINICIAN_EMPLOYERS = {
    EmployerType.ACUTE: 0.65, EmployerType.MENTAL_HEALTH: 0.12, EmployerType.COMMUNITY: 0.06,
    EmployerType.PRIMARY_CARE: 0.12, EmployerType.AMBULANCE: 0.02, EmployerType.COMMISSIONER: 0.03,
}  # fmt: skip
MANAGER_EMPLOYERS = {
    EmployerType.ACUTE: 0.45, EmployerType.MENTAL_HEALTH: 0.12, EmployerType.COMMUNITY: 0.10,
    EmployerType.PRIMARY_CARE: 0.10, EmployerType.AMBULANCE: 0.05, EmployerType.COMMISSIONER: 0.18,
}  # fmt: skip
SPECIALTIES_BY_EMPLOYER = {
    EmployerType.ACUTE: ["medicine", "surgery", "anaesthetics", "emergency_medicine", "paediatrics",
                         "obstetrics_gynaecology", "radiology", "pathology", "foundation"],
    EmployerType.MENTAL_HEALTH: ["psychiatry"],
    EmployerType.COMMUNITY: ["paediatrics", "medicine", "general_practice"],
    EmployerType.PRIMARY_CARE: ["general_practice"],
    EmployerType.AMBULANCE: ["emergency_medicine"],
    EmployerType.COMMISSIONER: ["public_health", "general_practice"],
}  # fmt: skip
CLINICIAN_GRADES = ["FY1", "FY2", "CT1", "CT2", "ST3", "ST4", "ST5", "ST6"]
INTEREST_WEIGHTS = np.array([10, 9, 5, 6, 5, 4, 4, 8, 3, 2], dtype=float)  # in INTERESTS order


def _pick(rng: np.random.Generator, table: dict, size: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def synthetic_cohort(
    n: int, seed: int, past_buddy_rate: float = 0.03, exclusion_rate: float = 0.005
) -> tuple[list[Candidate], MatchRules]:
    """`n` candidates and rules holding their past buddies and exclusions."""
    rng = np.random.default_rng(seed)
    employers = [
        (f"{REGIONS[region]} {kind.value.replace('_', ' ')} {i + 1}", kind.value, region)
        for region in REGION_WEIGHTS
        for kind, count in EMPLOYERS_PER_REGION.items()
        for i in range(count)
    ]
    by_key: dict[tuple[str, str], list[int]] = {}
    for e, (_, kind, region) in enumerate(employers):
        by_key.setdefault((kind, region), []).append(e)
    roles = _pick(rng, ROLE_MIX, n)
    regions = _pick(rng, REGION_WEIGHTS, n)
    clinician_types, manager_types = _pick(rng, CLINICIAN_EMPLOYERS, n), _pick(rng, MANAGER_EMPLOYERS, n)
    interest_keys = list(INTERESTS)
    people = []
    for i in range(n):
        role = roles[i]
        kind = clinician_types[i] if role == Role.CLINICIAN else manager_types[i]
        options = by_key[(kind.value, regions[i])]
        name, _, region = employers[options[rng.integers(len(options))]]
        if role == Role.CLINICIAN:
            specialty = str(rng.choice(SPECIALTIES_BY_EMPLOYER[kind]))
        elif role == Role.GENERAL_MANAGER and rng.random() < 0.3:
            specialty = str(rng.choice(SPECIALTIES_BY_EMPLOYER[kind]))
        else:
            specialty = "operations" if role == Role.GENERAL_MANAGER else ""
        chosen = rng.choice(
            len(interest_keys),
            size=rng.integers(1, 4),
            replace=False,
            p=INTEREST_WEIGHTS / INTEREST_WEIGHTS.sum(),
        )
        people.append(
            Candidate(
                id=100_000 + i,
                role=role.value,
                order=i,
                specialty=specialty,
                employer=name,
                employer_type=kind.value,
                region=region,
                grade=str(rng.choice(CLINICIAN_GRADES)) if role == Role.CLINICIAN else "",
                interests=frozenset(interest_keys[k] for k in chosen),
                specialist_area=str(rng.choice(list(SPECIALIST_AREAS)))
                if role == Role.SPECIALIST_MANAGER
                else "",
            )
        )
    return people, MatchRules(
        past_buddies=_random_pairs(rng, n, past_buddy_rate), exclusions=_random_pairs(rng, n, exclusion_rate)
    )


def _random_pairs(rng: np.random.Generator, n: int, rate: float) -> Pairs:
    count = int(n * rate)
    a, b = rng.integers(n, size=count), rng.integers(n, size=count)
    return Pairs(100_000 + np.column_stack([a, b]))  # a pair of one person twice is dropped
