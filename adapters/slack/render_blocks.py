"""Neutral views -> Block Kit: pure functions, inside Slack's limits.

Limits we *cut* to (Slack would otherwise reject the whole post): text lengths, block counts
(a trailing "…more" note says what was left out). Limits we *refuse* with :class:`RenderError`,
because cutting would break a round trip the engine relies on: a button value or action id, an
option value, the form's state (``private_metadata``) and its id (``callback_id``), and a form
with more input fields than a modal can hold.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from adapters.slack.mrkdwn import to_mrkdwn, truncate
from conversations.core.markup import escape
from conversations.core.views import (
    Actions,
    Block,
    Button,
    Checkbox,
    Context,
    DateField,
    Divider,
    FileUpload,
    Form,
    FormField,
    Header,
    Home,
    LongText,
    Message,
    MultiSelect,
    Note,
    Option,
    Section,
    Select,
    ShortText,
)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24  # title, submit and close
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_TEXT = 3000  # section text, mrkdwn text objects
MAX_FALLBACK_TEXT = 3000  # top-level ``text``; Slack truncates at 40k, keep it short
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_INPUT_CHARS = 3000

CHECKBOX_VALUE = "yes"
_DUP_SUFFIX = re.compile(r"~\d+$")

JSON = dict[str, Any]


class RenderError(ValueError):
    """The engine asked for something Slack cannot carry without losing data."""


# ---- text objects ---------------------------------------------------------------------------


def plain_text(text: str, limit: int) -> JSON:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def mrkdwn_text(markup: str, limit: int = MAX_TEXT) -> JSON:
    return {"type": "mrkdwn", "text": to_mrkdwn(markup, limit)}


# ---- action ids -----------------------------------------------------------------------------


def base_action_id(action_id: str) -> str:
    """Undo the ``~n`` suffix that keeps repeated action ids unique inside one block."""
    return _DUP_SUFFIX.sub("", action_id)


def _unique_action_ids(buttons: tuple[Button, ...]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for i, b in enumerate(buttons):
        aid = b.action_id or f"link-{i}"
        if len(aid) > MAX_ACTION_ID - 4:
            raise RenderError(f"action_id longer than {MAX_ACTION_ID - 4} characters: {aid[:40]}…")
        if _DUP_SUFFIX.search(aid):
            raise RenderError(f"action_id may not end in '~<digits>': {aid}")
        n = seen.get(aid, 0)
        seen[aid] = n + 1
        ids.append(aid if n == 0 else f"{aid}~{n}")
    return ids


# ---- message blocks -------------------------------------------------------------------------


def _button(b: Button, action_id: str) -> JSON:
    if len(b.value) > MAX_BUTTON_VALUE:
        raise RenderError(f"button value longer than {MAX_BUTTON_VALUE} characters ({action_id})")
    out: JSON = {
        "type": "button",
        "text": plain_text(b.label, MAX_BUTTON_TEXT),
        "action_id": action_id,
    }
    if b.value:
        out["value"] = b.value
    if b.url:
        out["url"] = b.url
    if b.style in ("primary", "danger"):
        out["style"] = b.style
    return out


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def render_block(block: Block) -> list[JSON]:
    """One neutral block; may yield several Slack blocks (more than 10 fields, 25 buttons) or none."""
    if isinstance(block, Header):
        return [{"type": "header", "text": plain_text(block.text, MAX_HEADER)}] if block.text else []
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Context):
        return [{"type": "context", "elements": [mrkdwn_text(block.text)]}] if block.text else []
    if isinstance(block, Section):
        fields = [
            mrkdwn_text(f"**{escape(label)}**\n{value}" if label else value, MAX_FIELD_TEXT)
            for label, value in block.fields
        ]
        out: list[JSON] = []
        groups = _chunks(fields, MAX_FIELDS) or [[]]
        for i, group in enumerate(groups):
            section: JSON = {"type": "section"}
            if i == 0 and block.text:
                section["text"] = mrkdwn_text(block.text)
            if group:
                section["fields"] = group
            if len(section) > 1:
                out.append(section)
        return out
    if isinstance(block, Actions):
        ids = _unique_action_ids(block.buttons)
        elements = [_button(b, aid) for b, aid in zip(block.buttons, ids, strict=True)]
        return [{"type": "actions", "elements": chunk} for chunk in _chunks(elements, MAX_ACTIONS_ELEMENTS)]
    raise TypeError(f"not a message block: {block!r}")


def _fit(blocks: list[JSON], limit: int) -> list[JSON]:
    """Keep within ``limit`` blocks; the last one left says how many were cut."""
    if len(blocks) <= limit:
        return blocks
    dropped = len(blocks) - (limit - 1)
    note = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"…more ({dropped} blocks not shown)"}],
    }
    return blocks[: limit - 1] + [note]


def render_blocks(blocks: tuple[Block, ...], limit: int) -> list[JSON]:
    return _fit([sb for b in blocks for sb in render_block(b)], limit)


def fallback_text(message: Message) -> str:
    """The notification text: the engine's summary, else the first text we can find."""
    if message.text:
        return message.text
    for block in message.blocks:
        if isinstance(block, Header | Context) and block.text:
            return block.text if isinstance(block, Context) else escape(block.text)
        if isinstance(block, Section) and block.text:
            return block.text
    return ""


def render_message(message: Message) -> JSON:
    """``{"text": ..., "blocks": [...]}`` ready for chat.postMessage, chat.update or an ack."""
    out: JSON = {"text": to_mrkdwn(fallback_text(message), MAX_FALLBACK_TEXT) or " "}
    blocks = render_blocks(message.blocks, MAX_MESSAGE_BLOCKS)
    if blocks:
        out["blocks"] = blocks
    return out


