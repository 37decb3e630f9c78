"""Assigning people to groups: the one optimisation behind both pairs and trios.

Pairs are clinicians assigned to (one-member groups of) general managers; trios are extra people assigned
to pairs. Each person joins at most one group and each group takes at most one person; a person's gain on
a group is the sum of their pair scores with its members, which does not depend on anyone else's
assignment, so this is exactly a maximum-cardinality, maximum-weight assignment.

Small problems are solved exactly over every (person, group) edge. Larger ones are solved exactly on
sparse candidate edges (see :mod:`candidates`): up to GLOBAL people in one piece, with partners looked for
in the same region and elsewhere. Beyond that, the sparse solver's time grows faster than linearly with
size, so they are solved region by region, then everyone left nationally (a region with more clinicians
than managers sends its surplus to regions with the opposite surplus). A group's region is its last
member's: a pair's manager's, as specialists are spread like managers (by the clinician's, specialists in
regions of many managers could only join the few pairs of local clinicians: at 100,000, region-clustered
shape, the trio score was 1.5% under its bound, against 0.15% by the manager's).

Where some regions have fewer people than groups (the region-clustered shape: clinicians in one region,
managers in others), solving each region alone would ignore that its people or groups are worth
something elsewhere: the regions with a surplus of people keep the best partners for themselves, the
regions short of people give their own the managers the surplus most needed (3.3% of the pair score
lost at 100,000). So before a region is solved, whoever could go elsewhere is priced at OUTSIDE times
their best score there, every partner considered (:func:`bound.best_response`), and the region
maximises the score above those prices: people with a surplus against the groups of regions short of
people, then those regions' groups against the surplus people left. The prices only steer the choice
within a region; the number matched and the scores reported are unchanged.

Whoever is left across regions may share neither a region nor an employer with anyone on the other
side (the region-clustered shape's surplus clinicians and managers): then every score depends on the two
people's kinds alone, and a large market of kinds is solved as copies of itself, each kind dealt out in
turn, then whoever a copy left is matched across copies (see REPLICA).

A region is never split further: splitting it by employer kept colleagues together but cost 1-2% of the
score at 100,000 (a clinician's best partner is often a manager of a fitting trust nearby, not a
colleague), against about 15% more time. The benchmark certifies the result against a proven upper
bound.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conversations.matching.bound import best_response
from conversations.matching.candidates import candidate_edges, unique_pairs
from conversations.matching.features import Cohort
from conversations.matching.kinds import kind, usable
from conversations.matching.rules import Forbidden
from conversations.matching.scoring import Scorer
from conversations.matching.solver import max_weight_matching
from conversations.matching.types import Weights

EXACT_EDGES = 1_000_000  # automatic choice: consider every edge up to this many (about 0.2 s)
GLOBAL = 30_000
# A market where scores depend on kinds alone (no one shares a region or an employer with anyone on the
# other side) is solved as copies of itself of at most this many people and groups. Measured at 100,000,
# region-clustered shape, everyone left across regions (24,786 clinicians, 20,109 managers): two copies,
# the assignment 2.0 s -> 1.0 s (two of 10,055 by 12,393), 0.03% of the score. Copies must stay large:
# smaller ones hold fewer people of each kind (at 1,300 people a copy, 0.7% of the score).
REPLICA = 25_000
# What someone could get in another region, as a share of their best score there: all of it overstates
# it (others compete for the same partners). Measured at 100,000, region-clustered: 0.5 -> pair score
# 1.6% under the bound, 0.6 -> 1.5%, 0.75 -> 1.4% (1.2% with the best kinds in the last stage), 1.0 -> 2.1%.
OUTSIDE = 0.75


def assign(
    cohort: Cohort,
    people: np.ndarray,
    groups: np.ndarray,
    forbidden: Forbidden,
    weights: Weights,
    rng: np.random.Generator,
    exact: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Matched (position in `people`, row in `groups`); `groups` holds cohort indices, one row a group.

    `exact` considers every edge (None: only when the problem is small).
    """
    if not len(people) or not len(groups):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    score = Scorer(cohort, weights)

    def solve(who: np.ndarray, where: np.ndarray, sparse: bool, reach: str = "", price: Price = None):
        if not len(who) or not len(where):
            return who[:0], where[:0]
        if sparse:
            found = [
                candidate_edges(cohort, people[who], groups[where, k], score, rng, reach, groups.shape[1] > 1)
                for k in range(groups.shape[1])
            ]
            p, g = found[0]  # already distinct
            if len(found) > 1:
                p, g = unique_pairs(
                    np.concatenate([p for p, _ in found]),
                    np.concatenate([g for _, g in found]),
                    len(who),
                    len(where),
                )
        else:
            p, g = np.repeat(np.arange(len(who)), len(where)), np.tile(np.arange(len(where)), len(who))
        person, members = people[who][p], groups[where][g]
        allowed = np.ones(len(p), dtype=bool)
        for k in range(members.shape[1]):
            allowed &= ~forbidden.contains(person, members[:, k])
        p, g, person, members = p[allowed], g[allowed], person[allowed], members[allowed]
        gain = score(person, members[:, 0])
        for k in range(1, members.shape[1]):
            gain = gain + score(person, members[:, k])
        if price is not None:
            gain = gain - price[0][who][p] - price[1][where][g]
        rows, cols = max_weight_matching(
            len(who), len(where), p, g, gain, rng, dense=None if sparse else True
        )
        return who[rows], where[cols]

    everyone, every_group = np.arange(len(people)), np.arange(len(groups))
    if (len(people) * len(groups) <= EXACT_EDGES) if exact is None else exact:
        return solve(everyone, every_group, sparse=False)
    if len(people) + len(groups) <= GLOBAL:
        return solve(everyone, every_group, sparse=True, reach="everywhere")

    def solve_block(who: np.ndarray, where: np.ndarray, reach: str, price: Price):
        if (
            groups.shape[1] == 1
            and len(who)
            and len(where)
            and len(who) + len(where) > REPLICA
            and usable(score)
            and _strangers(cohort, people[who], groups[where, 0])
        ):
            return _in_replicas(
                (who, kind(score, people[who])),
                (where, kind(score, groups[where, 0])),
                -(-(len(who) + len(where)) // REPLICA),
                rng,
                lambda w, g: solve(w, g, True, reach, price),
            )
        return solve(who, where, True, reach, price)

    return _in_regions(
        (cohort.region[people], cohort.region[groups[:, -1]]),
        solve_block,
        lambda rows, cols: (
            best_response(score, people[rows], groups[cols, 0], np.zeros(len(cols)))[0]
            if groups.shape[1] == 1
            else None
        ),
        lambda rows, cols: (
            best_response(score, groups[rows, 0], people[cols], np.zeros(len(cols)))[0]
            if groups.shape[1] == 1
            else None
        ),
    )


Price = tuple[np.ndarray, np.ndarray] | None  # what each person and each group gives up by matching here
Best = Callable[[np.ndarray, np.ndarray], np.ndarray | None]  # best score of each row among the columns


def _strangers(cohort: Cohort, a: np.ndarray, b: np.ndarray) -> bool:
    """True if no one in `a` shares a region or an employer with anyone in `b`."""
    return not any(
        (np.intersect1d(values[a], values[b]) >= 0).any() for values in (cohort.region, cohort.employer)
    )


Side = tuple[np.ndarray, np.ndarray]  # positions, and each one's kind


def _in_replicas(
    people: Side,
    groups: Side,
    parts: int,
    rng: np.random.Generator,
    solve: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """A market where scores depend on kinds alone, as `parts` smaller copies of itself: each kind's
    people dealt out in turn, so each copy holds about the same share of every kind. Whoever a copy could
    not match is then matched across copies."""
    rows, cols = [], []
    deal_people, deal_groups = _dealt(people[1], parts, rng), _dealt(groups[1], parts, rng)
    for part in range(parts):
        r, c = solve(people[0][deal_people == part], groups[0][deal_groups == part])
        rows.append(r)
        cols.append(c)
    r, c = solve(np.setdiff1d(people[0], np.concatenate(rows)), np.setdiff1d(groups[0], np.concatenate(cols)))
    return np.concatenate([*rows, r]), np.concatenate([*cols, c])


def _dealt(kinds: np.ndarray, parts: int, rng: np.random.Generator) -> np.ndarray:
    """Each item's part: items sorted by kind (in random order within a kind), dealt out in turn."""
    order = np.lexsort((rng.random(len(kinds)), kinds))
    part = np.empty(len(kinds), dtype=np.int64)
    part[order] = (np.arange(len(kinds)) + int(rng.integers(parts))) % parts
    return part


def _in_regions(
    region: tuple[np.ndarray, np.ndarray],
    solve: Callable[[np.ndarray, np.ndarray, str, Price], tuple[np.ndarray, np.ndarray]],
    people_best: Best,
    groups_best: Best,
) -> tuple[np.ndarray, np.ndarray]:
    """Region by region, then everyone left in one block: first the regions with at least as many people
    as groups, their people priced against the groups of the regions short of people; then those
    regions, their groups priced against the people left from the first; then everyone left."""
    people_region, group_region = region[0] + 1, region[1] + 1  # 0: no region
    size = int(max(people_region.max(initial=0), group_region.max(initial=0))) + 1
    short = np.bincount(group_region, minlength=size) > np.bincount(people_region, minlength=size)
    free_people, free_groups = np.ones(len(people_region), dtype=bool), np.ones(len(group_region), dtype=bool)
    no_price = (np.zeros(len(people_region)), np.zeros(len(group_region)))
    # The last stage: a few people left over, or (after pricing) a market across regions where everyone's
    # best kinds of partner are worth finding (0.2% of the pair score at 100,000, region-clustered).
    reach = {"surplus": "region", "short": "region", "left": "everywhere" if short.any() else "away"}
    rows, cols = [], []
    for stage in ("surplus", "short", "left"):
        who_all, where_all = np.flatnonzero(free_people), np.flatnonzero(free_groups)
        if stage == "left":
            people_block, group_block = np.zeros(len(who_all)), np.zeros(len(where_all))
        else:
            in_short = stage == "short"
            people_block = np.where(short[people_region[who_all]] == in_short, people_region[who_all], -1)
            group_block = np.where(short[group_region[where_all]] == in_short, group_region[where_all], -1)
        price: Price = None
        if stage == "surplus" and short.any():
            best = people_best(who_all[people_block >= 0], where_all[short[group_region[where_all]]])
            if best is not None:
                price = (no_price[0].copy(), no_price[1])
                price[0][who_all[people_block >= 0]] = OUTSIDE * best
        elif stage == "short" and (people_block < 0).any():
            best = groups_best(where_all[group_block >= 0], who_all[people_block < 0])
            if best is not None:
                price = (no_price[0], no_price[1].copy())
                price[1][where_all[group_block >= 0]] = OUTSIDE * best
        for block in np.unique(group_block[group_block >= 0]):
            r, c = solve(
                who_all[people_block == block],
                where_all[group_block == block],
                reach[stage],
                price,
            )
            free_people[r], free_groups[c] = False, False
            rows.append(r)
            cols.append(c)
    return np.concatenate(rows), np.concatenate(cols)
