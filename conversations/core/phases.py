"""A task's phases: the parts members write (a letter, a reply, a joint answer), as typed values.

A phase is stored as a plain mapping (in the task bank's YAML and in the ``task_definitions.phases``
JSON column) with the keys ``key, label, prompt, mode, input, word_limit, shows, after, options``.
:func:`parse_phase` turns one such mapping into a :class:`Phase` and names every field that is wrong;
:meth:`Phase.stored` gives the mapping back, so what is stored does not change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

Mode = Literal["individual", "joint"]
Input = Literal["text", "date", "choice"]
MODES: tuple[Mode, ...] = ("individual", "joint")
INPUTS: tuple[Input, ...] = ("text", "date", "choice")
LABEL_CHARS = 40


class PhaseError(ValueError):
    """Every problem found in one phase, each naming the field and what it must be."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PhaseOption:
    value: str
    label: str


@dataclass(frozen=True)
class Phase:
    key: str
    label: str
    prompt: str = ""
    mode: Mode = "individual"
    input: Input = "text"
    word_limit: int = 0  # 0: no limit
    shows: str = ""  # an earlier phase whose answers the form shows
    after: str = ""  # an earlier phase a partner must answer before this one opens
    options: tuple[PhaseOption, ...] = ()  # for ``input: choice``

    @property
    def joint(self) -> bool:
        return self.mode == "joint"

    def stored(self) -> dict[str, Any]:
        """The mapping this phase is stored as (the same keys and order as ever)."""
        return {
            "key": self.key,
            "label": self.label,
            "prompt": self.prompt,
            "mode": self.mode,
            "input": self.input,
            "word_limit": self.word_limit,
            "shows": self.shows,
            "after": self.after,
            "options": [{"value": o.value, "label": o.label} for o in self.options],
        }


def parse_phase(data: Mapping[str, Any], earlier: Collection[str] = ()) -> Phase:
    """One phase from its stored mapping; ``earlier``: the keys of the phases before it.

    Raises :class:`PhaseError` with every problem (the key first: without one nothing else is checked)."""
    key = data.get("key")
    if not isinstance(key, str) or not key.isidentifier():
        raise PhaseError(["phase needs a 'key' made of letters, digits and underscores"])
    problems: list[str] = []
    mode, kind, limit = data.get("mode", "individual"), data.get("input", "text"), data.get("word_limit", 0)
    if mode not in MODES:
        problems.append(f"phase '{key}' mode must be individual or joint, not {mode!r}")
    if kind not in INPUTS:
        problems.append(f"phase '{key}' input must be text, date or choice, not {kind!r}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 500:
        problems.append(f"phase '{key}' word_limit must be a whole number from 0 to 500")
    raw_options = data.get("options") or []
    options = _options(raw_options)
    if kind == "choice" and options is None:
        problems.append(f"phase '{key}' needs 'options', each with a value and a label")
    refs = {name: str(data.get(name) or "") for name in ("shows", "after")}
    for name, ref in refs.items():
        if ref and ref not in earlier:
            problems.append(f"phase '{key}' {name} '{ref}', which is not an earlier phase")
    if problems:
        raise PhaseError(problems)
    return Phase(
        key=key,
        label=str(data.get("label") or key.replace("_", " ").capitalize())[:LABEL_CHARS],
        prompt=str(data.get("prompt") or ""),
        mode=cast(Mode, mode),
        input=cast(Input, kind),
        word_limit=limit,
        shows=refs["shows"],
        after=refs["after"],
        options=options or (),
    )


def parse_phases(stored: Any) -> list[Phase]:
    """A task's phases from the stored list; a :class:`PhaseError` says which phase is wrong and why."""
    if not isinstance(stored, Sequence) or isinstance(stored, str):
        raise PhaseError([f"phases must be a list of mappings, not {type(stored).__name__}"])
    phases: list[Phase] = []
    for number, item in enumerate(stored, 1):
        if not isinstance(item, Mapping):
            raise PhaseError([f"phase {number} must be a mapping, not {type(item).__name__}"])
        try:
            phases.append(parse_phase(item, [p.key for p in phases]))
        except PhaseError as error:
            raise PhaseError([f"phase {number}: {problem}" for problem in error.problems]) from None
    return phases


def _options(raw: Any) -> tuple[PhaseOption, ...] | None:
    """The options, or None unless there are at least two and each has a value and a label."""
    if not isinstance(raw, list) or len(raw) < 2:
        return None
    if not all(isinstance(o, Mapping) and o.get("value") and o.get("label") for o in raw):
        return None
    return tuple(PhaseOption(str(o["value"]), str(o["label"])) for o in raw)
