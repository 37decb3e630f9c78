"""Free-text survey answers mapped to Buddy's vocabulary: a synonyms table, then fuzzy matching.

``Psych`` is psychiatry and ``MH trust`` a mental health trust because the synonyms table says so
(``data/synonyms.yaml``, which a deployment extends with its own file, ``BUDDY_SYNONYMS``). Anything
else is compared with every label and synonym (rapidfuzz): a close one is used but shown to the
coordinator as a value to check before anything is imported; a value close to nothing is a
problem with its line and column. Grades are free text, written the way Buddy shows them
(``ct 2`` and ``Core trainee year 2`` are ``CT2``; ``FY1 doctor`` is ``FY1``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from rapidfuzz import fuzz, process, utils

from conversations.core import vocabulary as v

CHECK_SCORE = 70.0  # below this nothing is close enough to suggest with a straight face

LABELS: dict[str, dict[str, str]] = {
    "role": {str(k): label for k, label in v.ROLE_LABELS.items()},
    "profession": v.PROFESSIONS,
    "specialty": v.SPECIALTIES,
    "specialist_area": v.SPECIALIST_AREAS,
    "employer_type": {str(k): label for k, label in v.EMPLOYER_TYPE_LABELS.items()},
    "region": v.REGIONS,
    "interests": v.INTERESTS,
}
WHAT = {"role": "role", "profession": "profession", "specialty": "specialty", "specialist_area": "specialist area",
        "employer_type": "employer type", "region": "region", "interests": "interest"}  # fmt: skip


@dataclass(frozen=True)
class Normalised:
    value: str | None  # the vocabulary key (or a grade as Buddy writes it); None if nothing fits
    certain: bool = True  # False: the closest match, for the coordinator to check
    suggestion: str = ""  # the closest label, for a value to check or a problem

    @property
    def label(self) -> str:
        return self.suggestion


def simple(text: str) -> str:
    """Compared ignoring case, extra spaces and most punctuation (``&`` and digits stay)."""
    return " ".join(re.sub(r"[^\w&+]+", " ", text.lower()).split())


class Synonyms:
    """Per field, a simplified answer -> a vocabulary key."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.tables: dict[str, dict[str, str]] = {}
        self.extend(tables or _builtin())

    def extend(self, tables: Mapping[str, Mapping[str, Any]]) -> None:
        """Add (or replace) entries; an entry whose key is not in the field's vocabulary is refused."""
        for name, entries in tables.items():
            if name not in LABELS:
                raise ValueError(f"synonyms: “{name}” isn't a field with fixed answers ({', '.join(LABELS)})")
            for said, meant in (entries or {}).items():
                key = v.lookup(LABELS[name], str(meant))
                if key is None:
                    raise ValueError(f"synonyms: {name}: “{meant}” isn't one of {', '.join(LABELS[name])}")
                self.tables.setdefault(name, {})[simple(str(said))] = key

    def get(self, name: str, raw: str) -> str | None:
        return self.tables.get(name, {}).get(simple(raw))


def _builtin() -> dict[str, dict[str, str]]:
    text = resources.files("conversations.core").joinpath("data/synonyms.yaml").read_text("utf-8")
    return yaml.safe_load(text) or {}


def load(path: str) -> dict[str, dict[str, str]]:
    """A deployment's synonyms file (the shape of ``data/synonyms.yaml``)."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a field name, then “answer: meaning” lines under it")
    return data


SYNONYMS = Synonyms()  # the shipped table; bot/ extends it once at start-up from BUDDY_SYNONYMS


def choice(name: str, raw: str, synonyms: Synonyms = SYNONYMS) -> Normalised:
    """One answer for a field with fixed answers (role, specialty, region, ...)."""
    table = LABELS[name]
    key = v.lookup(table, raw) or synonyms.get(name, raw)
    if key is not None:
        return Normalised(key, True, table[key])
    candidates: dict[str, str] = {}
    for k, label in table.items():
        candidates[simple(label)] = k
        candidates[simple(k.replace("_", " "))] = k
    for said, k in synonyms.tables.get(name, {}).items():
        if len(said) > 3:  # abbreviations (ED, GP, QI) count only when written exactly
            candidates.setdefault(said, k)
    text = simple(raw)
    best = process.extract(
        text, list(candidates), scorer=fuzz.WRatio, processor=utils.default_process, limit=5
    )
    if not best:
        return Normalised(None)
    # of equally good matches, the one most like the whole answer ("psychiatric medicine" is psychiatry)
    match, score, _ = max(best, key=lambda m: (round(m[1]), fuzz.ratio(text, m[0])))
    key = candidates[match]
    return Normalised(key if score >= CHECK_SCORE else None, False, table[key])


_GRADES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (r"^(?:fy|f|foundation(?: year)?|foundation doctor(?: year)?)\s*([12])\b", "FY{}"),
        (r"^(?:ct|core trainee|core training|core surgical trainee)(?: year)?\s*([1-3])\b", "CT{}"),
        (r"^(?:imt|internal medicine trainee)(?: year)?\s*([1-3])\b", "IMT{}"),
        (r"^(?:st|str|specialty trainee|specialty registrar|specialist registrar)(?: year)?\s*([1-8])\b", "ST{}"),
        (r"^(?:gpst|gp trainee|gpvts)(?: year)?\s*([1-3])\b", "GPST{}"),
        (r"^(?:gmts|gmt|nhs gmts|graduate management trainee|general management trainee)(?: year)?\s*([12])\b",
         "GMTS year {}"),
        (r"^(?:afc )?band\s*([2-9][abcd]?)\b", "Band {}"),
    )
)  # fmt: skip


def grade(raw: str) -> str:
    """A grade as Buddy writes it (``CT2``, ``FY1``, ``ST4``, ``Band 8a``, ``GMTS year 1``); other
    grades are kept as given."""
    text = simple(raw)
    for pattern, template in _GRADES:
        found = pattern.match(text)
        if found:
            return template.format(found.group(1))
    if text in {"gmts", "gmt", "graduate management trainee", "nhs graduate management training scheme"}:
        return "GMTS"
    return raw.strip()


_YES = {"yes", "y", "true", "1", "x", "agree", "i agree", "i consent", "consent", "agreed", "ok"}


def consent(answers: list[str]) -> bool:
    """A consent question: ticked, or answered yes (``Yes, I agree``), is consent."""
    for answer in answers:
        text = simple(answer)
        if text in _YES or text.startswith(("yes", "i agree", "i consent", "i am happy", "i give")):
            return True
    return False
