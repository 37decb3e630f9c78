"""Cohorts of many shapes, for the benchmark and the tests: the matcher must be good on all of them.

Each :class:`Shape` changes one thing a new region could bring (the role mix, how employers are spread,
how many distinct values there are, where people are, how long their history is); :data:`SHAPES` names
the ones the benchmark runs, and :func:`random_shape` draws arbitrary ones for property tests.

The ``nhs`` shape is built from public NHS England figures, rounded: organisations by type per NHS
England region (NHS England's list of trusts and integrated care boards, 2023: about 140 acute, 50
mental health, 15 community and 10 ambulance trusts, 42 ICBs, and about 1,250 primary care networks) and
doctors in training by specialty (NHS Digital's workforce statistics: foundation, general practice and
medicine the largest groups).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from conversations.core.vocabulary import INTERESTS, REGIONS, SPECIALIST_AREAS, EmployerType
from conversations.matching.synthetic import (
    CLINICIAN_EMPLOYERS,
    CLINICIAN_GRADES,
    EMPLOYERS_PER_REGION,
    INTEREST_WEIGHTS,
    MANAGER_EMPLOYERS,
    REGION_WEIGHTS,
    SPECIALTIES_BY_EMPLOYER,
)
from conversations.matching.types import Candidate, MatchRules, Pairs

ACUTE, MH, COMMUNITY, PRIMARY, AMBULANCE, ICB = (
    EmployerType.ACUTE, EmployerType.MENTAL_HEALTH, EmployerType.COMMUNITY, EmployerType.PRIMARY_CARE,
    EmployerType.AMBULANCE, EmployerType.COMMISSIONER,
)  # fmt: skip

# NHS England's seven regions: trusts by type, ICBs and (about) primary care networks. Rounded.
NHS_EMPLOYERS = {
    "london": {ACUTE: 18, MH: 9, COMMUNITY: 2, AMBULANCE: 1, ICB: 5, PRIMARY: 200},
    "south_east": {ACUTE: 17, MH: 6, COMMUNITY: 4, AMBULANCE: 2, ICB: 6, PRIMARY: 200},
    "south_west": {ACUTE: 14, MH: 5, COMMUNITY: 2, AMBULANCE: 1, ICB: 7, PRIMARY: 130},
    "midlands": {ACUTE: 22, MH: 11, COMMUNITY: 3, AMBULANCE: 2, ICB: 11, PRIMARY: 230},
    "east_of_england": {ACUTE: 15, MH: 4, COMMUNITY: 4, AMBULANCE: 1, ICB: 6, PRIMARY: 140},
    "north_west": {ACUTE: 18, MH: 7, COMMUNITY: 1, AMBULANCE: 1, ICB: 3, PRIMARY: 160},
    "north_east_yorkshire": {ACUTE: 22, MH: 8, COMMUNITY: 1, AMBULANCE: 2, ICB: 4, PRIMARY: 190},
}
NHS_REGION_WEIGHTS = {  # population, millions
    "london": 9.0, "south_east": 9.3, "south_west": 5.7, "midlands": 10.9,
    "east_of_england": 6.4, "north_west": 7.4, "north_east_yorkshire": 8.6,
}  # fmt: skip
# Doctors in training by specialty, percent (rounded); each goes to the employer types that train it.
NHS_SPECIALTIES = {
    "foundation": (17, {ACUTE: 0.9, MH: 0.05, PRIMARY: 0.05}),
    "general_practice": (21, {PRIMARY: 0.65, ACUTE: 0.3, MH: 0.05}),
    "medicine": (20, {ACUTE: 0.95, COMMUNITY: 0.05}),
    "surgery": (10, {ACUTE: 1.0}),
    "anaesthetics": (8, {ACUTE: 1.0}),
    "paediatrics": (6, {ACUTE: 0.85, COMMUNITY: 0.15}),
    "psychiatry": (7, {MH: 1.0}),
    "obstetrics_gynaecology": (4, {ACUTE: 1.0}),
    "emergency_medicine": (4, {ACUTE: 0.95, AMBULANCE: 0.05}),
    "radiology": (2, {ACUTE: 1.0}),
    "pathology": (1, {ACUTE: 1.0}),
    "public_health": (1, {ICB: 1.0}),
}
# Management trainees (the NHS graduate scheme and local schemes) by employer type.
NHS_MANAGER_EMPLOYERS = {ACUTE: 0.55, MH: 0.12, COMMUNITY: 0.06, PRIMARY: 0.05, AMBULANCE: 0.04, ICB: 0.18}


@dataclass(frozen=True)
class Shape:
    """How a synthetic cohort is drawn. Defaults give the usual national mix."""

    roles: tuple[float, float, float] = (0.47, 0.43, 0.10)  # clinician, general manager, specialist
    regions: dict[str, float] = field(default_factory=lambda: dict(REGION_WEIGHTS))
    # Regions per role, where roles cluster in different places (None: everyone by `regions`).
    manager_regions: dict[str, float] | None = None
    employers: dict[str, dict[EmployerType, int]] | None = None  # per region; None: EMPLOYERS_PER_REGION
    employer_scale: float = 1.0  # multiplies employer counts (hundreds of employers: more)
    dominant: float = 0.0  # share of everyone at one large acute trust
    clinician_employers: dict[EmployerType, float] = field(default_factory=lambda: dict(CLINICIAN_EMPLOYERS))
    manager_employers: dict[EmployerType, float] = field(default_factory=lambda: dict(MANAGER_EMPLOYERS))
    specialties: Mapping[str, tuple[float, Mapping[EmployerType, float]]] | None = None  # None: by employer
    interests: int = len(INTERESTS)  # how many distinct interests people choose from
    max_interests: int = 3
    manager_specialty: float = 0.3  # share of general managers naming a service area
    past_buddies: float = 0.03  # past-buddy pairs per person
    past_local: float = 0.0  # share of past buddies at the same employer (a long local history)
    exclusions: float = 0.005


SHAPES: dict[str, Shape] = {
    "national": Shape(),
    "clinician_heavy": Shape(roles=(0.72, 0.16, 0.12), dominant=0.4),
    "manager_heavy": Shape(roles=(0.2, 0.5, 0.3), employer_scale=12.0),
    "many_employers": Shape(employer_scale=25.0),
    "ties": Shape(
        regions={"london": 1.0, "midlands": 1.0},
        employers={r: {ACUTE: 2, MH: 1} for r in ("london", "midlands")},
        clinician_employers={ACUTE: 0.8, MH: 0.2},
        manager_employers={ACUTE: 0.7, MH: 0.3},
        interests=2,
        max_interests=1,
        manager_specialty=0.0,
    ),
    "region_clustered": Shape(
        regions={"london": 6.0, "north_west": 2.0, "south_west": 1.0, "wales": 1.0},
        manager_regions={"london": 1.0, "north_west": 4.0, "south_west": 4.0, "wales": 1.0},
    ),
    "long_history": Shape(past_buddies=6.0, past_local=0.8, exclusions=0.05),
    "nhs": Shape(
        roles=(0.50, 0.40, 0.10),
        regions=NHS_REGION_WEIGHTS,
        employers=NHS_EMPLOYERS,
        manager_employers=NHS_MANAGER_EMPLOYERS,
        specialties=NHS_SPECIALTIES,
    ),
}


def shaped_cohort(shape: Shape | str, n: int, seed: int) -> tuple[list[Candidate], MatchRules]:
    """`n` candidates drawn by `shape` (or a name in :data:`SHAPES`), and rules with their history."""
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    rng = np.random.default_rng(seed)
    employers = _employers(shape)
    role = rng.choice(3, size=n, p=np.array(shape.roles) / sum(shape.roles))
    region_names = list(shape.regions)
    region = _draw(rng, shape.regions, n)
    if shape.manager_regions is not None:
        managers = role > 0
        region[managers] = _draw(rng, {r: shape.manager_regions.get(r, 0.0) for r in region_names}, n)[
            managers
        ]
    specialty_of: list[str] = [""] * n
    kind = np.empty(n, dtype=object)
    clinician = np.flatnonzero(role == 0)
    if shape.specialties is not None:
        names = list(shape.specialties)
        picked = _draw(rng, {s: shape.specialties[s][0] for s in names}, len(clinician))
        for who, s in zip(clinician.tolist(), picked.tolist(), strict=True):
            specialty_of[who] = names[s]
            kind[who] = _pick_one(rng, shape.specialties[names[s]][1])
    else:
        types = list(shape.clinician_employers)
        for who, t in zip(
            clinician.tolist(), _draw(rng, shape.clinician_employers, len(clinician)), strict=True
        ):
            kind[who] = types[t]
    others = np.flatnonzero(role > 0)
    types = list(shape.manager_employers)
    for who, t in zip(others.tolist(), _draw(rng, shape.manager_employers, len(others)), strict=True):
        kind[who] = types[t]
    employer = np.empty(n, dtype=np.int64)
    for i in range(n):
        options = employers.by_key.get((kind[i], region_names[region[i]]))
        if not options:  # no such employer in the region: any employer of that region
            options = employers.by_region[region_names[region[i]]]
        employer[i] = options[rng.integers(len(options))]
    if shape.dominant:
        big = employers.by_key.get((ACUTE, region_names[0])) or employers.by_region[region_names[0]]
        moved = rng.random(n) < shape.dominant
        employer[moved] = big[0]
    interest_keys = list(INTERESTS)[: shape.interests]
    interest_p = INTEREST_WEIGHTS[: shape.interests] / INTEREST_WEIGHTS[: shape.interests].sum()
    people = []
    for i in range(n):
        name, emp_kind, emp_region = employers.rows[employer[i]]
        if role[i] == 0:
            specialty = specialty_of[i] or str(rng.choice(SPECIALTIES_BY_EMPLOYER[emp_kind]))
        elif role[i] == 1 and rng.random() < shape.manager_specialty:
            specialty = str(rng.choice(SPECIALTIES_BY_EMPLOYER[emp_kind]))
        else:
            specialty = "operations" if role[i] == 1 else ""
        count = min(int(rng.integers(1, shape.max_interests + 1)), len(interest_keys))
        chosen = rng.choice(len(interest_keys), size=count, replace=False, p=interest_p)
        people.append(
            Candidate(
                id=100_000 + i,
                role=("clinician", "general_manager", "specialist_manager")[role[i]],
                order=i,
                specialty=specialty,
                employer=name,
                employer_type=emp_kind.value,
                region=emp_region,
                grade=str(rng.choice(CLINICIAN_GRADES)) if role[i] == 0 else "",
                interests=frozenset(interest_keys[k] for k in chosen),
                specialist_area=str(rng.choice(list(SPECIALIST_AREAS))) if role[i] == 2 else "",
            )
        )
    return people, MatchRules(
        past_buddies=_history(rng, employer, shape.past_buddies, shape.past_local),
        exclusions=_history(rng, employer, shape.exclusions, 0.0),
    )


def random_shape(rng: np.random.Generator) -> Shape:
    """An arbitrary shape: role mix, regions, employers, ties and history all drawn at random."""
    regions = list(REGIONS)[: int(rng.integers(1, len(REGIONS) + 1))]
    clinician, manager = rng.uniform(0.1, 1.0, size=2)
    clustered = rng.random() < 0.3
    return Shape(
        roles=(float(clinician), float(manager), float(rng.uniform(0.0, 0.4))),
        regions={r: float(w) for r, w in zip(regions, rng.uniform(0.1, 1.0, len(regions)), strict=True)},
        manager_regions={
            r: float(w) for r, w in zip(regions, rng.uniform(0.1, 1.0, len(regions)), strict=True)
        }
        if clustered
        else None,
        employer_scale=float(rng.choice([0.2, 1.0, 5.0, 20.0])),
        dominant=float(rng.choice([0.0, 0.0, 0.3, 0.7])),
        interests=int(rng.integers(1, len(INTERESTS) + 1)),
        max_interests=int(rng.integers(1, 4)),
        manager_specialty=float(rng.uniform(0.0, 1.0)),
        past_buddies=float(rng.choice([0.0, 0.03, 1.0, 5.0])),
        past_local=float(rng.uniform(0.0, 1.0)),
        exclusions=float(rng.choice([0.0, 0.01, 0.2])),
    )


@dataclass(frozen=True)
class _Employers:
    rows: list[tuple[str, EmployerType, str]]  # name, type, region
    by_key: dict[tuple[EmployerType, str], list[int]]
    by_region: dict[str, list[int]]


def _employers(shape: Shape) -> _Employers:
    rows = []
    for region in shape.regions:
        counts = (
            (shape.employers or {}).get(region, EMPLOYERS_PER_REGION)
            if shape.employers
            else EMPLOYERS_PER_REGION
        )
        for kind, count in counts.items():
            for i in range(max(1, round(count * shape.employer_scale))):
                rows.append((f"{REGIONS[region]} {kind.value.replace('_', ' ')} {i + 1}", kind, region))
    by_key: dict[tuple[EmployerType, str], list[int]] = {}
    by_region: dict[str, list[int]] = {}
    for e, (_, kind, region) in enumerate(rows):
        by_key.setdefault((kind, region), []).append(e)
        by_region.setdefault(region, []).append(e)
    return _Employers(rows, by_key, by_region)


def _draw(rng: np.random.Generator, table: Mapping, size: int) -> np.ndarray:
    p = np.array(list(table.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _pick_one(rng: np.random.Generator, table: Mapping[EmployerType, float]) -> EmployerType:
    keys = list(table)
    return keys[int(_draw(rng, table, 1)[0])]


def _history(rng: np.random.Generator, employer: np.ndarray, rate: float, local: float) -> Pairs:
    """About `rate` pairs per person, a share `local` of them between colleagues at one employer."""
    n = len(employer)
    count = int(n * rate)
    if n < 2 or not count:
        return Pairs()
    a = rng.integers(n, size=count)
    b = rng.integers(n, size=count)
    by_employer = np.argsort(employer, kind="stable")
    sorted_employer = employer[by_employer]
    lo = np.searchsorted(sorted_employer, employer[a], side="left")
    size = np.searchsorted(sorted_employer, employer[a], side="right") - lo
    colleague = by_employer[lo + (rng.random(count) * size).astype(np.int64)]
    b = np.where(rng.random(count) < local, colleague, b)
    return Pairs(100_000 + np.column_stack([a, b]))  # a pair of one person twice is dropped
