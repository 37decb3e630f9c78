"""The hard rules: eligibility, who may never be grouped, and which role mixes make a valid group."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from conversations.matching.features import CLINICIAN, GENERAL_MANAGER, SPECIALIST_MANAGER, role_code
from conversations.matching.types import Candidate, MatchRules


def is_eligible(candidate: Candidate, rules: MatchRules) -> bool:
    """Eligibility is by grade, case-insensitively, for everyone whose grade is set.

    A blank grade always passes: managers often have no grade in the clinical sense, and a coordinator
    restricting, say, foundation doctors should not thereby shut every manager out.
    """
    if rules.eligible_grades is None or not candidate.grade.strip():
        return True
    allowed = {g.strip().casefold() for g in rules.eligible_grades}
    return candidate.grade.strip().casefold() in allowed


class Forbidden:
    """Pairs of people who must not share a group: past buddies and the coordinator's exclusions.

    Stored as sorted int64 keys over cohort indices, both ways round, so millions of candidate pairs can
    be checked at once; candidate pairs usually come sorted by person, then partner, and binary search is
    much faster on sorted queries.
    """

    def __init__(self, ids: np.ndarray, rules: MatchRules) -> None:
        self._n = len(ids)
        a, b = _positions(ids, np.concatenate([rules.past_buddies.ends, rules.exclusions.ends]))
        keys = np.sort(np.concatenate([a * self._n + b, b * self._n + a]))
        self._keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        self._involved = np.zeros(self._n, dtype=bool)  # has any forbidden partner: most people have none
        self._involved[a] = True
        self._involved[b] = True

    def contains(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Boolean mask: is (a[i], b[i]) forbidden?"""
        found = np.zeros(len(a), dtype=bool)
        if not len(self._keys):
            return found
        check = np.flatnonzero(self._involved[a] & self._involved[b])
        keys = a[check].astype(np.int64) * self._n + b[check]
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        found[check] = self._keys[at] == keys
        return found


SPAN_PER_PERSON = 8  # ids spread over at most this many times as many numbers are looked up by table


def _positions(ids: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohort positions of the pairs' ends, keeping the pairs whose ends are both in ``ids``. Where ids
    are near-consecutive (participants' usually are), a table answers each end with one look-up: at
    100,000 people with six past buddies each, 1.2 million ends took 0.16 s by binary search."""
    if not len(ids) or not len(ends):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low, high = int(ids.min()), int(ids.max())
    if high - low < SPAN_PER_PERSON * len(ids):  # participant ids are near-consecutive: a table
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(len(ids))
        inside = (ends >= low) & (ends <= high)
        at = np.where(inside, table[np.where(inside, ends - low, 0)], -1)
    else:
        order = np.argsort(ids, kind="stable")
        ranked = np.minimum(np.searchsorted(ids[order], ends), len(ids) - 1)
        at = np.where(ids[order][ranked] == ends, order[ranked], -1)
    known = (at >= 0).all(axis=1)
    return at[known, 0], at[known, 1]


def _composition_error(counts: Counter[int], rules: MatchRules) -> str | None:
    shape = (counts[CLINICIAN], counts[GENERAL_MANAGER], counts[SPECIALIST_MANAGER])
    if shape in ((1, 1, 0), (1, 1, 1)):
        return None
    if shape in ((2, 1, 0), (1, 2, 0)):
        if rules.allow_uneven_trios:
            return None
        return "a trio of two clinicians or two general managers needs the coordinator to allow uneven trios"
    return (
        "a group needs one clinician and one general manager, optionally joined by one specialist manager "
        f"(this one has {shape[0]} clinician(s), {shape[1]} general manager(s), {shape[2]} specialist(s))"
    )


def group_violations(members: Sequence[Candidate], rules: MatchRules) -> Iterable[str]:
    """Every hard rule the group breaks, as messages naming participants by id."""
    seen: set[int] = set()
    for member in members:
        if member.id in seen:
            yield f"participant {member.id} appears twice in the group"
        seen.add(member.id)
    composition = _composition_error(Counter(role_code(m) for m in members), rules)
    if composition:
        yield composition
    for member in members:
        if not is_eligible(member, rules):
            yield f"participant {member.id} is not eligible (grade {member.grade!r})"
    for i, x in enumerate(members):
        for y in members[i + 1 :]:
            pair = frozenset((x.id, y.id))
            if pair in rules.past_buddies:
                yield f"participants {x.id} and {y.id} were buddies before"
            if pair in rules.exclusions:
                yield f"participants {x.id} and {y.id} are excluded from being matched by the coordinator"
