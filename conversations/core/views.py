"""Neutral views: what the engine shows, independent of any messenger.

Text fields hold neutral markup (see :mod:`conversations.core.markup`). Button ``action_id`` and
``value`` and a form's ``state`` round-trip unchanged through every adapter. Each adapter renders
these with pure functions (Block Kit, Adaptive Cards) and keeps within its platform's limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# ---- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    text: str  # plain text, no markup


@dataclass(frozen=True)
class Section:
    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()  # (label, markup value)


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"
    url: str = ""  # a link button opens this instead of sending an action
    opens_form: bool = False  # pressing it answers with a form: adapters open the dialog directly


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Context:
    text: str


@dataclass(frozen=True)
class Divider:
    pass


Block = Header | Section | Actions | Context | Divider


@dataclass(frozen=True)
class FileAttachment:
    """A file that goes with a message, such as an export. Only platforms whose messenger says
    ``Capabilities.send_files`` are given one; the adapter sends it to the person's DM."""

    filename: str
    content: str  # the text, or for a binary file (``binary``) its bytes in base64
    title: str = ""
    data: bytes = b""  # a binary file (a spreadsheet): sent instead of ``content`` when set

    def payload(self) -> bytes:
        return self.data or self.content.encode("utf-8")

    @staticmethod
    def of_bytes(filename: str, data: bytes, title: str = "") -> FileAttachment:
        return FileAttachment(filename, "", title, data=data)


@dataclass(frozen=True)
class ImageAttachment:
    """A picture that goes with a message (a chart): Slack uploads it, Teams shows it in the card."""

    png: bytes
    alt: str  # what the picture shows, for screen readers and notifications
    filename: str = "chart.png"


@dataclass(frozen=True)
class Message:
    """A post. ``text`` is the notification/fallback summary; ``blocks`` the body."""

    text: str
    blocks: tuple[Block, ...] = ()
    carries_user_text: bool = False  # renderers turn off link unfurling when set
    file: FileAttachment | None = None
    image: ImageAttachment | None = None

    @staticmethod
    def simple(text: str) -> Message:
        return Message(text=text, blocks=(Section(text),))


# ---- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class ShortText:
    id: str
    label: str
    required: bool = True
    max_chars: int = 150
    initial: str = ""
    placeholder: str = ""
    hint: str = ""


@dataclass(frozen=True)
class LongText:
    id: str
    label: str
    required: bool = True
    word_limit: int = 0  # 0: no word limit
    max_chars: int = 3000
    initial: str = ""
    placeholder: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Select:
    id: str
    label: str
    options: tuple[Option, ...]
    required: bool = True
    initial: str = ""
    hint: str = ""


@dataclass(frozen=True)
class MultiSelect:
    id: str
    label: str
    options: tuple[Option, ...]
    required: bool = False
    initial: tuple[str, ...] = ()
    max_selected: int = 0
    hint: str = ""


@dataclass(frozen=True)
class Checkbox:
    """A single yes/no box (consent, say); its value is True or False."""

    id: str
    label: str
    required: bool = False  # when True it must be ticked
    initial: bool = False
    hint: str = ""


@dataclass(frozen=True)
class DateField:
    id: str
    label: str
    required: bool = True
    initial: str = ""  # ISO date
    hint: str = ""


@dataclass(frozen=True)
class FileUpload:
    """A file to upload; its value is the file's text. Where a platform's forms cannot take files,
    the adapter offers a box to paste the text into instead."""

    id: str
    label: str
    required: bool = True
    file_types: tuple[str, ...] = ("csv",)
    hint: str = ""


@dataclass(frozen=True)
class Note:
    """Read-only text inside a form (the partner's letter, say)."""

    text: str


FormField = ShortText | LongText | Select | MultiSelect | Checkbox | DateField | FileUpload | Note

FormValue = str | bool | tuple[str, ...]


@dataclass(frozen=True)
class Form:
    form_id: str  # which handler receives the submission
    title: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"
    state: str = ""  # opaque to adapters; at most 2,000 characters

    def input_fields(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if not isinstance(f, Note))


# ---- home ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    blocks: tuple[Block, ...] = field(default_factory=tuple)
