"""Reading a survey tool's export as a table of questions and answers.

The three tools Buddy's schemes use write their exports differently:

- **SurveyMonkey** (CSV or XLSX): two heading rows. The first has each question's text, once,
  over as many columns as it has answers; the second has ``Response`` (or ``Open-Ended
  Response``) for a single answer, or each choice of a multi-select question, one per column, with
  the choice's text in the cell when it was ticked. Metadata first: Respondent ID, Collector ID,
  Start Date, End Date, IP Address, Email Address, First Name, Last Name, Custom Data 1.
- **Microsoft Forms** (XLSX): one heading row: ID, Start time, Completion time, Email, Name, then a
  column per question; several choices in one cell, each followed by ``;``.
- **Google Forms** (CSV): Timestamp, Email address, then a column per question; several choices
  in one cell, separated by ``, ``.

A :class:`Question` is what a coordinator maps to one of Buddy's fields: one column, or the
several columns of a SurveyMonkey multi-select question.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

SUBHEADINGS = {"response", "open-ended response", "open ended response"}
MAX_ROWS = 20000


class TableError(ValueError):
    """The file cannot be read as a table: the message says where and what to do."""


@dataclass(frozen=True)
class Question:
    heading: str  # the question's text, as in the file
    columns: tuple[int, ...]  # one, or one per choice of a multi-select question
    choices: tuple[str, ...] = ()  # SurveyMonkey's choice labels, one per column

    @property
    def multi(self) -> bool:
        return len(self.columns) > 1


@dataclass
class Table:
    questions: list[Question]
    records: list[tuple[int, list[str]]] = field(default_factory=list)  # (line in the file, cells)
    tool: str = ""  # "SurveyMonkey", "Microsoft Forms", "Google Forms" or ""

    def question(self, heading: str) -> Question | None:
        wanted = norm(heading)
        return next((q for q in self.questions if norm(q.heading) == wanted), None)

    def answer(self, cells: list[str], question: Question) -> list[str]:
        """What one person answered: one text, or each ticked choice of a multi-select question."""
        if not question.multi:
            index = question.columns[0]
            value = cells[index].strip() if index < len(cells) else ""
            return [value] if value else []
        picked = []
        for index, choice in zip(question.columns, question.choices, strict=True):
            value = cells[index].strip() if index < len(cells) else ""
            if not value:
                continue
            # SurveyMonkey writes the choice's text; some exports write 1 or x instead
            picked.append(choice if value.lower() in {"1", "x", "yes", "true"} and choice else value)
        return picked


def norm(text: str) -> str:
    """A heading or answer compared loosely: case, spaces, underscores and trailing ``?:`` ignored."""
    return " ".join(text.replace("\ufeff", "").strip().lower().replace("_", " ").split()).rstrip("?:*. ")


def read(text: str) -> Table:
    """The questions and answers of a CSV export (an XLSX arrives here as CSV of its first sheet)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise TableError("line 1: the file is empty")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    lines: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            lines.append((reader.line_num, row))
    except csv.Error as error:
        raise TableError(f"line {reader.line_num}: the file isn't valid CSV ({error})") from error
    if not lines:
        raise TableError("line 1: the file is empty")
    first = lines[0][1]
    second = lines[1][1] if len(lines) > 1 else []
    two_rows = _is_subheading_row(first, second)
    questions = _two_row_questions(first, second) if two_rows else _one_row_questions(first)
    width = len(first)
    table = Table(questions, tool=_tool(first, two_rows))
    for line, row in lines[2 if two_rows else 1 :]:
        if not any(cell.strip() for cell in row):
            continue
        if len(table.records) >= MAX_ROWS:
            raise TableError(f"line {line}: more than {MAX_ROWS} rows; split the file")
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise TableError(f"line {line}: {len(row)} cells but the headings have {width} columns")
        table.records.append((line, row))
    return table


def _is_subheading_row(first: list[str], second: list[str]) -> bool:
    """SurveyMonkey's second heading row: "Response"/"Open-Ended Response" under single answers."""
    return any(norm(cell) in SUBHEADINGS for cell in second) and any(not cell.strip() for cell in first)


def _one_row_questions(first: list[str]) -> list[Question]:
    return [Question(heading.strip(), (index,)) for index, heading in enumerate(first) if heading.strip()]


