"""A neutral Form <-> JSON-ready dict, carried in a dialog's submit data; and submitted values.

Teams posts a dialog's inputs back as strings (``"a,b"`` for a multi-select, ``"true"``/``"false"``
for a toggle). Knowing the form from the submit data turns them back into the engine's typed
values, and lets a rejected submission be shown again with what was typed, after a restart too.
The data is visible to (and could be altered by) the client: the engine validates every value and
its own state string as untrusted input, as it must on any platform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from conversations.core.views import (
    Checkbox,
    DateField,
    FileUpload,
    Form,
    FormField,
    FormValue,
    LongText,
    MultiSelect,
    Note,
    Option,
    Select,
    ShortText,
)

_KINDS: dict[str, type] = {
    "short": ShortText,
    "long": LongText,
    "select": Select,
    "multi": MultiSelect,
    "check": Checkbox,
    "date": DateField,
    "file": FileUpload,
    "note": Note,
}
_NAMES = {cls: name for name, cls in _KINDS.items()}


def _field_to_dict(field: FormField) -> dict[str, Any]:
    data: dict[str, Any] = {"k": _NAMES[type(field)]}
    defaults = {f.name: f.default for f in dataclasses.fields(field) if f.default is not dataclasses.MISSING}
    for f in dataclasses.fields(field):
        value = getattr(field, f.name)
        if f.name in defaults and value == defaults[f.name]:
            continue  # keep the payload small
        if f.name == "options":
            value = [[o.value, o.label] for o in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[f.name] = value
    return data


def _field_from_dict(data: Mapping[str, Any]) -> FormField:
    cls = _KINDS[data["k"]]
    kwargs = {k: v for k, v in data.items() if k != "k"}
    if "options" in kwargs:
        kwargs["options"] = tuple(Option(str(v), str(label)) for v, label in kwargs["options"])
    for key in ("initial", "file_types"):
        if key in kwargs and isinstance(kwargs[key], list):
            kwargs[key] = tuple(kwargs[key])
    return cls(**kwargs)  # type: ignore[no-any-return]


def encode_form(form: Form) -> dict[str, Any]:
    return {
        "id": form.form_id,
        "title": form.title,
        "submit": form.submit_label,
        "state": form.state,
        "fields": [_field_to_dict(f) for f in form.fields],
    }


def decode_form(data: Mapping[str, Any]) -> Form:
    """Raises ``ValueError`` on anything that is not an encoded form."""
    try:
        return Form(
            form_id=str(data["id"]),
            title=str(data.get("title", "")),
            fields=tuple(_field_from_dict(f) for f in data.get("fields", [])),
            submit_label=str(data.get("submit", "Submit")),
            state=str(data.get("state", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"not an encoded form: {error}") from error


def submitted_values(form: Form, data: Mapping[str, Any]) -> dict[str, FormValue]:
    """Typed values for the form's inputs from a dialog's submit data (missing inputs are empty)."""
    values: dict[str, FormValue] = {}
    for field in form.input_fields():
        if isinstance(field, Note):
            continue
        raw = data.get(field.id)
        text = "" if raw is None else str(raw)
        if isinstance(field, MultiSelect):
            values[field.id] = tuple(v for v in (p.strip() for p in text.split(",")) if v)
        elif isinstance(field, Checkbox):
            values[field.id] = raw is True or text.lower() == "true"
        else:
            values[field.id] = text
    return values
