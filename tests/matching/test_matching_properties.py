"""Property-based checks on random cohorts: the hard rules always hold, nobody appears twice, and the
optimiser never does worse than a greedy matcher.

The plan optimises in two stages (pairs, then trios given the pairs), so greedy is compared stage by
stage: its pairs against the plan's pairs, and its trios against the plan's trios on the plan's pairs.
Each comparison is lexicographic on (people grouped, score), because grouping everyone who can be
grouped comes first: with exclusions, a greedy matcher can score more by grouping fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.matching import Candidate, MatchPlan, MatchRules, Weights, explain_group, plan_matches
from conversations.matching.features import encode
from conversations.matching.rules import is_eligible
from conversations.matching.scoring import pair_scores

ROLES = ["clinician", "general_manager", "specialist_manager"]
TOLERANCE = 1e-9


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[Candidate], MatchRules]:
    n = draw(st.integers(0, 24))
    orders = draw(st.permutations(range(n)))
    people = [
        Candidate(
            id=1000 + i,
            role=draw(st.sampled_from(ROLES)),
            order=orders[i],
            specialty=draw(
                st.sampled_from(["", "psychiatry", "general_practice", "emergency_medicine", "other"])
            ),
            employer=draw(st.sampled_from(["", "Trust A", "trust a ", "Trust B"])),
            employer_type=draw(st.sampled_from(["", "acute", "mental_health", "primary_care", "ambulance"])),
            region=draw(st.sampled_from(["", "london", "wales"])),
            grade=draw(st.sampled_from(["", "FY1", "st3"])),
            interests=frozenset(
                draw(st.sets(st.sampled_from(["digital", "research", "finance", "leadership"])))
            ),
        )
        for i in range(n)
    ]
    ids = [p.id for p in people]
    pair = (
        st.frozensets(st.sampled_from(ids or [0]), min_size=2, max_size=2) if len(ids) >= 2 else st.nothing()
    )
    weight = st.sampled_from([0.0, 0.5, 1.0, 2.5, 4.0])
    rules = MatchRules(
        weights=Weights(draw(weight), draw(weight), draw(weight), draw(weight), draw(weight)),
        past_buddies=frozenset(draw(st.lists(pair, max_size=n))) if len(ids) >= 2 else frozenset(),
        exclusions=frozenset(draw(st.lists(pair, max_size=n // 2))) if len(ids) >= 2 else frozenset(),
        eligible_grades=draw(st.sampled_from([None, frozenset({"fy1"}), frozenset({"FY1", "ST3"})])),
        allow_uneven_trios=draw(st.booleans()),
    )
    return people, rules


def check_hard_rules(people: Sequence[Candidate], rules: MatchRules, plan: MatchPlan) -> None:
    by_id = {p.id: p for p in people}
    placed = [pid for g in plan.groups for pid in g.members] + list(plan.waiting) + list(plan.ineligible)
    assert sorted(placed) == sorted(by_id), "everyone exactly once: in a group, waiting or ineligible"
    for group in plan.groups:
        members = [by_id[pid] for pid in group.members]
        assert explain_group(members, rules) == group  # valid, same score and reasons, member order
    assert plan.ineligible == tuple(
        sorted((p.id for p in people if not is_eligible(p, rules)), key=lambda i: by_id[i].order)
    )
    assert [by_id[i].order for i in plan.waiting] == sorted(by_id[i].order for i in plan.waiting)
    assert plan.total_score == sum(g.score for g in plan.groups)


def forbidden(rules: MatchRules, a: Candidate, b: Candidate) -> bool:
    return frozenset((a.id, b.id)) in rules.past_buddies | rules.exclusions


def greedy(items: list[tuple[float, int, int]]) -> tuple[int, float]:
    """Take (score, left, right) edges best first while both ends are free; (edges taken, their total)."""
    used_left: set[int] = set()
    used_right: set[int] = set()
    count, total = 0, 0.0
    for score, left, right in sorted(items, key=lambda e: (-e[0], e[1], e[2])):
        if left not in used_left and right not in used_right:
            used_left.add(left)
            used_right.add(right)
            count, total = count + 1, total + score
    return count, total


def score_of(rules: MatchRules, a: Candidate, b: Candidate) -> float:
    cohort = encode([a, b])
    return float(pair_scores(cohort, np.array([0]), np.array([1]), rules.weights)[0])


def at_least(mine: tuple[int, float], theirs: tuple[int, float]) -> bool:
    return mine[0] > theirs[0] or (mine[0] == theirs[0] and mine[1] >= theirs[1] - TOLERANCE)


@settings(max_examples=150, deadline=None)
@given(cohorts(), st.integers(0, 2**32 - 1))
def test_plans_keep_every_hard_rule(cohort: tuple[list[Candidate], MatchRules], seed: int) -> None:
    people, rules = cohort
    plan = plan_matches(people, rules, seed)
    check_hard_rules(people, rules, plan)
    assert plan == plan_matches(people, rules, seed)


@settings(max_examples=150, deadline=None)
@given(cohorts(), st.integers(0, 2**32 - 1))
def test_plans_never_lose_to_greedy(cohort: tuple[list[Candidate], MatchRules], seed: int) -> None:
    people, rules = cohort
    rules = replace(rules, allow_uneven_trios=False)  # so each group's pair is its clinician and manager
    plan = plan_matches(people, rules, seed)
    by_id = {p.id: p for p in people}
    ok = [p for p in people if is_eligible(p, rules)]
    clinicians = [p for p in ok if p.role == "clinician"]
    managers = [p for p in ok if p.role == "general_manager"]
    specialists = [p for p in ok if p.role == "specialist_manager"]

    pair_edges = [
        (score_of(rules, c, m), c.id, m.id)
        for c in clinicians
        for m in managers
        if not forbidden(rules, c, m)
    ]
    plan_pairs = [(by_id[g.members[0]], by_id[g.members[1]]) for g in plan.groups]
    mine = (len(plan_pairs), sum(score_of(rules, c, m) for c, m in plan_pairs))
    assert at_least(mine, greedy(pair_edges))

    joins = [
        (score_of(rules, s, c) + score_of(rules, s, m), s.id, c.id)
        for s in specialists
        for c, m in plan_pairs
        if not forbidden(rules, s, c) and not forbidden(rules, s, m)
    ]
    trios = [[by_id[pid] for pid in g.members] for g in plan.groups if len(g.members) == 3]
    my_joins = (
        len(trios),
        sum(score_of(rules, s, c) + score_of(rules, s, m) for c, m, s in trios),
    )
    assert at_least(my_joins, greedy(joins))


@settings(max_examples=40, deadline=None)
@given(cohorts(), st.integers(0, 2**32 - 1))
def test_sparse_candidates_keep_the_hard_rules(cohort: tuple[list[Candidate], MatchRules], seed: int) -> None:
    from conversations.matching.plan import plan_with

    people, rules = cohort
    check_hard_rules(people, rules, plan_with(people, rules, seed, exact=False))


def test_grouping_everyone_comes_before_score() -> None:
    """Greedy would take the perfect pair (1, 3) and strand 2 and 4, who may not meet."""
    fit = {
        "specialty": "psychiatry",
        "employer": "Trust",
        "employer_type": "mental_health",
        "region": "london",
    }
    people = [
        Candidate(id=1, role="clinician", order=1, **fit),  # type: ignore[arg-type]
        Candidate(id=2, role="clinician", order=2),
        Candidate(id=3, role="general_manager", order=3, **fit),  # type: ignore[arg-type]
        Candidate(id=4, role="general_manager", order=4),
    ]
    plan = plan_matches(people, MatchRules(exclusions=frozenset({frozenset({2, 4})})), seed=0)
    assert sorted(g.members for g in plan.groups) == [(1, 4), (2, 3)]
