"""Coordinators write their cohort's tasks in chat: ``task add``, ``task edit KEY`` and
``task order``. The bank is per cohort: the shared tasks plus the cohort's own, in the cohort's
order (issue 13).

A cohort's own task is a task definition whose ``source`` is ``cohort:ID``; editing a shared task
makes the cohort its own copy, which takes the shared one's place in that cohort's bank only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conversations.core.interactions import CloseForm, FormErrors, Outcome, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Cohort, TaskDefinition
from conversations.core.phases import Mode, Phase
from conversations.core.refs import UserRef
from conversations.core.routes import Who, command, form
from conversations.core.views import (
    Form,
    FormValue,
    LongText,
    Message,
    MultiSelect,
    Option,
    Section,
    ShortText,
)
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, id_number, target
from conversations.taskbank.loader import FRAMEWORKS

KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
COMPETENCIES = tuple(
    f"{framework}|{domain}" for framework in FRAMEWORKS for domain in sorted(FRAMEWORKS[framework])
)
WORD_FIELDS: tuple[tuple[str, str, str, Mode], ...] = (("individual_words", "letter", "Your letter", "individual"),
               ("reply_words", "reply", "Your reply to your buddy", "individual"),
               ("joint_words", "together", "Your joint answer", "joint"))  # fmt: skip


def own_source(cohort: Cohort) -> str:
    return f"cohort:{cohort.id}"


def bank_for(ctx: Ctx, cohort: Cohort) -> list[TaskDefinition]:
    """The cohort's bank, in its order: shared tasks (less those it has its own copy of) and its own."""
    settings = cohort.settings or {}
    replaced = set((settings.get("task_copies") or {}).keys())
    mine = own_source(cohort)
    tasks = [t for t in ctx.uow.tasks.all()
             if (t.source == mine) or (not t.source.startswith("cohort:") and t.key not in replaced)]  # fmt: skip
    order = {key: i for i, key in enumerate(settings.get("task_order") or [])}
    return sorted(tasks, key=lambda t: (order.get(t.key, len(order)), t.position, t.id or 0))


def task_in_bank(ctx: Ctx, cohort: Cohort, key: str) -> TaskDefinition:
    found = next((t for t in bank_for(ctx, cohort) if t.key == key), None)
    if found is None:
        keys = ", ".join(f"`{t.key}`" for t in bank_for(ctx, cohort))
        raise Refusal(f"There's no task “{escape(key)}” in the bank of {escape(cohort.name)}. Tasks: {keys}.")
    return found


