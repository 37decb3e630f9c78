"""A guard against patient data in free text: Buddy is for staff learning, and must never hold a
patient's identifiers. Pure functions; the flows refuse a form (without echoing it) when
:func:`findings` returns anything, so nothing is stored.

What it catches (``standard``, the default):

- an NHS number: ten digits, optionally grouped 3-3-4 with spaces or dashes, whose last digit is a
  valid Modulus 11 check digit (a ten-digit number with a bad check digit is not one);
- a date of birth in context: a date near "DOB", "date of birth", "born" or "birthday";
- a UK postcode (a full one, like ``LS1 3EX``);
- a hospital or MRN-like number next to a name: a number of six or more digits after "MRN",
  "hospital number", "unit number", "patient number" and the like, or next to a title and a name
  ("Mr Smith", "Mrs J Jones").

A cohort tunes it with ``patient_guard``: ``relaxed`` leaves out postcodes (a trust's own address
is common in answers); ``strict`` also refuses any ten-digit number labelled NHS, whatever its check
digit, any date with a year from before 2010 (a birth year), and any six-plus digit number in a
text that also holds a capitalised first name and surname.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = ("relaxed", "standard", "strict")
DEFAULT_LEVEL = "standard"

NHS_NUMBER = "an NHS number"
DATE_OF_BIRTH = "a date of birth"
POSTCODE = "a postcode"
RECORD_NUMBER = "a hospital or record number next to a name"

_TEN = re.compile(r"(?<![\w/.-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w/-]|\.\d)")
_NHS_LABEL = re.compile(r"\bNHS\s*(?:no\.?|num(?:ber)?|#)?\s*[:=]?\s*$", re.I)
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](\d{{2}}|\d{{4}})|(\d{{4}})-\d{{2}}-\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?\s+(\d{{4}}))\b",
    re.I,
)
_BIRTH = re.compile(r"\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born|birth\s*day|birthdate)\b", re.I)
_POSTCODE = re.compile(
    r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s+\d[ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2})\b"
)
_POSTCODE_LOWER = re.compile(r"\b[a-pr-uwyz][a-hk-y]?\d[a-z\d]?\s\d[abd-hjlnp-uw-z]{2}\b")
_RECORD_LABEL = re.compile(
    r"\b(?:MRN|M\.R\.N\.?|hospital\s*(?:no\.?|num(?:ber)?|id)|hosp\s*no\.?|unit\s*(?:no\.?|num(?:ber)?)|"
    r"patient\s*(?:no\.?|num(?:ber)?|id)|case\s*(?:no\.?|num(?:ber)?)|RTX|K\s*number)\s*[:#=]?\s*([A-Z]{0,3}\d{6,10})\b",
    re.I,
)
_LONG_NUMBER = re.compile(r"\b[A-Z]{0,3}\d{6,10}\b")
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Master)\.?\s+(?:[A-Z]\.?\s+)?[A-Z][a-z'-]+")
_FULL_NAME = re.compile(r"\b[A-Z][a-z'-]{1,20}\s+[A-Z][a-z'-]{1,20}\b")
_NEAR = 60  # characters either side that count as "next to"


@dataclass(frozen=True)
class Finding:
    kind: str  # one of the labels above, in words for the person
    start: int  # where, for tests and the bench (never shown: the text is not echoed)
    end: int


def nhs_check_digit_ok(digits: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 - (sum mod 11) is the check digit
    (11 means 0; 10 means the number is invalid)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def findings(text: str, level: str = DEFAULT_LEVEL) -> list[Finding]:
    """Everything in ``text`` that looks like patient data, at the cohort's ``level``."""
    if not text:
        return []
    level = level if level in LEVELS else DEFAULT_LEVEL
    found: list[Finding] = []
    for m in _TEN.finditer(text):
        digits = "".join(m.groups())
        labelled = bool(_NHS_LABEL.search(text[max(0, m.start() - 20) : m.start()]))
        if nhs_check_digit_ok(digits) or (level == "strict" and labelled):
            found.append(Finding(NHS_NUMBER, m.start(), m.end()))
    for m in _DATE.finditer(text):
        around = text[max(0, m.start() - 30) : m.end() + 15]
        year = next((g for g in m.groups() if g), "")
        old = len(year) == 4 and int(year) < 2010
        if _BIRTH.search(around) or (level == "strict" and old):
            found.append(Finding(DATE_OF_BIRTH, m.start(), m.end()))
    if level != "relaxed":
        for pattern in (_POSTCODE, _POSTCODE_LOWER):
            for m in pattern.finditer(text):
                found.append(Finding(POSTCODE, m.start(), m.end()))
    for m in _RECORD_LABEL.finditer(text):
        found.append(Finding(RECORD_NUMBER, m.start(), m.end()))
    taken = {(f.start, f.end) for f in found}
    for m in _LONG_NUMBER.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        around = text[max(0, m.start() - _NEAR) : m.end() + _NEAR]
        if _TITLED_NAME.search(around) or (level == "strict" and _FULL_NAME.search(text)):
            found.append(Finding(RECORD_NUMBER, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def kinds(found: list[Finding]) -> list[str]:
    """The kinds found, each once, in the order they appear."""
    seen: list[str] = []
    for f in found:
        if f.kind not in seen:
            seen.append(f.kind)
    return seen


def refusal(found: list[Finding], what: str = "your answer") -> str:
    """The message for a refused form: names what looked like patient data, never the text itself."""
    named = kinds(found)
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return (
        f"This looks like patient data ({listed}) in {what}. Please take it out and send again: "
        "Buddy is for your learning, and must never hold a patient's details."
    )


def check(text: str, level: str = DEFAULT_LEVEL, what: str = "your answer") -> str:
    """The refusal for ``text``, or "" when it is clean."""
    found = findings(text, level)
    return refusal(found, what) if found else ""
