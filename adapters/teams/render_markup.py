"""Neutral markup -> the markdown Teams renders in Adaptive Card TextBlocks and message text.

Literal runs are escaped so they show as typed: markdown punctuation gets a backslash (Teams'
markdown honours CommonMark backslash escapes) and ``& < >`` become entities, so nobody can inject
``<at>`` mentions or HTML-ish tags. Mentions render as ``<at>Name</at>`` plus a mention entity when
the person's display name is known, and as plain ``@Name``/``@id`` text otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conversations.markup import parse

_MD_SPECIAL = re.compile(r"([\\*_\[\]`~])")


def escape_text(text: str) -> str:
    """Make a literal run show as itself in Teams markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


@dataclass
class Rendered:
    """Teams markdown and the mention entities it refers to."""

    text: str
    mentions: list[dict[str, Any]] = field(default_factory=list)


def to_teams(markup: str, names: Mapping[str, str] | None = None) -> Rendered:
    names = names or {}
    out: list[str] = []
    mentions: list[dict[str, Any]] = []
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
            name = names.get(span.target, "")
            if name:
                tag = f"<at>{escape_text(name)}</at>"
                out.append(tag)
                mentions.append(
                    {"type": "mention", "text": tag, "mentioned": {"id": span.target, "name": name}}
                )
            else:
                out.append("@" + escape_text(span.target))
    return Rendered("".join(out), mentions)


def to_plain(markup: str) -> str:
    """Markup as plain text for notifications (the activity's ``text`` fallback)."""
    parts = []
    for span in parse(markup):
        if span.kind == "link":
            parts.append(f"{span.text} ({span.target})")
        elif span.kind == "mention":
            parts.append("@" + span.target)
        else:
            parts.append(span.text)
    return "".join(parts)
