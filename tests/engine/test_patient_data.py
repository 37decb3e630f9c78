"""The patient-data guard on a corpus of true and false positives (tests/data/patient_corpus.tsv):
NHS numbers with a valid Modulus 11 check digit, dates of birth in context, UK postcodes and
record numbers next to a name are caught; phone numbers, meeting dates, bleep numbers and a
ten-digit number with a bad check digit are allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.core.patient_data import (
    NHS_NUMBER,
    POSTCODE,
    check,
    findings,
    kinds,
    nhs_check_digit_ok,
)

CORPUS = Path(__file__).parent.parent / "data" / "patient_corpus.tsv"


def corpus() -> list[tuple[list[str], str]]:
    """What the guard finds in each text: rows marked ``miss:`` are patient data it is known to miss
    (it finds nothing), ``alarm:`` clean text it is known to refuse (the bench counts both honestly)."""
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expected, text = line.split("\t", 1)
        if expected.startswith("miss:"):
            expected = "-"
        rows.append(([] if expected == "-" else expected.removeprefix("alarm:").split(","), text))
    return rows


@pytest.mark.parametrize(("expected", "text"), corpus(), ids=[t[:40] for _, t in corpus()])
def test_the_corpus(expected: list[str], text: str) -> None:
    assert sorted(kinds(findings(text))) == sorted(expected)


def test_modulus_11() -> None:
    assert nhs_check_digit_ok("9434765919") and nhs_check_digit_ok("4010232137")
    assert not nhs_check_digit_ok("9434765918")  # a bad check digit
    assert not nhs_check_digit_ok("1000000010")  # 11 - (12 mod 11) = 10: no valid check digit
    assert not nhs_check_digit_ok("94347659")


def test_the_refusal_names_the_kind_and_never_echoes_the_text() -> None:
    message = check("NHS number 9434765919, DOB 12/03/1961, John Smith")
    assert "an NHS number and a date of birth" in message
    for piece in ("9434765919", "12/03/1961", "John", "Smith"):
        assert piece not in message
    assert check("Call me on 0113 243 3144.") == ""


def test_levels_tune_it() -> None:
    assert kinds(findings("Our office is LS1 3EX", "relaxed")) == []
    assert kinds(findings("Our office is LS1 3EX", "standard")) == [POSTCODE]
    labelled_bad = "NHS number 9434765918"
    assert kinds(findings(labelled_bad, "standard")) == []
    assert kinds(findings(labelled_bad, "strict")) == [NHS_NUMBER]
    assert kinds(findings("Seen on 12/03/1961 in clinic", "strict")) != []
    assert kinds(findings("Seen on 12/03/1961 in clinic", "standard")) == []