@target("cohort_task")
def _cohort_task(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``COHORT`` (a new task) or ``COHORT:KEY`` (a task of that cohort's bank being edited)."""
    cohort_id, _, key = value.partition(":")
    number = id_number(cohort_id)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    if cohort is None or not in_workspace(cohort, user):
        raise Refusal("This form is out of date: type `task add` again.")
    task = task_in_bank(ctx, cohort, key) if key else None
    return task, cohort


def task_form(cohort: Cohort, task: TaskDefinition | None) -> Form:
    phases = {p.key: p for p in task.phases} if task else {}
    chosen = tuple(f"{c['framework']}|{c['domain']}" for c in task.competencies) if task else ()

    def words(phase_key: str) -> str:
        phase = phases.get(phase_key)
        return str(phase.word_limit) if phase else ""

    if task:  # a task written elsewhere may name its phases differently: show them by mode and order
        letters = [p for p in task.phases if p.mode == "individual"]
        joint = [p for p in task.phases if p.mode == "joint"]
        limits = {"letter": str(letters[0].word_limit) if letters else "",
                  "reply": str(letters[1].word_limit) if len(letters) > 1 else "",
                  "together": str(joint[0].word_limit) if joint else ""}  # fmt: skip
    else:
        limits = {"letter": words("letter"), "reply": words("reply"), "together": words("together")}
    fields: list[Any] = []
    if task is None:
        fields.append(ShortText("key", "Short name (letters, digits, _)", max_chars=40,
                                placeholder="rota_swap", hint="Used in `task send KEY`; it can't change later."))  # fmt: skip
    fields += [
        ShortText("title", "Title", max_chars=120, initial=task.title if task else ""),
        ShortText("summary", "One-line summary", max_chars=300, initial=task.summary if task else ""),
        LongText("instructions", "Instructions", max_chars=3000, initial=task.instructions if task else ""),
        ShortText("individual_words", "Individual letter: word limit (blank: no letter)", required=False,
                  max_chars=3, initial=limits["letter"]),
        ShortText("reply_words", "Reply to your buddy: word limit (blank: no reply)", required=False,
                  max_chars=3, initial=limits["reply"]),
        ShortText("joint_words", "Joint answer: word limit (blank: none)", required=False, max_chars=3,
                  initial=limits["together"]),
        MultiSelect("competencies", "Competencies (MLCF and LQF)",
                    tuple(Option(c, c.replace("|", ": ")) for c in COMPETENCIES), required=True, initial=chosen),
        ShortText("minutes", "About how many minutes", max_chars=3, initial=str(task.minutes) if task else "30"),
        ShortText("due_days", "Due after (days)", max_chars=2, initial=str(task.due_days) if task else "7"),
    ]  # fmt: skip
    state = f"{cohort.id}:{task.key}" if task else str(cohort.id)
    return Form("task_edit" if task else "task_add", f"Edit {task.key}"[:24] if task else "New task",
                tuple(fields), submit_label="Save", state=state)  # fmt: skip


def _text(values: Mapping[str, FormValue], name: str) -> str:
    raw = values.get(name)
    return raw.strip() if isinstance(raw, str) else ""


def _whole(text: str, low: int, high: int) -> int | None:
    number = id_number(text)
    return number if number is not None and low <= number <= high else None


def check(values: Mapping[str, FormValue]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as task fields, and an error per field that needs fixing."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, label, limit in (("title", "title", 120), ("summary", "summary", 300),
                               ("instructions", "instructions", 3000)):  # fmt: skip
        out[name] = _text(values, name)
        if not out[name]:
            errors[name] = f"Please write the {label}."
        elif len(out[name]) > limit:
            errors[name] = f"The {label} is {len(out[name])} characters; the limit is {limit:,}."
    phases: list[Phase] = []
    for name, key, label, mode in WORD_FIELDS:
        raw = _text(values, name)
        if not raw:
            continue
        words = _whole(raw, 20, 500)
        if words is None:
            errors[name] = "Please give a word limit from 20 to 500, or leave it blank."
            continue
        after = "letter" if key == "reply" and any(p.key == "letter" for p in phases) else ""
        phases.append(Phase(key=key, label=label.replace("Your ", "").capitalize(), prompt=label, mode=mode,
                            input="text", word_limit=words, shows=after, after=after))  # fmt: skip
    if not phases and not any(name in errors for name, *_ in WORD_FIELDS):
        errors["individual_words"] = "Give at least one word limit: the task needs something to write."
    out["phases"] = phases
    picked = values.get("competencies")
    chosen = (
        [picked] if isinstance(picked, str) and picked else list(picked) if isinstance(picked, tuple) else []
    )
    if not chosen:
        errors["competencies"] = "Pick at least one MLCF or LQF competency."
    elif any(c not in COMPETENCIES for c in chosen):
        errors["competencies"] = "Pick competencies from the list."
    out["competencies"] = [{"framework": c.split("|")[0], "domain": c.split("|")[1], "element": ""}
                           for c in chosen if c in COMPETENCIES]  # fmt: skip
    minutes, due = _whole(_text(values, "minutes"), 5, 240), _whole(_text(values, "due_days"), 1, 28)
    if minutes is None:
        errors["minutes"] = "Please give the minutes as a whole number from 5 to 240."
    if due is None:
        errors["due_days"] = "Please give the days as a whole number from 1 to 28."
    out["minutes"], out["due_days"] = minutes, due
    return out, errors


def _add(call: Call) -> Outcome:
    return ShowForm(task_form(call.the_cohort, None))


def _edit(call: Call) -> Outcome:
    if len(call.args) != 1:
        raise Refusal("Say which task, e.g. `task edit problem_page` (`task list` shows them).")
    return ShowForm(task_form(call.the_cohort, task_in_bank(call.ctx, call.the_cohort, call.args[0])))


def _added(call: Call) -> Outcome:
    ctx, cohort = call.ctx, call.the_cohort
    fields, errors = check(call.values)
    key = _text(call.values, "key").lower()
    if not KEY.match(key):
        errors["key"] = "Use 2 to 40 lower-case letters, digits or _, starting with a letter, e.g. rota_swap."
    elif ctx.uow.tasks.get(key) is not None:
        errors["key"] = f"“{key}” is taken: choose another short name."
    if errors:
        return FormErrors(errors)
    position = max((t.position for t in ctx.uow.tasks.all()), default=0) + 1
    ctx.uow.tasks.upsert([TaskDefinition(key=key, position=position, source=own_source(cohort), **fields)])
    ctx.audit(cohort, call.user, "task_add", task=key)
    return CloseForm(Message.simple(f"Added _{escape(fields['title'])}_ (`{key}`) to the bank of "
                                    f"{escape(cohort.name)}. `task order` changes where it comes."))  # fmt: skip


def _edited(call: Call) -> Outcome:
    ctx, cohort = call.ctx, call.the_cohort
    task: TaskDefinition = call.target
    fields, errors = check(call.values)
    if errors:
        return FormErrors(errors)
    if task.source == own_source(cohort):
        for name, value in fields.items():
            setattr(task, name, value)
        key = task.key
    else:  # a shared task: the cohort gets its own copy, in the shared one's place
        key = f"{task.key}_{cohort.id}"[:64]
        if ctx.uow.tasks.get(key) is None:
            ctx.uow.tasks.upsert([TaskDefinition(key=key, position=task.position, source=own_source(cohort),
                                                 **fields)])  # fmt: skip
        else:
            copy = ctx.uow.tasks.get(key)
            for name, value in fields.items():
                setattr(copy, name, value)
        settings = dict(cohort.settings or {})
        settings["task_copies"] = {**(settings.get("task_copies") or {}), task.key: key}
        settings["task_order"] = [key if k == task.key else k for k in settings.get("task_order") or []]
        cohort.settings = settings
    ctx.audit(cohort, call.user, "task_edit", task=key)
    note = "" if key == task.key else f" as {escape(cohort.name)}'s own copy, `{key}`"
    return CloseForm(Message.simple(f"Saved _{escape(fields['title'])}_{note}. Groups get it from the next time it "
                                    "is sent; tasks already posted stay as they were."))  # fmt: skip


def _order(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    bank = bank_for(ctx, cohort)
    if not call.args:
        lines = [f"{i}. `{t.key}`: {escape(t.title)}" for i, t in enumerate(bank, start=1)]
        return Message("Task order", (Section("**The order tasks are sent in**\n" + "\n".join(lines)),
                                      Section("Change it with `task order KEY KEY …` (first to go first).")))  # fmt: skip
    keys = [a.lower() for a in call.args]
    known = {t.key for t in bank}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise Refusal(
            f"“{escape(unknown[0])}” isn't in the bank. Tasks: {', '.join(f'`{k}`' for k in known)}."
        )
    if len(set(keys)) != len(keys):
        raise Refusal("Name each task once.")
    order = keys + [t.key for t in bank if t.key not in keys]
    cohort.settings = {**(cohort.settings or {}), "task_order": order}
    ctx.audit(cohort, call.user, "task_order", order=order)
    return Message.simple("Tasks will go in this order: " + ", ".join(f"`{k}`" for k in order) + ".")


C = Who.COORDINATOR
ROUTES = (
    command("task add", "write a new task for your cohort", _add, who=C),
    command("task edit KEY", "change a task (a shared one becomes your cohort's own copy)", _edit, who=C),
    command("task order [KEY...]", "show or set the order tasks are sent in", _order, who=C),
    form("task_add", _added, who=C, target="cohort_task", error_field="title"),
    form("task_edit", _edited, who=C, target="cohort_task", error_field="title"),
)  # fmt: skip
