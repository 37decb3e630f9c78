"""Portfolio files and certificates: Markdown and PDF (fpdf2), built from plain data so they can
be tested by reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from fpdf import FPDF

_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "•": "-",
                        "\u00a0": " "})  # fmt: skip


@dataclass(frozen=True)
class Answer:
    label: str
    text: str
    day: date
    joint: bool = False


@dataclass(frozen=True)
class Entry:
    """One task as it goes into a portfolio."""

    title: str
    posted: date
    due: date
    buddies: str
    outcomes: tuple[str, ...]
    competencies: tuple[str, ...]  # "MLCF: Working with others (Encouraging contribution)"
    answers: tuple[Answer, ...] = field(default_factory=tuple)


def _day(d: date) -> str:
    return d.strftime("%-d %B %Y")


def portfolio_markdown(name: str, scheme: str, entries: Sequence[Entry], made: date) -> str:
    lines = [f"# Buddy scheme portfolio: {name}", "",
             f"{scheme}. Reflective evidence from the buddy scheme, exported {_day(made)}.", ""]  # fmt: skip
    for e in entries:
        lines += [f"## {e.title}", "", f"- Posted {_day(e.posted)}, due {_day(e.due)}", f"- With: {e.buddies}"]
        if e.competencies:
            lines += ["- Competencies: " + "; ".join(e.competencies)]
        if e.outcomes:
            lines += ["- Learning outcomes: " + "; ".join(e.outcomes)]
        lines.append("")
        for a in e.answers:
            lines += [f"### {a.label}{' (joint answer)' if a.joint else ''}, {_day(a.day)}", "", a.text, ""]
        if not e.answers:
            lines += ["_No answer recorded._", ""]
    return "\n".join(lines)


class _Doc(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_title(_latin(title))
        self.set_creator("Buddy")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.add_page()

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, size * 0.5, _latin(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def para(self, text: str, style: str = "", size: int = 11) -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, 5.5, _latin(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)


def _latin(text: str) -> str:
    """The core PDF fonts cover Latin-1: typographic marks become their plain forms, and any
    other character a question mark, so a PDF is always made."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def portfolio_pdf(name: str, scheme: str, entries: Sequence[Entry], made: date) -> bytes:
    doc = _Doc(f"Buddy scheme portfolio: {name}")
    doc.heading(f"Buddy scheme portfolio: {name}")
    doc.para(f"{scheme}. Reflective evidence from the buddy scheme, exported {_day(made)}.", "I")
    for e in entries:
        doc.ln(3)
        doc.heading(e.title, 13)
        doc.para(f"Posted {_day(e.posted)}, due {_day(e.due)}. With: {e.buddies}.", size=10)
        if e.competencies:
            doc.para("Competencies: " + "; ".join(e.competencies), size=10)
        if e.outcomes:
            doc.para("Learning outcomes: " + "; ".join(e.outcomes), size=10)
        for a in e.answers:
            doc.para(f"{a.label}{' (joint answer)' if a.joint else ''}, {_day(a.day)}", "B")
            doc.para(a.text)
        if not e.answers:
            doc.para("No answer recorded.", "I")
    return bytes(doc.output())


def certificate_pdf(name: str, scheme: str, tasks: Sequence[str], competencies: Sequence[str], start: date,
                    end: date) -> bytes:  # fmt: skip
    doc = _Doc(f"Certificate of participation: {name}")
    doc.ln(20)
    doc.set_font("Helvetica", "B", 24)
    doc.cell(0, 14, "Certificate of participation", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.ln(6)
    doc.set_font("Helvetica", "", 13)
    doc.cell(0, 8, "This is to certify that", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font("Helvetica", "B", 18)
    doc.cell(0, 12, _latin(name), new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font("Helvetica", "", 13)
    doc.multi_cell(0, 7, _latin(f"took part in {scheme} from {_day(start)} to {_day(end)}, learning with a buddy "
                                "from another profession."), new_x="LMARGIN", new_y="NEXT", align="C")  # fmt: skip
    doc.ln(8)
    doc.heading("Tasks completed", 13)
    for t in tasks:
        doc.para(f"- {t}")
    doc.heading("Competencies", 13)
    for c in competencies:
        doc.para(f"- {c}", size=10)
    return bytes(doc.output())
