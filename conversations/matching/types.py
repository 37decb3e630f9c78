"""The matcher's inputs and outputs: plain, immutable data, nothing about storage or platforms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

import numpy as np


@dataclass(frozen=True)
class Candidate:
    id: int  # participant id
    role: str  # conversations.core.vocabulary.Role value
    order: int  # registration order: lower registered earlier (the waiting list is in this order)
    specialty: str = ""
    employer: str = ""
    employer_type: str = ""
    region: str = ""
    grade: str = ""
    interests: frozenset[str] = frozenset()
    specialist_area: str = ""


@dataclass(frozen=True)
class Weights:
    affinity: float = 3.0  # specialty <-> employer-type affinity table
    same_employer: float = 2.0
    same_region: float = 1.5
    shared_interest: float = 1.0  # per shared interest, capped at 3
    same_specialty: float = 1.0  # a manager's service area matching a clinician's specialty


class Pairs:
    """Unordered pairs of participant ids, as two int64 arrays (the smaller id of each pair first,
    sorted, no pair twice). A national cohort's history holds hundreds of thousands of pairs: as a set
    of two-element sets, reading them back took the matcher 0.35 s at 100,000 people with six past
    buddies each. Built from arrays, or from any pairs (a pair naming one person twice is dropped)."""

    __slots__ = ("first", "second")
    first: np.ndarray
    second: np.ndarray

    def __init__(self, pairs: Iterable[Iterable[int]] | np.ndarray | Pairs = ()) -> None:
        if isinstance(pairs, Pairs):
            self.first, self.second = pairs.first, pairs.second
            return
        if isinstance(pairs, np.ndarray):
            ends = pairs.astype(np.int64).reshape(-1, 2)
        else:
            given = list(pairs)
            try:  # tuples or lists of two: at C speed
                ends = np.array(given, dtype=np.int64).reshape(len(given), 2)
            except (TypeError, ValueError):  # sets, or pairs of other lengths
                two = [p for p in map(frozenset, given) if len(p) == 2]
                ends = np.fromiter(chain.from_iterable(two), dtype=np.int64, count=2 * len(two)).reshape(
                    -1, 2
                )
        low, high = ends.min(axis=1), ends.max(axis=1)
        keep = low != high
        low, high = low[keep], high[keep]
        order = np.lexsort((high, low))
        low, high = low[order], high[order]
        fresh = np.ones(len(low), dtype=bool)
        fresh[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
        self.first, self.second = low[fresh], high[fresh]
        self.first.flags.writeable = self.second.flags.writeable = False

    def __len__(self) -> int:
        return len(self.first)

    def __iter__(self) -> Iterator[frozenset[int]]:
        return (frozenset(pair) for pair in zip(self.first.tolist(), self.second.tolist(), strict=True))

    @property
    def ends(self) -> np.ndarray:
        """One row a pair: (smaller id, larger id)."""
        return np.column_stack([self.first, self.second])

    def _at(self, low: int, high: int) -> np.ndarray:
        """Where the pair (low, high) is held: an empty or one-element array of positions."""
        start, stop = np.searchsorted(self.first, low, "left"), np.searchsorted(self.first, low, "right")
        return start + np.flatnonzero(self.second[start:stop] == high)

    def __contains__(self, pair: object) -> bool:
        ends = sorted(pair) if isinstance(pair, frozenset | set | tuple | list) else []
        return len(ends) == 2 and len(self._at(ends[0], ends[1])) > 0

    def __or__(self, other: Iterable[Iterable[int]]) -> Pairs:
        return Pairs(np.concatenate([self.ends, Pairs(other).ends]))

    def __sub__(self, other: Iterable[Iterable[int]]) -> Pairs:
        kept = np.ones(len(self), dtype=bool)
        gone = Pairs(other)
        for low, high in zip(gone.first.tolist(), gone.second.tolist(), strict=True):
            kept[self._at(low, high)] = False
        return Pairs(self.ends[kept])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pairs):
            return NotImplemented
        return np.array_equal(self.first, other.first) and np.array_equal(self.second, other.second)

    def __hash__(self) -> int:
        return hash((self.first.tobytes(), self.second.tobytes()))

    def __repr__(self) -> str:
        return f"Pairs({len(self)} pairs)"


@dataclass(frozen=True)
class MatchRules:
    weights: Weights = Weights()
    past_buddies: Pairs = Pairs()  # pairs never to be grouped again (any pairs given become Pairs)
    exclusions: Pairs = Pairs()  # coordinator's "never match these two"
    eligible_grades: frozenset[str] | None = None  # None: every grade may take part (case-insensitive)
    allow_uneven_trios: bool = False  # extra people make trios instead of waiting
    locked: tuple[tuple[int, ...], ...] = ()  # groups the coordinator fixed; kept exactly as given

    def __post_init__(self) -> None:
        for name in ("past_buddies", "exclusions"):
            if not isinstance(getattr(self, name), Pairs):
                object.__setattr__(self, name, Pairs(getattr(self, name)))


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]  # candidate ids; clinician(s) first, then managers
    score: float
    reasons: tuple[str, ...] = ()  # human-readable, best first, e.g. "both in mental health"


@dataclass(frozen=True)
class MatchPlan:
    groups: tuple[Group, ...]
    waiting: tuple[int, ...] = ()  # unmatched, in registration order
    ineligible: tuple[int, ...] = ()  # excluded by the eligibility rule
    total_score: float = field(default=0.0)
