"""Pure functions: neutral views -> Adaptive Cards 1.5 (dicts ready for JSON).

Every card these return must validate against the official 1.5 schema (the tests check a
representative view of every block and field kind). Forms become dialog cards whose submit
button carries ``{"buddy_form": {...}}``: the form's id, its opaque state and the form itself in a
compact encoding, so a ``task/submit`` can be turned back into typed values, and the dialog shown
again with errors and what the person typed, without keeping server-side state.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from adapters.teams.form_codec import encode_form
from adapters.teams.render_markup import escape_text, to_plain, to_teams
from conversations.core.views import (
    Actions,
    Block,
    Checkbox,
    Context,
    DateField,
    Divider,
    FileUpload,
    Form,
    FormValue,
    Header,
    Home,
    LongText,
    Message,
    MultiSelect,
    Note,
    Section,
    Select,
    ShortText,
)

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FORM_KEY = "buddy_form"  # data key of a dialog's submit button
OPEN_FORM_KEY = "buddy_open_form"  # data key of a chat button that opens a dialog
EXPANDED_MAX = 4  # selects with this many options or fewer show as radio buttons/checkboxes
_STYLES = {"primary": "positive", "danger": "destructive"}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, **extra: Any) -> dict:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    card.update(extra)
    return card


def _text_block(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


class _Mentions:
    """Renders markup with the display names of the people it mentions."""

    def __init__(self, names: Mapping[str, str] | None) -> None:
        self.names = names or {}

    def md(self, markup: str) -> str:
        return to_teams(markup, self.names)


def _button(button: Any) -> dict[str, Any]:
    if button.url:
        action: dict[str, Any] = {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    else:
        action = {
            "type": "Action.Submit",
            "title": button.label,
            "data": {"action_id": button.action_id, "value": button.value},
        }
        if button.opens_form:  # one click: Teams sends task/fetch and the answer is the dialog
            action["data"]["msteams"] = {"type": "task/fetch"}
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    return action


def _blocks(blocks: tuple[Block, ...], mentions: _Mentions) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    separate = False
    for block in blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        elements: list[dict[str, Any]] = []
        if isinstance(block, Header):
            elements.append(_text_block(escape_text(block.text), size="Large", weight="Bolder"))
        elif isinstance(block, Section):
            if block.text:
                elements.append(_text_block(mentions.md(block.text)))
            if block.fields:
                facts = [
                    {"title": escape_text(label), "value": mentions.md(value)}
                    for label, value in block.fields
                ]
                elements.append({"type": "FactSet", "facts": facts})
        elif isinstance(block, Context):
            elements.append(_text_block(mentions.md(block.text), size="Small", isSubtle=True))
        elif isinstance(block, Actions):
            if block.buttons:
                elements.append({"type": "ActionSet", "actions": [_button(b) for b in block.buttons]})
        if elements and separate:
            elements[0]["separator"] = True
            elements[0]["spacing"] = "Medium"
            separate = False
        body.extend(elements)
    return body


def message_card(message: Message, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    mentions = _Mentions(names)
    body = _blocks(message.blocks, mentions)
    if not body:
        body = [_text_block(mentions.md(message.text))]
    if message.image is not None:  # a chart: a few kilobytes of PNG, inside the card (Teams takes data URIs)
        png = base64.b64encode(message.image.png).decode("ascii")
        body.append({"type": "Image", "url": f"data:image/png;base64,{png}", "altText": message.image.alt,
                     "size": "Stretch"})  # fmt: skip
    return _card(body, fallbackText=to_plain(message.text))


def home_card(home: Home, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    mentions = _Mentions(names)
    body = _blocks(home.blocks, mentions) or [_text_block("Nothing to show yet.")]
    return _card(body)


def open_form_card(form: Form, prompt: str = "") -> dict[str, Any]:
    """A chat card whose button opens ``form`` as a dialog (Teams can only open one from a click)."""
    body = [_text_block(escape_text(prompt or form.title), weight="Bolder")]
    action = {
        "type": "Action.Submit",
        "title": form.title[:40] or "Open",
        "data": {"msteams": {"type": "task/fetch"}, OPEN_FORM_KEY: encode_form(form)},
    }
    return _card(body, [action], fallbackText=form.title)


def _label(field: Any) -> str:
    return field.label


def _input(field: Any, value: FormValue | None, error: str) -> dict[str, Any]:
    common: dict[str, Any] = {"id": field.id, "label": _label(field)}
    if field.required:
        common["isRequired"] = True
        common["errorMessage"] = error or f"{field.label} is required"
    elif error:
        common["errorMessage"] = error
    if isinstance(field, ShortText | LongText):
        element = {"type": "Input.Text", **common, "maxLength": field.max_chars}
        if isinstance(field, LongText):
            element["isMultiline"] = True
        if field.placeholder:
            element["placeholder"] = field.placeholder
        initial = value if isinstance(value, str) else field.initial
        if initial:
            element["value"] = initial
        return element
    if isinstance(field, Select | MultiSelect):
        element = {
            "type": "Input.ChoiceSet",
            **common,
            "choices": [{"title": o.label, "value": o.value} for o in field.options],
            "style": "expanded" if len(field.options) <= EXPANDED_MAX else "compact",
        }
        if isinstance(field, MultiSelect):
            element["isMultiSelect"] = True
            chosen = value if isinstance(value, tuple) else field.initial
            if chosen:
                element["value"] = ",".join(chosen)
        else:
            initial = value if isinstance(value, str) else field.initial
            if initial:
                element["value"] = initial
        return element
    if isinstance(field, Checkbox):
        ticked = value if isinstance(value, bool) else field.initial
        element = {
            "type": "Input.Toggle",
            **common,
            "title": field.label,
            "valueOn": "true",
            "valueOff": "false",
            "value": "true" if ticked else "false",
        }
        return element
    if isinstance(field, FileUpload):
        # Teams dialogs cannot take a file: the person pastes its text instead.
        element = {"type": "Input.Text", **common, "isMultiline": True,
                   "label": f"{field.label}: paste the file's contents",
                   "placeholder": "Paste the text here, or attach the file in our 1:1 chat with the message: import"}  # fmt: skip
        if isinstance(value, str) and value:
            element["value"] = value
        return element
    if isinstance(field, DateField):
        element = {"type": "Input.Date", **common}
        initial = value if isinstance(value, str) else field.initial
        if initial:
            element["value"] = initial
        return element
    raise TypeError(f"not an input field: {field!r}")


def _hint(field: Any) -> str:
    hint = getattr(field, "hint", "")
    limit = f"Up to {getattr(field, 'word_limit', 0)} words."
    if isinstance(field, LongText) and field.word_limit and limit not in hint:  # the engine may have said so
        hint = f"{hint} {limit}".strip() if hint else limit
    return hint


def form_card(
    form: Form,
    values: Mapping[str, FormValue] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The dialog card for ``form``; with ``values`` and ``errors`` it is shown again after a
    rejected submission, keeping what the person typed and naming what to fix beside each field."""
    values = values or {}
    errors = errors or {}
    body: list[dict[str, Any]] = []
    known = {f.id for f in form.input_fields()}  # type: ignore[union-attr]
    general = [msg for key, msg in errors.items() if key not in known]
    if errors:
        summary = "Please check the highlighted answers." if len(general) < len(errors) else ""
        lines = [escape_text(m) for m in general] + ([summary] if summary else [])
        body.append(_text_block("\n\n".join(lines), color="Attention", weight="Bolder"))
    for field in form.fields:
        if isinstance(field, Note):
            body.append(_text_block(to_teams(field.text)))
            continue
        error = errors.get(field.id, "")
        body.append(_input(field, values.get(field.id), error))
        hint = _hint(field)
        if hint:
            body.append(_text_block(escape_text(hint), size="Small", isSubtle=True, spacing="Small"))
        if error:
            body.append(_text_block(escape_text(error), color="Attention", size="Small", spacing="Small"))
    submit = {
        "type": "Action.Submit",
        "title": form.submit_label,
        "style": "positive",
        "data": {FORM_KEY: encode_form(form)},
    }
    return _card(body, [submit])


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": card}
