"""The small markdown subset that neutral views use, and its parser.

Syntax: ``**bold**``, ``_italic_``, ``[label](https://url)``, ``{@user_id}`` (a mention),
```code``` (a command to type, shown literally), and a backslash before any of
``\\ * _ [ ] ( ) { } ` `` for the literal character. Lines starting with
``- `` are bullets; renderers keep line breaks.

Anything a person typed must pass through :func:`escape` before it is placed in view text, so
that their ``*``, ``_`` or ``[x](y)`` show literally. Platform escaping (Slack's ``&<>``, say) is
the renderer's job and applies to every literal run the parser yields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPECIAL = set("\\*_[](){}`")


def escape(user_text: str) -> str:
    """Make user text literal in neutral markup."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in user_text)


@dataclass(frozen=True)
class Span:
    kind: str  # "text", "bold", "italic", "link", "mention", "code"
    text: str
    target: str = ""  # url for links, user id for mentions


_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")
_MENTION = re.compile(r"\{@([A-Za-z0-9:_.\-]+)\}")
_LITERAL = re.compile(r"[^\\*_\[`{]+")  # a run of characters that start no markup: taken whole


_PLURALS = {"person": "people", "group": "groups", "answer": "answers", "task": "tasks",
            "coordinator": "coordinators"}  # fmt: skip


def counted(n: int, noun: str) -> str:
    """``1 group``, ``2 groups``, ``0 people``: a count with its noun agreeing."""
    return f"{n} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def parse(markup: str) -> list[Span]:
    """Split neutral markup into spans; unknown or unbalanced markers stay literal text."""
    spans: list[Span] = []
    buf: list[str] = []
    i, n = 0, len(markup)

    def flush() -> None:
        if buf:
            spans.append(Span("text", "".join(buf)))
            buf.clear()

    while i < n:
        literal = _LITERAL.match(markup, i)
        if literal:
            buf.append(literal.group())
            i = literal.end()
            continue
        ch = markup[i]
        if ch == "\\" and i + 1 < n:
            buf.append(markup[i + 1])
            i += 2
            continue
        if markup.startswith("**", i):
            end = _find_unescaped(markup, "**", i + 2)
            if end > i + 2:
                flush()
                spans.append(Span("bold", _unescape(markup[i + 2 : end])))
                i = end + 2
                continue
        if ch == "_":
            end = _find_unescaped(markup, "_", i + 1)
            if end > i + 1:
                flush()
                spans.append(Span("italic", _unescape(markup[i + 1 : end])))
                i = end + 1
                continue
        if ch == "[":
            m = _LINK.match(markup, i)
            if m:
                flush()
                spans.append(Span("link", _unescape(m.group(1)), m.group(2)))
                i = m.end()
                continue
        if ch == "`":
            end = markup.find("`", i + 1)
            if end > i + 1 and "\n" not in markup[i:end]:
                flush()
                spans.append(Span("code", markup[i + 1 : end]))
                i = end + 1
                continue
        if ch == "{":
            m = _MENTION.match(markup, i)
            if m:
                flush()
                spans.append(Span("mention", "", m.group(1)))
                i = m.end()
                continue
        buf.append(ch)
        i += 1
    flush()
    return spans


def _find_unescaped(s: str, marker: str, start: int) -> int:
    i = start
    while True:
        j = s.find(marker, i)
        if j < 0 or "\n" in s[start:j]:
            return -1
        backslashes = 0
        k = j - 1
        while k >= start and s[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return j
        i = j + 1


def plain(markup: str) -> str:
    """Markup as plain text (for notifications and fallbacks)."""
    out = []
    for span in parse(markup):
        if span.kind == "link":
            out.append(f"{span.text} ({span.target})")
        elif span.kind == "mention":
            out.append(f"@{span.target}")
        elif span.kind == "code":
            out.append(f"`{span.text}`")
        else:
            out.append(span.text)
    return "".join(out)
