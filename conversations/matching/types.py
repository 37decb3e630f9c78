"""The matcher's inputs and outputs: plain, immutable data, nothing about storage or platforms."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class MatchRules:
    weights: Weights = Weights()
    past_buddies: frozenset[frozenset[int]] = frozenset()  # pairs never to be grouped again
    exclusions: frozenset[frozenset[int]] = frozenset()  # coordinator's "never match these two"
    eligible_grades: frozenset[str] | None = None  # None: every grade may take part (case-insensitive)
    allow_uneven_trios: bool = False  # extra people make trios instead of waiting
    locked: tuple[tuple[int, ...], ...] = ()  # groups the coordinator fixed; kept exactly as given


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
