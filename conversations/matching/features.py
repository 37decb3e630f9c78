"""Candidates encoded as numpy arrays, so scores can be computed for millions of pairs at once.

Every categorical field becomes an integer code (-1 when it cannot match anything: empty, or a specialty
of "other"); interests become bitmasks. Codes are only meaningful within one :class:`Cohort`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conversations.matching.affinity import affinity_table
from conversations.matching.types import Candidate
from conversations.vocabulary import Role

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

    def __len__(self) -> int:
        return len(self.candidates)

    def shared_interests(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        both = self.interests[a] & self.interests[b]
        return _POPCOUNT16[both].sum(axis=1, dtype=np.int64)

    def canonical_rank(self) -> np.ndarray:
        """Rank of each person in group-member order: clinicians, general, specialist; then registration."""
        ranked = np.lexsort((self.ids, self.order, self.role))
        rank = np.empty(len(self), dtype=np.int64)
        rank[ranked] = np.arange(len(self))
        return rank


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for non-empty values (-1 for empty), and the distinct values in code order."""
    distinct = sorted({v for v in values if v})
    index = {v: i for i, v in enumerate(distinct)}
    return np.array([index.get(v, -1) for v in values], dtype=np.int32), distinct


def encode(candidates: Sequence[Candidate]) -> Cohort:
    people = tuple(candidates)
    specialties = [norm_key(c.specialty) for c in people]
    specialty, specialty_names = _codes([s if s != "other" else "" for s in specialties])
    employer_type, type_names = _codes([norm_key(c.employer_type) for c in people])
    interest_sets = [{norm_key(i) for i in c.interests} - {""} for c in people]
    interest_names = sorted(set().union(*interest_sets)) if people else []
    bit = {name: i for i, name in enumerate(interest_names)}
    words = max(1, -(-len(interest_names) // 16))
    masks = np.zeros((len(people), words), dtype=np.uint16)
    for row, names in enumerate(interest_sets):
        for name in names:
            masks[row, bit[name] // 16] |= np.uint16(1 << (bit[name] % 16))
    table = affinity_table()
    affinity = np.zeros((len(specialty_names) + 1, len(type_names) + 1))
    for i, s in enumerate(specialty_names):
        for j, t in enumerate(type_names):
            affinity[i, j] = table.of(s, t)
    return Cohort(
        candidates=people,
        ids=np.array([c.id for c in people], dtype=np.int64),
        order=np.array([c.order for c in people], dtype=np.int64),
        role=np.array([role_code(c) for c in people], dtype=np.int8),
        specialty=specialty,
        employer=_codes([norm_employer(c.employer) for c in people])[0],
        employer_type=employer_type,
        region=_codes([norm_key(c.region) for c in people])[0],
        interests=masks,
        affinity=affinity,
    )
