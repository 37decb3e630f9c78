"""Hidden characters in what people type: the one rule for forms, commands, buttons and imports.

NUL and other control characters break storage (PostgreSQL refuses NUL in text) and layouts;
bidirectional overrides and zero-width characters let a name or an answer look like something it
is not ("Dr Smith" that reads backwards, two names that look the same). They are refused, with a
message that names the character, rather than silently dropped: the person sees what to retype.

Allowed: tab, line feed and carriage return (long answers and files have lines), right-to-left
*text* itself (Arabic, Hebrew: it needs no override characters), emoji, and the zero-width joiner
inside an emoji sequence (👩‍⚕️).

Used by :func:`adapters.runner` for every interaction (Slack, Teams) and by the CSV import
(:mod:`conversations.flows.csv_import`) for every cell, which reports its line and column: so the chat
form, a file sent in chat and ``buddybot import`` refuse the same things with the same words.
Names that the *platform* supplies (a Slack or Teams profile name) are cleaned instead, since the
person did not type them to Buddy.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping

from conversations.core.interactions import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    FileShared,
    FormErrors,
    FormSubmitted,
    Interaction,
    Outcome,
    Reply,
)
from conversations.core.views import Message

ZWJ = "\u200d"
_NAMES: dict[str, str] = {
    "\x00": "a NUL byte",
    "\u200b": "a zero-width space",
    "\u200c": "a zero-width non-joiner",
    ZWJ: "a zero-width joiner",
    "\u2060": "a word joiner",
    "\ufeff": "a zero-width no-break space",
    "\u061c": "an Arabic letter mark",
    "\u200e": "a left-to-right mark",
    "\u200f": "a right-to-left mark",
    "\u202a": "a left-to-right embedding",
    "\u202b": "a right-to-left embedding",
    "\u202c": "a pop directional formatting",
    "\u202d": "a left-to-right override",
    "\u202e": "a right-to-left override",
    "\u2066": "a left-to-right isolate",
    "\u2067": "a right-to-left isolate",
    "\u2068": "a first strong isolate",
    "\u2069": "a pop directional isolate",
}
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_FILE_FIELDS = frozenset({"file"})  # a CSV's text: checked cell by cell by the import, with line and column


def _emoji_joiner(text: str, i: int) -> bool:
    """A zero-width joiner between two emoji (a family, a health worker) is part of the emoji."""
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""

    def pictographic(ch: str) -> bool:
        return bool(ch) and (
            unicodedata.category(ch) in ("So", "Sk") or ch == "\ufe0f" or 0x1F000 <= ord(ch) <= 0x1FAFF
        )

    return pictographic(before) and pictographic(after)


def hidden(text: str) -> tuple[int, str] | None:
    """The first hidden character: (index, ``"a right-to-left override (U+202E)"``), or None."""
    for i, ch in enumerate(text):
        if ch in _ALLOWED_CONTROLS:
            continue
        name = _NAMES.get(ch)
        if name is None and unicodedata.category(ch) in ("Cc", "Cs"):
            name = "a control character"
        if name is None or (ch == ZWJ and _emoji_joiner(text, i)):
            continue
        return i, f"{name} (U+{ord(ch):04X})"
    return None


def clean(text: str) -> str:
    """``text`` without its hidden characters (for names the platform gives us)."""
    if hidden(text) is None:
        return text
    kept = [ch for i, ch in enumerate(text) if hidden(ch) is None or (ch == ZWJ and _emoji_joiner(text, i))]
    return "".join(kept)


def refusal(what: str, text: str) -> str | None:
    """The person's message when ``text`` (their ``what``) has a hidden character, else None."""
    found = hidden(text)
    if found is None:
        return None
    return (
        f"{what} contains {found[1]}, a hidden character that can make text look like something it "
        "isn't. Please type it again without it."
    )


def form_problems(values: Mapping[str, object]) -> dict[str, str]:
    """Field id -> message, for each submitted value with a hidden character."""
    problems: dict[str, str] = {}
    for key, value in values.items():
        texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
            if isinstance(value, tuple | list) else []  # fmt: skip
        for text in texts:
            if key in _FILE_FIELDS:
                found = hidden(text)
                if found is None or found[1].startswith(("a NUL", "a control")):
                    continue  # a file's other hidden characters are reported with their line and column
            message = refusal("This answer", text)
            if message:
                problems[key] = message
                break
    return problems


def cleaned_actor(actor: Actor) -> Actor:
    """An actor whose platform-supplied name and email have no hidden characters."""
    name, email = actor.display_name, actor.email
    if hidden(name) is None and hidden(email) is None:
        return actor
    return dataclasses.replace(actor, display_name=clean(name), email=clean(email))


def screen(interaction: Interaction) -> tuple[Interaction, Outcome | None]:
    """(the interaction with platform names cleaned, None) when it may go to the engine, or
    (interaction, the outcome that refuses it) when the person typed a hidden character."""
    cleaned = cleaned_actor(interaction.actor)
    if cleaned is not interaction.actor:
        interaction = dataclasses.replace(interaction, actor=cleaned)
    if isinstance(interaction, FormSubmitted):
        problems = form_problems(interaction.values)
        return interaction, (FormErrors(problems) if problems else None)
    text = ""
    if isinstance(interaction, CommandInvoked):
        text = interaction.text
    elif isinstance(interaction, ButtonPressed):
        text = interaction.value + interaction.action_id
    elif isinstance(interaction, FileShared):
        text = interaction.caption + interaction.filename
    message = refusal("That message", text)
    return interaction, (Reply(Message.simple(message)) if message else None)