# ---- modals --------------------------------------------------------------------------------


def _option(o: Option) -> JSON:
    if len(o.value) > MAX_OPTION_VALUE:
        raise RenderError(f"option value longer than {MAX_OPTION_VALUE} characters: {o.value[:40]}…")
    return {"text": plain_text(o.label, MAX_OPTION_TEXT), "value": o.value}


def _options(options: tuple[Option, ...]) -> JSON:
    """``options``, or ``option_groups`` of 100 when there are more than a menu can hold."""
    rendered = [_option(o) for o in options]
    if len(rendered) <= MAX_OPTIONS:
        return {"options": rendered}
    groups = _chunks(rendered, MAX_OPTIONS)
    if len(groups) > MAX_OPTIONS:
        raise RenderError(f"more than {MAX_OPTIONS * MAX_OPTIONS} options")
    return {
        "option_groups": [
            {
                "label": plain_text(f"{i * MAX_OPTIONS + 1}–{i * MAX_OPTIONS + len(g)}", MAX_OPTION_TEXT),
                "options": g,
            }
            for i, g in enumerate(groups)
        ]
    }


def _text_input(f: ShortText | LongText) -> JSON:
    el: JSON = {
        "type": "plain_text_input",
        "action_id": f.id,
        "max_length": max(1, min(f.max_chars, MAX_INPUT_CHARS)),
    }
    if isinstance(f, LongText):
        el["multiline"] = True
    if f.initial:
        el["initial_value"] = f.initial[: el["max_length"]]
    if f.placeholder:
        el["placeholder"] = plain_text(f.placeholder, MAX_PLACEHOLDER)
    return el


def _element(f: FormField) -> JSON:
    if isinstance(f, ShortText | LongText):
        return _text_input(f)
    if isinstance(f, Select):
        el: JSON = {"type": "static_select", "action_id": f.id, **_options(f.options)}
        chosen = next((o for o in f.options if o.value == f.initial), None) if f.initial else None
        if chosen:
            el["initial_option"] = _option(chosen)
        return el
    if isinstance(f, MultiSelect):
        el = {"type": "multi_static_select", "action_id": f.id, **_options(f.options)}
        chosen_many = [_option(o) for o in f.options if o.value in f.initial]
        if chosen_many:
            el["initial_options"] = chosen_many
        if f.max_selected:
            el["max_selected_items"] = f.max_selected
        return el
    if isinstance(f, Checkbox):
        yes = {"text": plain_text("Yes", MAX_OPTION_TEXT), "value": CHECKBOX_VALUE}
        el = {"type": "checkboxes", "action_id": f.id, "options": [yes]}
        if f.initial:
            el["initial_options"] = [yes]
        return el
    if isinstance(f, FileUpload):
        return {"type": "file_input", "action_id": f.id, "filetypes": list(f.file_types), "max_files": 1}
    if isinstance(f, DateField):
        el = {"type": "datepicker", "action_id": f.id}
        if f.initial and _is_iso_date(f.initial):
            el["initial_date"] = f.initial
        return el
    raise TypeError(f"not an input field: {f!r}")


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _hint(f: FormField) -> str:
    hint = getattr(f, "hint", "")
    limit = f"Up to {getattr(f, 'word_limit', 0)} words."
    if isinstance(f, LongText) and f.word_limit and limit not in hint:  # the engine may have said so
        hint = f"{hint} {limit}".strip()
    return hint


def render_field(f: FormField) -> JSON:
    if isinstance(f, Note):
        return {"type": "section", "text": mrkdwn_text(f.text or " ")}
    if len(f.id) > MAX_ACTION_ID:
        raise RenderError(f"field id longer than {MAX_ACTION_ID} characters: {f.id[:40]}…")
    block: JSON = {
        "type": "input",
        "block_id": f.id,
        "label": plain_text(f.label or f.id, MAX_LABEL),
        "element": _element(f),
        "optional": not f.required,
    }
    hint = _hint(f)
    if hint:
        block["hint"] = plain_text(hint, MAX_HINT)
    return block


def render_modal(form: Form) -> JSON:
    """A ``views.open`` / ``response_action: update`` modal for ``form``."""
    if len(form.state) > MAX_PRIVATE_METADATA:
        raise RenderError(
            f"form state is {len(form.state)} characters; private_metadata holds {MAX_PRIVATE_METADATA}"
        )
    if not form.form_id or len(form.form_id) > MAX_CALLBACK_ID:
        raise RenderError(f"form_id must be 1..{MAX_CALLBACK_ID} characters")
    blocks = [render_field(f) for f in form.fields]
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise RenderError(f"form has {len(blocks)} fields; a modal holds {MAX_VIEW_BLOCKS} blocks")
    view: JSON = {
        "type": "modal",
        "callback_id": form.form_id,
        "title": plain_text(form.title or "Buddy", MAX_VIEW_TITLE),
        "close": plain_text("Cancel", MAX_VIEW_TITLE),
        "blocks": blocks,
    }
    if form.input_fields():
        view["submit"] = plain_text(form.submit_label or "Submit", MAX_VIEW_TITLE)
    if form.state:
        view["private_metadata"] = form.state
    return view


def render_home(home: Home) -> JSON:
    """A ``views.publish`` Home tab."""
    return {"type": "home", "blocks": render_blocks(home.blocks, MAX_VIEW_BLOCKS)}
