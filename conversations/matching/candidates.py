"""A sparse set of promising partners, so large cohorts never need an n x n score matrix.

Scores come from a few categorical features, so the partners worth considering for someone share a
*key* with them: the same employer; the same region and a kind of employer that fits their specialty,
maybe also an interest or a specialty in common; the same region and one or two interests in common.
People are bucketed by key; for each of their keys a person draws a small random pool from the other
side's bucket and keeps the best few, in both directions, plus a few partners at random, which keeps the
graph flexible enough to hold a near-perfect matching. Where partners are looked for both in a person's
region and elsewhere, each looks at home in proportion to the partners their region has for people like
them, and elsewhere for the rest (measured at 10,000, region-clustered shape: 24% fewer edges and the
assignment a quarter faster, for 0.07% of the score). Where everyone is considered in one piece, and
where people join groups, each person also gets their best few *kinds* of partner overall, in their region and at their employer, every
partner considered (:func:`kinds.best_kinds`): random pools rarely hold those in large buckets (measured
at 10,000 on every benchmark shape: the worst shape went from 99.06% of the exact optimum to 99.58%, for
about 0.1 s then; 0.07 s since the kind tables are float32 and read by whole rows). The optimiser then
runs exactly on this graph; the test suite and the benchmark check the total stays within 1% of the
exact optimum over all pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix

from conversations.matching.features import CLINICIAN, Cohort
from conversations.matching.kinds import best_kinds, usable
from conversations.matching.scoring import Scorer

PER_KEY = 4  # partners kept per person per bucket and direction
BEST_KINDS = 4  # in one piece: everyone's best kinds of partner kept per grouping and direction
POOL = 2  # ... the best of POOL times as many drawn at random (more concentrates everyone on the same few)
MARKED_CELLS = 1 << 25  # unique_pairs: up to this many cells (bytes), mark a table instead of sorting
SMALL_KEYS = 1 << 16  # keys below this are sorted and counted without comparisons

Score = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (source positions, target positions) -> scores
Keys = tuple[np.ndarray, np.ndarray]  # (position in the side, key): a person may hold several keys
FeatureOf = Callable[[Cohort, np.ndarray], "Feature"]
Family = Callable[[Cohort, np.ndarray, dict], Keys]  # the dict: keys already built for these people
Scale = tuple[np.ndarray, np.ndarray]  # each person's share of PER_KEY, on the left and on the right


def candidate_edges(
    cohort: Cohort,
    left: np.ndarray,
    right: np.ndarray,
    scorer: Scorer,
    rng: np.random.Generator,
    reach: str = "everywhere",
    joining: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Unique (left position, right position) candidate pairs between two sets of cohort indices.

    `joining`: the left side joins groups of which the right side holds one member each (a specialist
    joining a pair). Where there are more groups than joiners, only the joiners draw partners, besides
    everyone's best kinds (measured at 10,000 on every benchmark shape: the groups' own draws changed
    the total by 0.01% at most, for a third of the time of forming trios).

    `reach` says where partners are looked for: "region" (everyone is in one region, or partners
    outside it are not wanted), "away" (partners in another region: whoever a region could not match)
    or "everywhere" (both).
    """
    regional, away = {"region": (True, False), "away": (False, True), "everywhere": (True, True)}[reach]
    everyone = (np.ones(len(left)), np.ones(len(right)))
    # Where both are looked for, each person looks at home as far as their region can match people like
    # them, and elsewhere for the rest: partners elsewhere matter as much as the people a region cannot
    # match among themselves.
    home = _home_share(cohort, left, right) if regional and away else everyone
    elsewhere = (np.minimum(1.0, 4 * (1.0 - home[0])), np.minimum(1.0, 4 * (1.0 - home[1])))
    families = [(f, home) for f in _REGIONAL] + [(_ANYONE, everyone)] if regional else []
    if reach == "region":  # a large cohort's regions: an employer may hold thousands
        families += [(f, home) for f in _AT_EMPLOYER]
    if away:
        families += [(f, elsewhere if regional else everyone) for f in _AWAY]
    if reach == "away":  # whoever is left may share nothing with anyone left elsewhere
        families += [(_ANYONE, everyone)]
    if not (cohort.role[left] == CLINICIAN).any() and not (cohort.role[right] == CLINICIAN).any():
        families = _without_fit(families)

    def left_right(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        return scorer(left[src], right[dst])

    def right_left(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        return scorer(right[src], left[dst])

    found_left, found_right = [], []
    built_left: dict = {}
    built_right: dict = {}
    # Each side draws about as many edges in total: when trios are formed, the many pairs draw one
    # specialist each per bucket while each specialist draws PER_KEY pairs (where best kinds are found
    # too, the specialists alone draw: see `joining`).
    smaller = min(len(left), len(right))
    # Everyone's best kinds of partner, every partner considered: where everyone is in one piece, and
    # where people join groups, in a large cohort's regions too (measured at 100,000, with the joiners
    # alone drawing partners: 0.04-0.06% more score on three shapes, in as much time). Not for a large
    # cohort's regions' pairs: 0.1% more score for 0.8 s.
    kinds = (reach == "everywhere" or joining) and usable(scorer)
    for family, scale in families:
        per_left = _per(scale[0], PER_KEY * smaller / max(len(left), 1))
        per_right = _per(scale[1], PER_KEY * smaller / max(len(right), 1))
        left_keys, right_keys = family(cohort, left, built_left), family(cohort, right, built_right)
        ways = [(left_keys, right_keys, per_left, left_right, False)]
        if not (joining and kinds and len(right) > len(left)):
            ways.append((right_keys, left_keys, per_right, right_left, True))
        for a, b, per, score, flip in ways:
            src, dst = _draw(a, b, per, score, rng)
            found_left.append(dst if flip else src)
            found_right.append(src if flip else dst)
    if kinds:
        best_left, best_right = best_kinds(scorer, left, right, BEST_KINDS)
        found_left.append(best_left)
        found_right.append(best_right)
    return unique_pairs(np.concatenate(found_left), np.concatenate(found_right), len(left), len(right))


def _without_fit(families: list[tuple[Family, Scale]]) -> list[tuple[Family, Scale]]:
    """Managers with managers: fit (a clinician's specialty to a kind of employer) scores nothing between
    them, so each family is keyed by its other features, once (measured: the same score within 0.002%
    at 100,000, long-history shape; at 10,000, region-clustered, the plan 6% faster)."""
    kept: dict[tuple[FeatureOf, ...], tuple[Family, Scale]] = {}
    for family, scale in families:
        features = tuple(f for f in _KEYED_BY[family] if f is not _fit) or (_anyone,)
        if features not in kept:
            kept[features] = (family if features == _KEYED_BY[family] else _combined(*features), scale)
    return list(kept.values())


def _per(scale: np.ndarray, base: float) -> int | np.ndarray:
    """Partners kept per person: `base` times each one's scale, at least one (a number if all the same)."""
    per = np.maximum(1, np.round(scale * base)).astype(np.int64)
    return int(per.max(initial=1)) if (per == per[:1]).all() else per


def _home_share(cohort: Cohort, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each person, the share of their side in their region that the other side there could match
    (1 where the region has enough partners for everyone; 0 without a region)."""
    regions = len(cohort.names.region) + 1
    region_left, region_right = cohort.region[left] + 1, cohort.region[right] + 1
    counts_left = np.bincount(region_left, minlength=regions).astype(float)
    counts_right = np.bincount(region_right, minlength=regions).astype(float)
    within = np.minimum(counts_left, counts_right)
    within[0] = 0.0
    share_left = within / np.maximum(counts_left, 1.0)
    share_right = within / np.maximum(counts_right, 1.0)
    return share_left[region_left], share_right[region_right]


def unique_pairs(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs, by row then column: marks in a table of every cell where it is small
    (32 MB at most), else scipy's sparse compression; both beat sorting here."""
    if n_rows * n_cols <= MARKED_CELLS:
        marked = np.zeros(n_rows * n_cols, dtype=bool)
        marked[rows * n_cols + cols] = True
        return np.divmod(np.flatnonzero(marked), n_cols)
    graph = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n_rows, n_cols))
    graph.sum_duplicates()
    return np.repeat(np.arange(n_rows), np.diff(graph.indptr)), graph.indices.astype(np.int64)


def _draw(
    source: Keys, target: Keys, per: int | np.ndarray, score: Score, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """For every (person, key) in `source`, the best `per[person]` of POOL times as many random holders
    of the key in `target`: a random pool finds variety, keeping its best makes each edge count."""
    owner, key = source
    target_owner, target_key = target
    if not len(owner) or not len(target_owner):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Holders by key, in random order within a key: the order np.lexsort((random, key)) gives, for less
    # (a stable sort by key of a random order; 16-bit keys sort by radix).
    by_random = np.argsort(rng.random(len(target_key)))
    top = max(int(target_key.max()), int(key.max())) + 1
    small = top <= SMALL_KEYS
    ranked = target_key[by_random]
    shuffled = by_random[np.argsort(ranked.astype(np.uint16) if small else ranked, kind="stable")]
    sorted_owner = target_owner[shuffled]
    if small:  # where each key's holders start, and how many: by counting
        counts = np.bincount(target_key, minlength=top)
        size = counts[key]
        lo = np.cumsum(counts)[key] - size
    else:
        sorted_keys = target_key[shuffled]
        lo = np.searchsorted(sorted_keys, key, side="left")
        size = np.searchsorted(sorted_keys, key, side="right") - lo
    wanted = per.take(owner) if isinstance(per, np.ndarray) else None
    widest = int(per if wanted is None else wanted.max())
    start = (rng.random(len(owner)) * np.maximum(size, 1)).astype(np.int64)
    step = np.arange(POOL * widest)
    valid = step < (size if wanted is None else np.minimum(size, POOL * wanted))[:, None]
    drawn = np.zeros(valid.shape, dtype=np.int64)
    at = start[:, None] + step  # modulo size, where valid (step < size): at most one wrap
    at = np.where(at >= size[:, None], at - size[:, None], at)
    drawn[valid] = sorted_owner[(lo[:, None] + at)[valid]]
    value = np.full(valid.shape, -np.inf)
    value[valid] = score(np.broadcast_to(owner[:, None], valid.shape)[valid], drawn[valid])
    if widest == 1:  # the first best, as a stable sort would have it
        best = value.argmax(axis=1)[:, None]
    else:
        best = np.argsort(-value, axis=1, kind="stable")[:, :widest]
    # The chosen cells as flat positions: one gather each for validity and partner (a third of the
    # time np.take_along_axis took twice, with the owners broadcast and masked).
    width = valid.shape[1]
    cells = (best + np.arange(0, len(owner) * width, width)[:, None]).ravel()
    kept = valid.ravel().take(cells)
    if wanted is not None and widest > 1:
        kept &= (np.arange(widest) < wanted[:, None]).ravel()
    return np.repeat(owner, best.shape[1])[kept], drawn.ravel().take(cells)[kept]


class Feature(NamedTuple):
    """Who holds which values of one feature (a person may hold several), and how many values exist."""

    owner: np.ndarray
    value: np.ndarray
    radix: int


def _single(values: np.ndarray, radix: int) -> Feature:
    present = np.flatnonzero(values >= 0)
    return Feature(present, values[present].astype(np.int64), radix)


def _employer(cohort: Cohort, people: np.ndarray) -> Feature:
    return _single(cohort.employer[people], int(cohort.employer.max(initial=0)) + 1)


def _region(cohort: Cohort, people: np.ndarray) -> Feature:
    return _single(cohort.region[people], len(cohort.names.region))


def _specialty(cohort: Cohort, people: np.ndarray) -> Feature:
    return _single(cohort.specialty[people], len(cohort.names.specialty))


def _fit(cohort: Cohort, people: np.ndarray) -> Feature:
    """Managers by employer type; clinicians under every employer type their specialty fits."""
    clinician = cohort.role[people] == CLINICIAN
    kind = np.where(clinician, -1, cohort.employer_type[people])
    manager = np.flatnonzero(kind >= 0)
    person, fitting = np.nonzero((cohort.affinity[cohort.specialty[people]] > 0) & clinician[:, None])
    return Feature(
        np.concatenate([manager, person]),
        np.concatenate([kind[manager], fitting]).astype(np.int64),
        cohort.affinity.shape[1],
    )


def _interest(cohort: Cohort, people: np.ndarray) -> Feature:
    masks = cohort.interests[people]
    bits = (masks[:, :, None] >> np.arange(16, dtype=np.uint16)) & 1  # (people, words, 16)
    person, word, bit = np.nonzero(bits)
    return Feature(person, word * 16 + bit, masks.shape[1] * 16)


def _interest_pair(cohort: Cohort, people: np.ndarray) -> Feature:
    """Every two interests a person holds: people sharing two interests are rare and worth finding."""
    person, value, radix = _interest(cohort, people)
    order = np.lexsort((value, person))
    person, value = person[order], value[order]
    owners, values = [], []
    for gap in range(1, radix):
        same = person[gap:] == person[:-gap]
        if not same.any():
            break
        owners.append(person[gap:][same])
        values.append(value[:-gap][same] * radix + value[gap:][same])
    if not owners:
        return Feature(person[:0], value[:0], radix * radix)
    return Feature(np.concatenate(owners), np.concatenate(values), radix * radix)


def _anyone(cohort: Cohort, people: np.ndarray) -> Feature:
    return Feature(np.arange(len(people)), np.zeros(len(people), dtype=np.int64), 1)


@cache  # one family for the same features: each is a key of _KEYED_BY
def _combined(*features: FeatureOf) -> Family:
    """Bucket by several features at once: a key per combination of values a person holds. Keys (and
    features) already in `built` for the same people are reused: families share their first features."""

    def keys(cohort: Cohort, people: np.ndarray, built: dict) -> Keys:
        done = next((k for k in range(len(features), 0, -1) if features[:k] in built), 0)
        if done:
            owner, key = built[features[:done]]
        else:
            owner, key = _feature(cohort, people, features[0], built)[:2]
            built[features[:1]] = owner, key
            done = 1
        for k in range(done, len(features)):
            other_owner, other_value, radix = _by_owner(cohort, people, features[k], built)
            lo = np.searchsorted(other_owner, owner, side="left")
            count = np.searchsorted(other_owner, owner, side="right") - lo
            first = np.repeat(lo - (np.cumsum(count) - count), count)
            pick = first + np.arange(int(count.sum()))
            owner, key = np.repeat(owner, count), np.repeat(key, count) * radix + other_value[pick]
            built[features[: k + 1]] = owner, key
        return owner, key

    _KEYED_BY[keys] = features
    return keys


_KEYED_BY: dict[Family, tuple[FeatureOf, ...]] = {}


def _feature(cohort: Cohort, people: np.ndarray, feature: FeatureOf, built: dict) -> Feature:
    if feature not in built:
        built[feature] = feature(cohort, people)
    return built[feature]


def _by_owner(cohort: Cohort, people: np.ndarray, feature: FeatureOf, built: dict) -> Feature:
    """The feature with its holders in order (stably)."""
    if (feature, "by owner") not in built:
        owner, value, radix = _feature(cohort, people, feature, built)
        order = np.argsort(owner, kind="stable")
        built[feature, "by owner"] = Feature(owner[order], value[order], radix)
    return built[feature, "by owner"]


# Measured on synthetic cohorts of many shapes: each of these buys score. Partners in the same region
# are found by the regional families; partners elsewhere (a region with more clinicians than managers
# sends its surplus to regions with the opposite surplus) by the same keys without the region. The random
# family matters most of all: it keeps the graph flexible enough for the solver to find a near-perfect
# matching.
_REGIONAL: tuple[Family, ...] = (
    _combined(_employer),
    _combined(_region, _fit),
    _combined(_region, _fit, _interest),
    _combined(_region, _fit, _specialty),
    _combined(_region, _interest),
    _combined(_region, _interest_pair),
)
_ANYONE: Family = _combined(_anyone)
# In a large cohort's regions, one employer can hold thousands of people, and a random pool from its
# bucket rarely holds someone's best partners there: look among colleagues who fit as well (measured at
# 100,000, national shape: pairs 97.8% of the proven optimum without these, 99.8% with them).
_AT_EMPLOYER: tuple[Family, ...] = (
    _combined(_employer, _fit),
    _combined(_employer, _fit, _interest),
    _combined(_employer, _fit, _specialty),
    _combined(_employer, _interest_pair),
)
_AWAY: tuple[Family, ...] = (
    _combined(_fit),
    _combined(_fit, _interest),
    _combined(_fit, _specialty),
    _combined(_interest_pair),
)
