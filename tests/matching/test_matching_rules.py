"""Hard rules, waiting list, locks, explanations and re-matching, on hand-made cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from conversations.matching import (
    Candidate,
    Group,
    MatchRules,
    Pairs,
    Weights,
    best_partners,
    explain_group,
    plan_matches,
)

CLIN, GM, SPEC = "clinician", "general_manager", "specialist_manager"


def person(pid: int, role: str, order: int | None = None, **fields: Any) -> Candidate:
    return Candidate(id=pid, role=role, order=pid if order is None else order, **fields)


def members(groups: Sequence[Group]) -> list[tuple[int, ...]]:
    return [g.members for g in groups]


def test_pairs_each_clinician_with_the_manager_that_fits_best() -> None:
    cohort = [
        person(1, CLIN, specialty="psychiatry", region="london"),
        person(2, CLIN, specialty="general_practice", region="north_west"),
        person(3, GM, employer_type="primary_care", region="north_west"),
        person(4, GM, employer_type="mental_health", region="london"),
    ]
    plan = plan_matches(cohort, MatchRules(), seed=1)
    assert sorted(members(plan.groups)) == [(1, 4), (2, 3)]
    assert plan.waiting == () and plan.ineligible == ()
    assert plan.total_score == pytest.approx(2 * (3.0 + 1.5))


@pytest.mark.parametrize("spread", [1, 100_003], ids=["ids-near-consecutive", "ids-far-apart"])
def test_past_buddies_and_exclusions_are_never_grouped(spread: int) -> None:
    """Whatever the participant ids look like (a table or a search maps them), and with pairs that
    name people outside the cohort, below its lowest id or above its highest."""
    a, b, c, d = (spread * k for k in (1, 2, 3, 4))
    cohort = [
        person(a, CLIN, region="london"),
        person(b, CLIN, region="leeds"),
        person(c, GM, region="london"),
        person(d, GM, region="leeds"),
    ]
    elsewhere = {frozenset({a, 7 * spread + 5}), frozenset({0, c}), frozenset({d, 10**12})}
    rules = MatchRules(
        past_buddies=frozenset({frozenset({a, c}), *elsewhere}), exclusions=frozenset({frozenset({b, d})})
    )
    plan = plan_matches(cohort, rules, seed=1)
    assert sorted(members(plan.groups)) == [(a, d), (b, c)]


def test_surplus_waits_in_registration_order_unless_uneven_trios_are_allowed() -> None:
    cohort = [
        person(1, CLIN, order=5),
        person(2, CLIN, order=1),
        person(3, CLIN, order=3),
        person(4, GM, order=2, region="london"),
        person(5, CLIN, order=4, region="london"),
    ]
    plan = plan_matches(cohort, MatchRules(), seed=3)
    assert members(plan.groups) == [(5, 4)]
    assert plan.waiting == (2, 3, 1)  # by order: 1, 3, 5
    uneven = plan_matches(cohort, MatchRules(allow_uneven_trios=True), seed=3)
    assert len(uneven.groups) == 1 and len(uneven.groups[0].members) == 3
    assert uneven.groups[0].members[-1] == 4  # clinicians first, then the manager
    assert len(uneven.waiting) == 2


def test_specialists_join_the_pair_they_add_most_to_and_extras_wait() -> None:
    cohort = [
        person(1, CLIN, region="london"),
        person(2, GM, region="london"),
        person(3, CLIN, region="wales"),
        person(4, GM, region="wales"),
        person(5, SPEC, region="wales", order=0),
        person(6, SPEC, region="london", order=9),
        person(7, SPEC, region="wales", order=8),
    ]
    plan = plan_matches(cohort, MatchRules(past_buddies=frozenset({frozenset({5, 4})})), seed=0)
    assert sorted(members(plan.groups)) == [(1, 2, 6), (3, 4, 7)]
    assert plan.waiting == (5,)


def test_eligibility_is_by_grade_case_insensitive_and_blank_grades_pass() -> None:
    cohort = [
        person(1, CLIN, grade="FY1"),
        person(2, CLIN, grade="ST3"),
        person(3, GM),
        person(4, GM, grade="band 7"),
    ]
    plan = plan_matches(cohort, MatchRules(eligible_grades=frozenset({"fy1"})), seed=0)
    assert members(plan.groups) == [(1, 3)]
    assert plan.ineligible == (2, 4)


def test_locked_groups_are_kept_and_their_members_not_reused() -> None:
    cohort = [
        person(1, CLIN, region="london"),
        person(2, GM, region="wales"),
        person(3, CLIN, region="wales"),
        person(4, GM, region="london"),
    ]
    plan = plan_matches(cohort, MatchRules(locked=((2, 1),)), seed=0)
    assert members(plan.groups) == [(1, 2), (3, 4)]
    assert plan.groups[0] == explain_group([cohort[0], cohort[1]], MatchRules())
    with pytest.raises(ValueError, match="not candidates"):
        plan_matches(cohort, MatchRules(locked=((1, 99),)), seed=0)
    with pytest.raises(ValueError, match="another locked group"):
        plan_matches(cohort, MatchRules(locked=((1, 2), (3, 2))), seed=0)


def test_late_joiners_match_with_the_waiting_list_only() -> None:
    first = [person(1, CLIN), person(2, CLIN), person(3, GM)]
    plan = plan_matches(first, MatchRules(), seed=0)
    assert len(plan.groups) == 1 and len(plan.waiting) == 1
    waiting = [c for c in first if c.id in plan.waiting]
    late = [person(4, GM, order=10), person(5, SPEC, order=11)]
    again = plan_matches([*waiting, *late], MatchRules(), seed=0)
    assert members(again.groups) == [(plan.waiting[0], 4, 5)]


def test_duplicate_candidates_and_unknown_roles_are_rejected() -> None:
    with pytest.raises(ValueError, match="once"):
        plan_matches([person(1, CLIN), person(1, GM)], MatchRules(), seed=0)
    with pytest.raises(ValueError, match="unknown role"):
        plan_matches([person(1, "nurse")], MatchRules(), seed=0)


def test_explain_names_the_strongest_reasons_first() -> None:
    clinician = person(
        1,
        CLIN,
        specialty="psychiatry",
        employer="Leeds  and York Partnership",
        employer_type="mental_health",
        region="north_east_yorkshire",
        interests=frozenset({"digital"}),
    )
    manager = person(
        2,
        GM,
        employer="leeds and york partnership",
        employer_type="mental_health",
        region="north_east_yorkshire",
        interests=frozenset({"digital", "research"}),
    )
    group = explain_group([manager, clinician], MatchRules())
    assert group.members == (1, 2)
    assert group.score == pytest.approx(3.0 + 2.0 + 1.5 + 1.0)
    assert group.reasons == (
        "psychiatry trainee with a mental health trust manager",
        "same employer (Leeds and York Partnership)",
        "both in North East and Yorkshire",
    )
    heavy_interest = MatchRules(weights=Weights(shared_interest=10.0))
    assert (
        explain_group([clinician, manager], heavy_interest).reasons[0]
        == "both interested in Digital and data"
    )


def test_trio_reasons_say_who_shares_what() -> None:
    trio = [
        person(1, CLIN, region="london", interests=frozenset({"research"})),
        person(2, GM, region="london", interests=frozenset({"research"})),
        person(3, SPEC, region="wales", interests=frozenset({"research"})),
    ]
    group = explain_group(trio, MatchRules())
    assert group.reasons == ("all three interested in Research", "two of the three in London")
    assert group.score == pytest.approx(3 * 1.0 + 1.5)


@pytest.mark.parametrize(
    ("group", "rules", "message"),
    [
        (
            [person(1, CLIN), person(2, GM)],
            MatchRules(past_buddies=frozenset({frozenset({1, 2})})),
            "1 and 2 were buddies before",
        ),
        ([person(1, CLIN), person(2, GM)], MatchRules(exclusions=frozenset({frozenset({2, 1})})), "excluded"),
        ([person(1, CLIN), person(2, CLIN)], MatchRules(), "one clinician and one general manager"),
        ([person(1, CLIN), person(2, SPEC)], MatchRules(), "one clinician and one general manager"),
        ([person(1, CLIN), person(2, CLIN), person(3, GM)], MatchRules(), "allow uneven trios"),
        (
            [person(1, CLIN, grade="ST3"), person(2, GM)],
            MatchRules(eligible_grades=frozenset({"FY1"})),
            "1 is not eligible",
        ),
        ([person(1, CLIN), person(1, CLIN), person(2, GM)], MatchRules(), "appears twice"),
    ],
)
def test_explain_refuses_groups_that_break_a_hard_rule(
    group: list[Candidate], rules: MatchRules, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        explain_group(group, rules)


def test_explain_accepts_uneven_trios_when_allowed() -> None:
    group = explain_group(
        [person(3, GM), person(2, CLIN), person(1, CLIN)], MatchRules(allow_uneven_trios=True)
    )
    assert group.members == (1, 2, 3)


def test_best_partners_picks_the_best_valid_partner() -> None:
    quiet_partner_gone = person(1, CLIN, specialty="emergency_medicine", region="london")
    available = [
        person(2, GM, employer_type="ambulance", region="london"),
        person(3, GM, employer_type="ambulance", region="london", grade="band 8"),
        person(4, GM, employer_type="acute", region="wales"),
        person(5, CLIN, region="london"),
    ]
    rules = MatchRules(past_buddies=frozenset({frozenset({1, 2})}))
    group = best_partners(quiet_partner_gone, available, rules, seed=0)
    assert group is not None and group.members == (1, 3)
    assert group == explain_group([quiet_partner_gone, available[1]], rules)
    strict = MatchRules(past_buddies=rules.past_buddies, eligible_grades=frozenset({"FY1"}))
    assert best_partners(quiet_partner_gone, available, strict, seed=0).members == (1, 4)  # type: ignore[union-attr]
    assert best_partners(quiet_partner_gone, available[3:], rules, seed=0) is None


def test_best_partners_finds_a_pair_for_a_specialist() -> None:
    specialist = person(9, SPEC, region="wales", interests=frozenset({"finance"}))
    available = [
        person(1, CLIN, region="wales"),
        person(2, CLIN, region="london", interests=frozenset({"finance"})),
        person(3, GM, region="wales", interests=frozenset({"finance"})),
        person(4, GM, region="london"),
    ]
    group = best_partners(specialist, available, MatchRules(), seed=0)
    assert group is not None and group.members == (1, 3, 9)


def test_same_seed_same_plan() -> None:
    cohort = [person(i, [CLIN, GM, SPEC][i % 3]) for i in range(60)]  # all ties: only the seed decides
    assert plan_matches(cohort, MatchRules(), seed=5) == plan_matches(cohort, MatchRules(), seed=5)
    plans = {members(plan_matches(cohort, MatchRules(), seed=s).groups).__repr__() for s in range(5)}
    assert len(plans) > 1


def test_pairs_hold_each_unordered_pair_once_however_given() -> None:
    from_sets = Pairs({frozenset({3, 1}), frozenset({7}), frozenset({9, 8})})
    from_tuples = Pairs([(1, 3), (3, 1), (8, 9), (4, 4)])
    from_array = Pairs(np.array([[9, 8], [1, 3]]))
    assert from_sets == from_tuples == from_array and len(from_sets) == 2
    assert hash(from_sets) == hash(from_array)
    assert set(from_sets) == {frozenset({1, 3}), frozenset({8, 9})}
    assert (3, 1) in from_sets and frozenset({8, 9}) in from_sets
    assert (1, 9) not in from_sets and (4, 4) not in from_tuples and frozenset({7}) not in from_sets
    assert Pairs([[1, 2, 3], [4, 5, 6]]) == Pairs()  # three ids are not a pair: never read as two
    assert set(from_sets | [(5, 6)]) == {frozenset({1, 3}), frozenset({8, 9}), frozenset({5, 6})}
    assert set(from_sets - {frozenset({9, 8}), frozenset({2, 5})}) == {frozenset({1, 3})}
    rules = MatchRules(past_buddies=frozenset({frozenset({1, 2})}), exclusions=[(4, 3)])
    assert isinstance(rules.past_buddies, Pairs) and (2, 1) in rules.past_buddies
    assert (3, 4) in rules.exclusions and MatchRules() == MatchRules()
