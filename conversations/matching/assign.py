"""Assigning people to groups: the one optimisation behind both pairs and trios.

Pairs are clinicians assigned to (one-member groups of) general managers; trios are extra people assigned
to pairs. Each person joins at most one group and each group takes at most one person; a person's gain on
a group is the sum of their pair scores with its members, which does not depend on anyone else's
assignment, so this is exactly a maximum-cardinality, maximum-weight assignment.

Small problems are solved exactly over every (person, group) edge. Larger ones are solved exactly on
sparse candidate edges (see :mod:`candidates`): up to GLOBAL people in one piece, with partners looked for
in the same region and elsewhere. Beyond that, the sparse solver's time grows faster than linearly with
size, so they are solved region by region, then everyone left nationally, on candidates in other regions
(a region with more clinicians than managers sends its surplus to regions with the opposite surplus).
A region is never split further: splitting it by employer kept colleagues together but cost 1-2% of the
score at 100,000 (a clinician's best partner is often a manager of a fitting trust nearby, not a
colleague), against about 15% more time. The benchmark certifies the result against a proven upper
bound.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conversations.matching.candidates import candidate_edges, unique_pairs
from conversations.matching.features import Cohort
from conversations.matching.rules import Forbidden
from conversations.matching.scoring import Scorer
from conversations.matching.solver import max_weight_matching
from conversations.matching.types import Weights

EXACT_EDGES = 1_000_000  # automatic choice: consider every edge up to this many (about 0.2 s)
GLOBAL = 30_000

Solve = Callable[[np.ndarray, np.ndarray, str], tuple[np.ndarray, np.ndarray]]


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

    def solve(
        who: np.ndarray, where: np.ndarray, sparse: bool, reach: str = ""
    ) -> tuple[np.ndarray, np.ndarray]:
        if not len(who) or not len(where):
            return who[:0], where[:0]
        if sparse:
            found = [
                candidate_edges(cohort, people[who], groups[where, k], score, rng, reach)
                for k in range(groups.shape[1])
            ]
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
        rows, cols = max_weight_matching(
            len(who), len(where), p, g, gain, rng, dense=None if sparse else True
        )
        return who[rows], where[cols]

    everyone, every_group = np.arange(len(people)), np.arange(len(groups))
    if (len(people) * len(groups) <= EXACT_EDGES) if exact is None else exact:
        return solve(everyone, every_group, sparse=False)
    region = (cohort.region[people], cohort.region[groups[:, 0]])
    everywhere = (np.zeros(len(people)), np.zeros(len(groups)))
    if len(people) + len(groups) <= GLOBAL:
        levels = [(everywhere, "everywhere")]
    else:
        levels = [(region, "region"), (everywhere, "away")]
    return _in_blocks(levels, lambda who, where, reach: solve(who, where, sparse=True, reach=reach))


def _in_blocks(
    levels: list[tuple[tuple[np.ndarray, np.ndarray], str]], solve: Solve
) -> tuple[np.ndarray, np.ndarray]:
    """Solve block by block, each level's blocks over whoever the finer levels left unassigned."""
    n_people, n_groups = len(levels[0][0][0]), len(levels[0][0][1])
    free_people, free_groups = np.ones(n_people, dtype=bool), np.ones(n_groups, dtype=bool)
    rows, cols = [], []
    for (people_block, group_block), reach in levels:
        who_all, where_all = np.flatnonzero(free_people), np.flatnonzero(free_groups)
        for block in np.unique(people_block[who_all]):
            r, c = solve(
                who_all[people_block[who_all] == block], where_all[group_block[where_all] == block], reach
            )
            free_people[r], free_groups[c] = False, False
            rows.append(r)
            cols.append(c)
    return np.concatenate(rows), np.concatenate(cols)
