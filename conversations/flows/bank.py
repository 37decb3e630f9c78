"""Keeping the stored task bank in step with the shipped one and coordinators' own files."""

from __future__ import annotations

from pathlib import Path

from conversations.flows.context import Ctx
from conversations.taskbank.loader import load_builtin, load_file


def sync_builtin(ctx: Ctx) -> int:
    tasks = load_builtin()
    ctx.uow.tasks.upsert(tasks)
    return len(tasks)


def load_more(ctx: Ctx, path: str | Path) -> list[str]:
    """Validate the whole file first (raising TaskBankError, bank untouched), then add its tasks after
    the existing ones; a task with an existing key replaces it."""
    tasks = load_file(path)
    existing = {t.key: t.position for t in ctx.uow.tasks.all()}
    start = max(existing.values(), default=-1) + 1
    for offset, task in enumerate(tasks):
        task.position = existing.get(task.key, start + offset)
    ctx.uow.tasks.upsert(tasks)
    return [t.key for t in tasks]
