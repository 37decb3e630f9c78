"""The task bank: YAML files of tasks, validated with file, line and reason for every mistake."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conversations.core.model import TaskDefinition
from conversations.core.phases import Phase, PhaseError, parse_phase

FRAMEWORKS = {
    "MLCF": {
        "Demonstrating personal qualities",
        "Working with others",
        "Managing services",
        "Improving services",
        "Setting direction",
    },
    "LQF": {"Personal qualities", "Setting direction", "Delivering the service"},
}


class TaskBankError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Where:
    source: str

    def at(self, node: yaml.Node) -> str:
        return f"{self.source}, line {node.start_mark.line + 1}"


def builtin_path() -> str:
    return str(resources.files("conversations.taskbank") / "data" / "tasks.yaml")


def load_builtin() -> list[TaskDefinition]:
    return load_file(builtin_path(), source="builtin")


def load_file(path: str | Path, source: str | None = None) -> list[TaskDefinition]:
    """Parse and validate a whole file; raise :class:`TaskBankError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskBankError([f"{path}: cannot read the file ({exc.strerror})"]) from exc
    return parse(text, str(path), source or str(path))


def parse(text: str, filename: str, source: str) -> list[TaskDefinition]:
    where = _Where(filename)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise TaskBankError([f"{filename}{line}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    problems: list[str] = []
    if not isinstance(root, yaml.MappingNode) or "tasks" not in _keys(root):
        raise TaskBankError([f"{filename}, line 1: expected a mapping with a 'tasks' list"])
    tasks_node = _keys(root)["tasks"]
    if not isinstance(tasks_node, yaml.SequenceNode) or not tasks_node.value:
        raise TaskBankError([f"{where.at(tasks_node)}: 'tasks' must be a non-empty list"])
    definitions: list[TaskDefinition] = []
    seen: set[str] = set()
    for position, node in enumerate(tasks_node.value):
        task = _task(node, where, problems, position, source)
        if task is None:
            continue
        if task.key in seen:
            problems.append(f"{where.at(node)}: task key '{task.key}' is used twice")
        seen.add(task.key)
        definitions.append(task)
    if problems:
        raise TaskBankError(problems)
    return definitions


def _keys(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _task(
    node: yaml.Node, where: _Where, problems: list[str], position: int, source: str
) -> TaskDefinition | None:
    if not isinstance(node, yaml.MappingNode):
        problems.append(f"{where.at(node)}: each task must be a mapping")
        return None
    fields = _keys(node)
    data: dict[str, Any] = yaml.safe_load(yaml.serialize(node)) or {}
    before = len(problems)
    for name in ("key", "title", "summary", "instructions"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            problems.append(f"{where.at(fields.get(name, node))}: task needs a non-empty text '{name}'")
    for name, low, high in (("minutes", 5, 240), ("due_days", 1, 28)):
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(
                f"{where.at(fields.get(name, node))}: '{name}' must be a whole number from {low} to {high}"
            )
    phases = _phases(fields.get("phases"), node, where, problems)
    competencies = _competencies(fields.get("competencies"), node, where, problems)
    if len(problems) > before:
        return None
    outcomes = [str(o) for o in data.get("outcomes") or []]
    return TaskDefinition(
        key=data["key"].strip(),
        title=data["title"].strip(),
        summary=data["summary"].strip(),
        instructions=data["instructions"].strip() + _outcomes_text(outcomes),
        minutes=data["minutes"],
        due_days=data["due_days"],
        phases=phases,
        competencies=competencies,
        position=position,
        source=source,
    )


def _outcomes_text(outcomes: list[str]) -> str:
    if not outcomes:
        return ""
    return "\n\nLearning outcomes:\n" + "\n".join(f"- {o}" for o in outcomes)


def _phases(node: yaml.Node | None, task: yaml.Node, where: _Where, problems: list[str]) -> list[Phase]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        problems.append(f"{where.at(node or task)}: task needs a non-empty 'phases' list")
        return []
    phases: list[Phase] = []
    keys: set[str] = set()
    for item in node.value:
        data = yaml.safe_load(yaml.serialize(item)) if isinstance(item, yaml.MappingNode) else None
        if not isinstance(data, dict):
            problems.append(f"{where.at(item)}: each phase must be a mapping")
            continue
        at = where.at(item)
        try:
            phases.append(parse_phase(data, keys))
        except PhaseError as error:
            problems.extend(f"{at}: {problem}" for problem in error.problems)
            if not isinstance(data.get("key"), str) or not data["key"].isidentifier():
                continue
        key = data["key"]
        if key in keys:
            problems.append(f"{at}: phase key '{key}' is used twice")
        keys.add(key)
    return phases


def _competencies(
    node: yaml.Node | None, task: yaml.Node, where: _Where, problems: list[str]
) -> list[dict[str, str]]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        problems.append(f"{where.at(node or task)}: task needs a 'competencies' list (MLCF and LQF domains)")
        return []
    result = []
    for item in node.value:
        data = yaml.safe_load(yaml.serialize(item))
        framework = data.get("framework") if isinstance(data, dict) else None
        domain = data.get("domain") if isinstance(data, dict) else None
        if framework not in FRAMEWORKS or domain not in FRAMEWORKS[framework]:
            known = "; ".join(f"{f}: {', '.join(sorted(d))}" for f, d in FRAMEWORKS.items())
            problems.append(
                f"{where.at(item)}: unknown framework/domain {framework!r}/{domain!r} (known: {known})"
            )
            continue
        result.append({"framework": framework, "domain": domain, "element": str(data.get("element") or "")})
    return result
