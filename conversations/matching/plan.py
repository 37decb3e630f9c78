"""The matcher's entry points: a whole cohort's plan, and the best partner(s) for one person."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from conversations.matching.assign import assign
from conversations.matching.explain import build_groups
from conversations.matching.features import CLINICIAN, GENERAL_MANAGER, SPECIALIST_MANAGER, Cohort, encode
from conversations.matching.rules import Forbidden, is_eligible
from conversations.matching.scoring import group_scores, in_member_order
from conversations.matching.types import Candidate, Group, MatchPlan, MatchRules


def plan_matches(candidates: Sequence[Candidate], rules: MatchRules, seed: int) -> MatchPlan:
    """Group a cohort: locked groups as given, then optimal pairs, then optimal trios.

    Everyone is in at most one group. Pairs maximise first their number, then their total score; extra
    people (specialist managers, and surplus clinicians or general managers where the coordinator allows
    uneven trios) then join pairs to maximise the total gain. Whoever is left waits, in registration order.
    Candidates whose grade is set but not eligible are listed as ineligible (unless in a locked group).
    Groups come locked ones first, as given, then by their first member's registration. The same inputs
    and seed always give the same plan.
    """
    return plan_with(candidates, rules, seed)


def plan_with(
    candidates: Sequence[Candidate], rules: MatchRules, seed: int, exact: bool | None = None
) -> MatchPlan:
    """:func:`plan_matches` with the solver chosen: exact over all pairs, sparse candidates, or by size."""
    cohort = encode(candidates)
    if len(set(cohort.ids.tolist())) != len(cohort):
        raise ValueError("each candidate must appear once")
    rng = np.random.default_rng(seed)
    locked, taken = _locked_rows(cohort, rules)
    free = np.flatnonzero(~taken)
    eligible = np.ones(len(free), dtype=bool)
    if rules.eligible_grades is not None:
        eligible = np.array([is_eligible(cohort.candidates[i], rules) for i in free], dtype=bool)
    ineligible, free = free[~eligible], free[eligible]
    forbidden = Forbidden(cohort.ids, rules)
    role = cohort.role[free]
    clinicians, managers = free[role == CLINICIAN], free[role == GENERAL_MANAGER]
    # Pairs: clinicians assigned to general managers.
    c, m = assign(cohort, clinicians, managers[:, None], forbidden, rules.weights, rng, exact)
    pairs = np.column_stack([clinicians[c], managers[m]])
    # Trios: specialist managers (and, if allowed, surplus clinicians or managers) assigned to pairs.
    grouped = np.zeros(len(cohort), dtype=bool)
    grouped[pairs.ravel()] = True
    unpaired = free[~grouped[free]]
    joiners = unpaired if rules.allow_uneven_trios else unpaired[cohort.role[unpaired] == SPECIALIST_MANAGER]
    j, p = assign(cohort, joiners, pairs, forbidden, rules.weights, rng, exact)
    grouped[joiners[j]] = True
    trio = np.zeros(len(pairs), dtype=bool)
    trio[p] = True
    joined = np.full(len(pairs), -1, dtype=np.int64)
    joined[p] = joiners[j]
    new_rows = [pairs[~trio], np.column_stack([pairs[trio], joined[trio]])]
    groups = [build_groups(cohort, in_member_order(cohort, row[None, :]), rules.weights)[0] for row in locked]
    for rows in new_rows:
        rows = in_member_order(cohort, rows)
        rows = rows[np.argsort(cohort.order[rows[:, 0]], kind="stable")]
        groups.extend(build_groups(cohort, rows, rules.weights))
    waiting = unpaired[~grouped[unpaired]]
    return MatchPlan(
        groups=tuple(groups),
        waiting=_by_registration(cohort, waiting),
        ineligible=_by_registration(cohort, ineligible),
        total_score=float(sum(g.score for g in groups)),
    )


def _locked_rows(cohort: Cohort, rules: MatchRules) -> tuple[list[np.ndarray], np.ndarray]:
    """Locked groups as cohort-index rows, in the order given, and who they take.

    A locked group is the coordinator's decision: it is kept even if it breaks a rule (the engine checks
    with :func:`explain_group` when the lock is made), only its members are put in the usual order.
    """
    index = {int(pid): i for i, pid in enumerate(cohort.ids)}
    taken = np.zeros(len(cohort), dtype=bool)
    rows = []
    for group in rules.locked:
        unknown = [pid for pid in group if pid not in index]
        if unknown:
            raise ValueError(f"locked group {group} names participants who are not candidates: {unknown}")
        row = np.array([index[pid] for pid in group], dtype=np.int64)
        if taken[row].any() or len(set(group)) != len(group):
            raise ValueError(f"locked group {group} shares a participant with another locked group")
        taken[row] = True
        rows.append(row)
    return rows, taken


def _by_registration(cohort: Cohort, people: np.ndarray) -> tuple[int, ...]:
    ranked = people[np.lexsort((cohort.ids[people], cohort.order[people]))]
    return tuple(int(pid) for pid in cohort.ids[ranked])


def best_partners(
    person: Candidate, available: Sequence[Candidate], rules: MatchRules, seed: int
) -> Group | None:
    """The best valid group for one person among `available` (e.g. to replace a buddy who went quiet).

    A clinician gets the best general manager and vice versa; a specialist manager gets the best
    clinician-and-general-manager pair to join. Ties go by the seed. None if no valid group exists.
    """
    if not is_eligible(person, rules):
        return None
    others = [c for c in available if c.id != person.id and is_eligible(c, rules)]
    cohort = encode([person, *others])
    forbidden = Forbidden(cohort.ids, rules)
    rng = np.random.default_rng(seed)
    role = cohort.role[1:]
    others_idx = np.arange(1, len(cohort))
    if cohort.role[0] == SPECIALIST_MANAGER:
        clinicians, managers = others_idx[role == CLINICIAN], others_idx[role == GENERAL_MANAGER]
        rows = np.column_stack(
            [
                np.repeat(clinicians, len(managers)),
                np.tile(managers, len(clinicians)),
                np.zeros(len(clinicians) * len(managers), dtype=np.int64),
            ]
        )
    else:
        wanted = GENERAL_MANAGER if cohort.role[0] == CLINICIAN else CLINICIAN
        partners = others_idx[role == wanted]
        rows = np.column_stack([np.zeros(len(partners), dtype=np.int64), partners])
    rows = in_member_order(cohort, rows)
    allowed = np.ones(len(rows), dtype=bool)
    for i in range(rows.shape[1]):
        for j in range(i + 1, rows.shape[1]):
            allowed &= ~forbidden.contains(rows[:, i], rows[:, j])
    rows = rows[allowed]
    if not len(rows):
        return None
    scores = group_scores(cohort, rows, rules.weights)
    best = np.lexsort((rng.random(len(rows)), -scores))[0]
    return build_groups(cohort, rows[best : best + 1], rules.weights)[0]
