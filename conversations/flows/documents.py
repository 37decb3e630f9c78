"""Portfolio files and certificates: Markdown and PDF (fpdf2), built from plain data so they can
be tested by reading them back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT = "DejaVu"  # DejaVu Sans, shipped with matplotlib: Latin, Greek, Cyrillic, Arabic, Hebrew and more
FALLBACK = "LastResort"  # one glyph per Unicode block, for the characters DejaVu lacks (CJK, emoji)
_FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def _fonts() -> Path:
    import matplotlib  # only for its font files

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


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
        lines += [
            f"## {e.title}",
            "",
            f"- Posted {_day(e.posted)}, due {_day(e.due)}",
            f"- With: {e.buddies}",
        ]
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
    """An A4 document in a Unicode font, so any name or answer survives: Welsh, Polish, Arabic
    and Hebrew (shaped and right to left) are drawn in DejaVu Sans. Characters DejaVu has no glyph
    for (CJK, emoji) are drawn with the Last Resort font's symbol for their script, and kept as
    they are in the PDF's text, so copying, searching and screen readers get them exactly."""

    def __init__(self, title: str, texts: Iterable[str]) -> None:
        super().__init__(format="A4")
        fonts = _fonts()
        for style, file in _FACES.items():
            self.add_font(FONT, style, fonts / file)
        font = self.fonts[FONT.lower()]
        known = font.cmap if isinstance(font, TTFFont) else {}
        missing = sorted({ord(c) for text in (title, *texts) for c in text if ord(c) > 0x20} - set(known))
        if missing:  # only these code points of the (large) fallback font are read
            self.add_font(FALLBACK, "", fonts / "LastResortHE-Regular.ttf", unicode_range=missing)
            self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.set_text_shaping(True)
        self.set_title(title)
        self.set_creator("Buddy")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.add_page()

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def para(self, text: str, style: str = "", size: int = 11) -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)


def portfolio_pdf(name: str, scheme: str, entries: Sequence[Entry], made: date) -> bytes:
    texts = [
        scheme,
        *(
            t
            for e in entries
            for t in (
                e.title,
                e.buddies,
                *e.competencies,
                *e.outcomes,
                *(x for a in e.answers for x in (a.label, a.text)),
            )
        ),
    ]
    doc = _Doc(f"Buddy scheme portfolio: {name}", texts)
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
    doc = _Doc(f"Certificate of participation: {name}", [scheme, *tasks, *competencies])
    doc.ln(20)
    doc.set_font(FONT, "B", 24)
    doc.cell(0, 14, "Certificate of participation", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.ln(6)
    doc.set_font(FONT, "", 13)
    doc.cell(0, 8, "This is to certify that", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font(FONT, "B", 18)
    doc.cell(0, 12, name, new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font(FONT, "", 13)
    doc.multi_cell(0, 7, (f"took part in {scheme} from {_day(start)} to {_day(end)}, learning with a buddy "
                                "from another profession."), new_x="LMARGIN", new_y="NEXT", align="C")  # fmt: skip
    doc.ln(8)
    doc.heading("Tasks completed", 13)
    for t in tasks:
        doc.para(f"- {t}")
    doc.heading("Competencies", 13)
    for c in competencies:
        doc.para(f"- {c}", size=10)
    return bytes(doc.output())
