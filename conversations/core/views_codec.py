"""Neutral views to and from JSON-ready dicts, so the outbox can store a message."""

from __future__ import annotations

from typing import Any

from conversations.core.views import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    FileAttachment,
    Header,
    Message,
    Section,
)

_BLOCK_TYPES: dict[str, type] = {
    "header": Header,
    "section": Section,
    "actions": Actions,
    "context": Context,
    "divider": Divider,
}
_NAMES = {cls: name for name, cls in _BLOCK_TYPES.items()}


def block_to_dict(block: Block) -> dict[str, Any]:
    kind = _NAMES[type(block)]
    if isinstance(block, Header | Context):
        return {"type": kind, "text": block.text}
    if isinstance(block, Section):
        return {"type": kind, "text": block.text, "fields": [list(f) for f in block.fields]}
    if isinstance(block, Actions):
        return {
            "type": kind,
            "buttons": [
                {
                    "label": b.label,
                    "action_id": b.action_id,
                    "value": b.value,
                    "style": b.style,
                    "url": b.url,
                    "opens_form": b.opens_form,
                }
                for b in block.buttons
            ],
        }
    return {"type": kind}


def block_from_dict(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind in ("header", "context"):
        return _BLOCK_TYPES[kind](data["text"])  # type: ignore[no-any-return]
    if kind == "section":
        return Section(data.get("text", ""), tuple((a, b) for a, b in data.get("fields", [])))
    if kind == "actions":
        return Actions(tuple(Button(**b) for b in data["buttons"]))
    if kind == "divider":
        return Divider()
    raise ValueError(f"unknown block type {kind!r}")


def message_to_dict(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": message.text,
        "blocks": [block_to_dict(b) for b in message.blocks],
        "carries_user_text": message.carries_user_text,
    }
    if message.file is not None:
        data["file"] = {
            "filename": message.file.filename,
            "content": message.file.content,
            "title": message.file.title,
            "binary": message.file.binary,
        }
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    file = data.get("file")
    return Message(
        text=data["text"],
        blocks=tuple(block_from_dict(b) for b in data.get("blocks", [])),
        carries_user_text=bool(data.get("carries_user_text", False)),
        file=FileAttachment(str(file["filename"]), str(file["content"]), str(file.get("title", "")),
                            bool(file.get("binary", False)))
        if isinstance(file, dict)
        else None,
    )