def _two_row_questions(first: list[str], second: list[str]) -> list[Question]:
    questions: list[Question] = []
    heading = ""
    columns: list[int] = []
    choices: list[str] = []

    def close() -> None:
        if heading and columns:
            labelled = len(columns) > 1 or (choices and norm(choices[0]) not in SUBHEADINGS and choices[0])
            questions.append(Question(heading, tuple(columns), tuple(choices) if labelled else ()))

    for index in range(max(len(first), len(second))):
        top = first[index].strip() if index < len(first) else ""
        sub = second[index].strip() if index < len(second) else ""
        if top:
            close()
            heading, columns, choices = top, [], []
        if not heading:
            continue
        columns.append(index)
        choices.append(sub if norm(sub) not in SUBHEADINGS else "")
    close()
    return questions


def _tool(first: list[str], two_rows: bool) -> str:
    headings = {norm(h) for h in first}
    if two_rows or "respondent id" in headings:
        return "SurveyMonkey"
    if {"id", "start time", "completion time"} <= headings:
        return "Microsoft Forms"
    if "timestamp" in headings:
        return "Google Forms"
    return ""


# ---- guessing which question holds which of Buddy's fields ------------------------------------

# Buddy's fields, in the order the mapping form lists them, with how each is described there.
FIELDS: dict[str, str] = {
    "display_name": "Name",
    "email": "Work email",
    "role": "Role",
    "profession": "Profession",
    "grade": "Grade",
    "specialty": "Specialty",
    "specialist_area": "Specialist area",
    "employer": "Employer",
    "employer_type": "Employer type",
    "region": "Region",
    "interests": "Interests",
    "consent_data": "Consent to take part",
    "consent_share": "Consent to quote learning points",
}
REQUIRED = ("display_name", "email", "role", "grade", "employer", "employer_type", "region", "consent_data")
FIRST_LAST = "first+last"  # the name from SurveyMonkey's First Name and Last Name columns

METADATA = {"respondent id", "collector id", "start date", "end date", "ip address", "custom data 1", "id",
            "start time", "completion time", "last modified time", "timestamp"}  # fmt: skip

# (field, words in a heading that suggest it), tried in this order: the more specific first
_CLUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("email", "e-mail")),
    ("first_name", ("first name", "forename", "given name")),
    ("last_name", ("last name", "surname", "family name")),
    ("employer_type", ("employer type", "type of employer", "type of organisation", "type of organization",
                       "organisation type", "organization type", "kind of organisation", "type of trust")),
    ("specialist_area", ("specialist area", "specialism", "management area", "area of management")),
    ("consent_share", ("quote", "quoted", "share learning", "share my learning", "digest")),
    ("consent_data", ("consent", "i agree", "agree to", "take part")),
    ("specialty", ("specialty", "speciality", "specialisation")),
    ("profession", ("profession",)),
    ("grade", ("grade", "band", "training year", "stage of training")),
    ("region", ("region",)),
    ("interests", ("interest",)),
    ("role", ("role", "i am a", "are you a", "job title")),
    ("employer", ("employer", "organisation", "organization", "trust", "employed", "work for")),
    ("display_name", ("full name", "your name", "name")),
)  # fmt: skip


def guess(table: Table) -> dict[str, str]:
    """Buddy's field -> the question heading that most likely holds it (only fields guessed).
    ``display_name`` is :data:`FIRST_LAST` when the name comes in two columns."""
    found: dict[str, str] = {}
    for question in table.questions:
        text = norm(question.heading)
        if text in METADATA:
            continue
        for name, clues in _CLUES:
            if name not in found and any(_has(text, clue) for clue in clues):
                found[name] = question.heading
                break
    first, last = found.pop("first_name", ""), found.pop("last_name", "")
    if "display_name" not in found and first and last:
        found["display_name"] = FIRST_LAST
        found["first_name"], found["last_name"] = first, last
    return found


def _has(text: str, clue: str) -> bool:
    return re.search(r"(^|\W)" + re.escape(clue) + r"($|\W)", text) is not None


def first_last(table: Table) -> tuple[str, str] | None:
    """The headings of separate first- and last-name columns, when the file has them."""
    first = next(
        (q.heading for q in table.questions if any(_has(norm(q.heading), c) for c in _CLUES[1][1])), ""
    )
    last = next(
        (q.heading for q in table.questions if any(_has(norm(q.heading), c) for c in _CLUES[2][1])), ""
    )
    return (first, last) if first and last else None
