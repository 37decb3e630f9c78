"""Writes the survey export fixtures, each shaped exactly like its tool's export (run it again to
change them): SurveyMonkey (two heading rows; a multi-select question over one column per choice),
Microsoft Forms (XLSX; choices in one cell, each followed by ";") and Google Forms (CSV; choices
separated by ", "). The people are the fake Slack's (tests/slack/fake_slack.py), plus one nobody
has heard of, and (SurveyMonkey) one who left the email blank.

    .venv/bin/python tests/surveys/make_fixtures.py
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "fixtures"

QUESTIONS = [
    "What is your role?",
    "What is your profession?",
    "What is your grade?",
    "What is your specialty?",
    "Which organisation employs you?",
    "What type of organisation is it?",
    "Which NHS region do you work in?",
]
INTERESTS_Q = "Which areas interest you? (tick all that apply)"
INTEREST_CHOICES = ["Digital and data", "Quality improvement", "Finance and productivity", "Leadership"]
CONSENT_Q = "Do you consent to take part and for the coordinators to use your details?"
SHARE_Q = "May we quote your learning points, anonymised, in digests?"

# first, last, email, role, profession, grade, specialty, employer, employer type, region, interests, consent, share
PEOPLE = [
    ("Asha", "Patel", "asha.patel@nhs.net", "Doctor", "Doctor", "CT2", "Psych",
     "Leeds and York Partnership NHS FT", "MH trust", "North East and Yorkshire",
     ["Digital and data", "Quality improvement"], "Yes", "Yes"),
    ("Ben", "Okafor", "ben.okafor@nhs.net", "NHS Graduate Management Training Scheme", "", "GMTS year 1", "",
     "Leeds Teaching Hospitals NHS Trust", "Acute trust", "Yorkshire", ["Finance and productivity"], "Yes", "No"),
    ("Chloe", "Wright", "chloe.wright@nhs.net", "FY1 doctor", "Doctor", "FY1 doctor", "Psychiatric medicine",
     "Bradford District Care NHS FT", "Mental Health Trust", "North East and Yorkshire", ["Leadership"],
     "Yes", "Yes"),
    ("Sam", "Nobody", "sam.nobody@nhs.net", "GMTS", "", "GMTS 2", "", "NHS England", "ICB", "London", [],
     "Yes", "No"),
    ("Ella", "Brontë", "ella.brown@nhs.net", "Doctor", "Doctor", "ST4", "General surgery",
     "Leeds Teaching Hospitals NHS Trust", "Acute trust", "North East and Yorkshire",
     ["Quality improvement", "Leadership"], "Yes", "No"),
]  # fmt: skip


def surveymonkey_rows(people=PEOPLE) -> list[list[object]]:  # type: ignore[no-untyped-def]
    top = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
           "First Name", "Last Name", "Custom Data 1", *QUESTIONS, INTERESTS_Q,
           *[""] * (len(INTEREST_CHOICES) - 1), CONSENT_Q, SHARE_Q]  # fmt: skip
    sub = ["", "", "", "", "", "", "", "", "", "Response", "Response", "Open-Ended Response", "Response",
           "Open-Ended Response", "Response", "Response", *INTEREST_CHOICES, "Response", "Response"]  # fmt: skip
    rows: list[list[object]] = [top, sub]
    for n, p in enumerate(people):
        first, last, email, *answers, interests, consent, share = p
        started = datetime(2026, 8, 3, 9, n, 0)
        rows.append([11450000000 + n, 402000000, started, started.replace(minute=n + 5), f"10.0.0.{n + 1}",
                     email, first, last, "", *answers,
                     *[c if c in interests else "" for c in INTEREST_CHOICES], consent, share])  # fmt: skip
    return rows


def surveymonkey_with_blank_email() -> list[list[object]]:
    people = [*PEOPLE, ("Dev", "Sharma", "", "Graduate management trainee", "", "GMTS year 2", "", "NHS England", "ICB",
                        "London", ["Digital and data"], "Yes", "No")]  # fmt: skip
    return surveymonkey_rows(people)


def microsoft_forms_rows() -> list[list[object]]:
    rows: list[list[object]] = [["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
                                 *QUESTIONS, INTERESTS_Q, CONSENT_Q, SHARE_Q]]  # fmt: skip
    for n, p in enumerate(PEOPLE):
        first, last, email, *answers, interests, consent, share = p
        started = datetime(2026, 8, 3, 9, n, 0)
        rows.append([n + 1, started, started.replace(minute=n + 5), email, f"{first} {last}", None, *answers,
                     "".join(f"{i};" for i in interests), consent, share])  # fmt: skip
    return rows


def google_forms_rows() -> list[list[object]]:
    rows: list[list[object]] = [["Timestamp", "Email address", "Full name", *QUESTIONS, INTERESTS_Q,
                                 CONSENT_Q, SHARE_Q]]  # fmt: skip
    for n, p in enumerate(PEOPLE):
        first, last, email, *answers, interests, consent, share = p
        stamp = f"03/08/2026 09:{n:02d}:00"
        rows.append([stamp, email, f"{first} {last}", *answers, ", ".join(interests),
                     "Yes, I agree" if consent == "Yes" else "No", share])  # fmt: skip
    return rows


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if c is None else c.strftime("%m/%d/%Y %I:%M:%S %p") if isinstance(c, datetime)
                         else c for c in row])  # fmt: skip
    return out.getvalue()


def _xlsx(rows: list[list[object]], path: Path, title: str) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append([None if c == "" else c for c in row])
    book.save(path)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    _xlsx(surveymonkey_rows(), HERE / "surveymonkey.xlsx", "Sheet")
    (HERE / "surveymonkey.csv").write_bytes(_csv(surveymonkey_with_blank_email()).encode("utf-8-sig"))
    _xlsx(microsoft_forms_rows(), HERE / "microsoft_forms.xlsx", "Sheet1")
    (HERE / "google_forms.csv").write_bytes(_csv(google_forms_rows()).encode("utf-8"))


if __name__ == "__main__":
    main()
