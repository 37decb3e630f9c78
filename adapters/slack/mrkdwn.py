"""Neutral markup -> Slack ``mrkdwn``, escaping every literal run.

Slack treats ``&``, ``<`` and ``>`` as control characters: user text that reached a message
unescaped could carry ``<!channel>``, ``<@U123>`` or ``<https://evil|harmless>``. Every literal
run the neutral parser yields is escaped here; only the links and mentions the engine wrote on
purpose become Slack entities.

``plain_text`` objects (titles, labels, button text) are never parsed for mentions or links and
are sent as they are. Slack mrkdwn has no escape for ``*``, ``_``, ``~`` or backticks, so a person's literal asterisks
may still render as emphasis. That is cosmetic, never a ping or a disguised link.
"""

from __future__ import annotations

import re

from conversations.core.markup import Span, parse, plain

ELLIPSIS = "…"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape_text(text: str) -> str:
    """Slack's three control characters, for any literal text (mrkdwn or plain_text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_url(url: str) -> str:
    # ``|`` would end the URL part of ``<url|label>``; the rest follow the usual rule.
    return escape_text(url).replace("|", "%7C")


def _emphasis(marker: str, text: str) -> str:
    """Slack only honours ``*x*`` when the markers touch the words: keep spaces outside."""
    core = text.strip()
    if not core:
        return escape_text(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{escape_text(core)}{marker}{trail}"


def render_span(span: Span) -> str:
    if span.kind == "bold":
        return _emphasis("*", span.text)
    if span.kind == "italic":
        return _emphasis("_", span.text)
    if span.kind == "link":
        label = span.text or span.target
        return f"<{_escape_url(span.target)}|{escape_text(label)}>"
    if span.kind == "mention":
        if _USER_ID.match(span.target):
            return f"<@{span.target}>"
        return escape_text("@" + span.target)  # not a Slack member id: show it, never ping
    return escape_text(span.text)


def to_mrkdwn(markup: str, limit: int = 3000) -> str:
    """Render markup, cutting whole entities (never half an ``&amp;`` or ``<url|x>``) to ``limit``."""
    out: list[str] = []
    used = 0
    budget = limit - len(ELLIPSIS)
    spans = parse(markup)
    for i, span in enumerate(spans):
        piece = render_span(span)
        rest_fits = used + len(piece) <= limit and (i == len(spans) - 1 or used + len(piece) <= budget)
        if rest_fits:
            out.append(piece)
            used += len(piece)
            continue
        if span.kind == "text":
            for ch in span.text:
                esc = escape_text(ch)
                if used + len(esc) > budget:
                    break
                out.append(esc)
                used += len(esc)
        out.append(ELLIPSIS)
        break
    return "".join(out)


def to_plain(markup: str, limit: int) -> str:
    """Markup as ``plain_text``: Slack shows it verbatim and parses no mentions or links in it,
    so it is cut to ``limit`` but not entity-escaped."""
    return truncate(plain(markup), limit)


def truncate(text: str, limit: int) -> str:
    """Cut unescaped text (a value Slack shows verbatim) to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
