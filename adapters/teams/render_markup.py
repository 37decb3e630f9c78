"""Neutral markup -> the markdown Teams renders in Adaptive Card TextBlocks and message text.

Literal runs are escaped so they show as typed: markdown punctuation gets a backslash (Teams'
markdown honours CommonMark backslash escapes) and ``& < >`` become entities, so nobody can inject
``<at>`` mentions or HTML-ish tags.

Mentions render as plain ``@Name`` (or ``@<id>`` when the name is unknown). A real Teams mention
inside a card needs ``msteams.entities`` on the card, which the official Adaptive Card 1.5 schema
forbids (``additionalProperties: false``); every card Buddy sends must validate, so it does without.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from conversations.core.markup import parse

_MD_SPECIAL = re.compile(r"([\\*_\[\]`~])")


def escape_text(text: str) -> str:
    """Make a literal run show as itself in Teams markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def to_teams(markup: str, names: Mapping[str, str] | None = None) -> str:
    names = names or {}
    out: list[str] = []
    for span in parse(markup):
        if span.kind == "text":
            out.append(escape_text(span.text))
        elif span.kind == "bold":
            out.append(f"**{escape_text(span.text)}**" if span.text.strip() else escape_text(span.text))
        elif span.kind == "italic":
            out.append(f"_{escape_text(span.text)}_" if span.text.strip() else escape_text(span.text))
        elif span.kind == "link":
            out.append(f"[{escape_text(span.text)}]({escape_url(span.target)})")
        elif span.kind == "mention":
            out.append("@" + escape_text(names.get(span.target) or span.target))
        elif span.kind == "code":
            out.append(f"`{span.text.replace('`', '')}`")
    return keep_line_breaks("".join(out))


def keep_line_breaks(text: str) -> str:
    """Teams' card markdown joins single newlines (a CommonMark soft break): make each line break
    a paragraph break, except between bullets, which a single newline keeps as one list."""
    lines = text.split("\n")
    out = lines[:1]
    for previous, line in zip(lines, lines[1:], strict=False):
        bullets = previous.lstrip().startswith("- ") and line.lstrip().startswith("- ")
        out.append(("\n" if bullets or not previous.strip() or not line.strip() else "\n\n") + line)
    return "".join(out)


def to_plain(markup: str) -> str:
    """Markup as plain text for notifications (the activity's ``text`` fallback)."""
    parts = []
    for span in parse(markup):
        if span.kind == "link":
            parts.append(f"{span.text} ({span.target})")
        elif span.kind == "mention":
            parts.append("@" + span.target)
        elif span.kind == "code":
            parts.append(f"`{span.text}`")
        else:
            parts.append(span.text)
    return "".join(parts)
