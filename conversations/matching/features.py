"""Candidates encoded as numpy arrays, so scores can be computed for millions of pairs at once.

Every categorical field becomes an integer code (-1 when it cannot match anything: empty, or a specialty
of "other"); interests become bitmasks. Codes are only meaningful within one :class:`Cohort`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter

import numpy as np

from conversations.core.vocabulary import Role
from conversations.matching.affinity import affinity_table
from conversations.matching.types import Candidate

CLINICIAN, GENERAL_MANAGER, SPECIALIST_MANAGER = 0, 1, 2
ROLE_CODES = {Role.CLINICIAN.value: CLINICIAN, Role.GENERAL_MANAGER.value: GENERAL_MANAGER,
              Role.SPECIALIST_MANAGER.value: SPECIALIST_MANAGER}  # fmt: skip

_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.int8)


def norm_key(value: str) -> str:
    return value.strip().lower()


def norm_employer(value: str) -> str:
    """Employers are free text: compare them ignoring case and repeated spaces."""
    return " ".join(value.split()).casefold()


def role_code(candidate: Candidate) -> int:
    try:
        return ROLE_CODES[candidate.role]
    except KeyError:
        raise ValueError(f"participant {candidate.id} has unknown role {candidate.role!r}") from None


@dataclass(frozen=True)
class Names:
    """The normalised value behind each code, per field."""

    specialty: list[str]
    employer_type: list[str]
    region: list[str]
    interest: list[str]  # by bit


@dataclass(frozen=True, eq=False)
class Cohort:
    candidates: tuple[Candidate, ...]
    ids: np.ndarray  # int64
    order: np.ndarray  # int64, registration order
    role: np.ndarray  # int8, one of CLINICIAN / GENERAL_MANAGER / SPECIALIST_MANAGER
    specialty: np.ndarray  # int32 codes
    employer: np.ndarray
    employer_type: np.ndarray
    region: np.ndarray
    interests: np.ndarray  # (n, words) uint16 bitmasks
    affinity: np.ndarray  # (specialty codes + 1, employer-type codes + 1); code -1 hits the zero last row/col
    names: Names

    def __len__(self) -> int:
        return len(self.candidates)

    def shared_interests(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        both = self.interests[a] & self.interests[b]
        return _POPCOUNT16[both].sum(axis=1, dtype=np.int64)

    @cached_property
    def canonical_rank(self) -> np.ndarray:
        """Rank of each person in group-member order: clinicians, general, specialist; then registration."""
        ranked = np.lexsort((self.ids, self.order, self.role))
        rank = np.empty(len(self), dtype=np.int64)
        rank[ranked] = np.arange(len(self))
        return rank


def _codes(raw: list[str], normalize: Callable[[str], str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 where the normalised value is empty) and the distinct values in code order.

    Normalises each distinct raw value once: cohorts repeat the same few strings many times.
    """
    normalized = {value: normalize(value) for value in set(raw)}
    distinct = sorted(set(normalized.values()) - {""})
    index = {value: i for i, value in enumerate(distinct)}
    code = {value: index.get(norm, -1) for value, norm in normalized.items()}
    return np.fromiter(map(code.__getitem__, raw), dtype=np.int32, count=len(raw)), distinct


def _specialty_key(value: str) -> str:
    key = norm_key(value)
    return "" if key == "other" else key  # "other" says nothing two people have in common


def _interest_masks(people: tuple[Candidate, ...]) -> tuple[np.ndarray, list[str]]:
    sets = {c.interests for c in people}
    normalized = {s: {norm_key(i) for i in s} - {""} for s in sets}
    names = sorted(set().union(*normalized.values()))
    bit = {name: i for i, name in enumerate(names)}
    words = max(1, -(-len(names) // 16))
    row_of = {s: row for row, s in enumerate(sets)}
    distinct = np.zeros((len(sets), words), dtype=np.uint16)
    for s, row in row_of.items():
        for name in normalized[s]:
            distinct[row, bit[name] // 16] |= np.uint16(1 << (bit[name] % 16))
    rows = np.fromiter(map(row_of.__getitem__, map(attrgetter("interests"), people)), np.int64, len(people))
    return distinct[rows], names


def _role_codes(people: tuple[Candidate, ...]) -> np.ndarray:
    roles = list(map(attrgetter("role"), people))
    if not set(roles) <= ROLE_CODES.keys():
        for candidate in people:
            role_code(candidate)  # raises for the first unknown role
    return np.fromiter(map(ROLE_CODES.__getitem__, roles), dtype=np.int8, count=len(people))


def encode(candidates: Sequence[Candidate]) -> Cohort:
    people = tuple(candidates)
    specialty, specialty_names = _codes(list(map(attrgetter("specialty"), people)), _specialty_key)
    employer_type, type_names = _codes(list(map(attrgetter("employer_type"), people)), norm_key)
    region, region_names = _codes(list(map(attrgetter("region"), people)), norm_key)
    interests, interest_names = _interest_masks(people)
    table = affinity_table()
    affinity = np.zeros((len(specialty_names) + 1, len(type_names) + 1))
    for i, s in enumerate(specialty_names):
        for j, t in enumerate(type_names):
            affinity[i, j] = table.of(s, t)
    return Cohort(
        candidates=people,
        ids=np.fromiter(map(attrgetter("id"), people), dtype=np.int64, count=len(people)),
        order=np.fromiter(map(attrgetter("order"), people), dtype=np.int64, count=len(people)),
        role=_role_codes(people),
        specialty=specialty,
        employer=_codes(list(map(attrgetter("employer"), people)), norm_employer)[0],
        employer_type=employer_type,
        region=region,
        interests=interests,
        affinity=affinity,
        names=Names(specialty_names, type_names, region_names, interest_names),
    )
