"""The command grammar, parsed once for every platform.

Slack's ``/buddy <text>`` and a Teams chat message (its @mention stripped) both arrive here as
text. Mentions are normalised by the adapters to ``@<user_id>``; Slack's raw ``<@U123|name>``
form is accepted too.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CommandSpec:
    words: tuple[str, ...]
    usage: str
    summary: str
    coordinator: bool = False


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(("help",), "help", "show what I can do"),
    CommandSpec(("join",), "join [cohort]", "register for the buddy scheme"),
    CommandSpec(("profile",), "profile", "see and edit your profile"),
    CommandSpec(("task",), "task", "show your current task and answer it"),
    CommandSpec(("pause",), "pause", "take a break: no tasks or nudges until you resume"),
    CommandSpec(("resume",), "resume", "come back after a pause"),
    CommandSpec(("leave",), "leave", "leave the scheme"),
    CommandSpec(("status",), "status", "your buddy and task (coordinators: the cohort's figures)"),
    CommandSpec(("rematch",), "rematch", "ask for a new buddy when yours has gone quiet"),
    CommandSpec(("community",), "community", "find the network's community channels and events"),
    CommandSpec(("cohort", "create"), "cohort create NAME [region=...]", "create a cohort", True),
    CommandSpec(("cohort", "list"), "cohort list", "list cohorts", True),
    CommandSpec(("cohort", "open"), "cohort open", "open registration", True),
    CommandSpec(("cohort", "close"), "cohort close", "close registration", True),
    CommandSpec(("import",), "import", "import registrations from a survey export (CSV file)", True),
    CommandSpec(("coordinator", "add"), "coordinator add @person", "make someone a coordinator", True),
    CommandSpec(
        ("cohort", "settings"), "cohort settings", "show the cohort's nudge, matching and trio settings", True
    ),
    CommandSpec(
        ("cohort", "set"), "cohort set name=value ...", "change settings, e.g. nudge_pair_days=3", True
    ),
    CommandSpec(
        ("community", "add"), 'community add "#name" https://link "description"', "list a channel", True
    ),
    CommandSpec(("community", "remove"), "community remove NAME", "unlist a community channel", True),
    CommandSpec(("event", "add"), 'event add "title" "when" "description"', "announce an event", True),
    CommandSpec(("event", "remove"), "event remove N", "remove event N", True),
    CommandSpec(("event", "announce"), "event announce N", "tell every member about event N", True),
    CommandSpec(("match", "preview"), "match preview", "propose groups and show why", True),
    CommandSpec(("match", "swap"), "match swap @a @b", "swap two people between proposed groups", True),
    CommandSpec(("match", "lock"), "match lock N", "keep proposed group N as it is", True),
    CommandSpec(("match", "exclude"), "match exclude @a @b", "never match these two", True),
    CommandSpec(("match", "confirm"), "match confirm", "confirm the preview and introduce buddies", True),
    CommandSpec(("task", "send"), "task send [task-key]", "post the next task to every group now", True),
    CommandSpec(("task", "list"), "task list", "show the task bank", True),
    CommandSpec(("nudge",), "nudge", "nudge quiet groups now", True),
    CommandSpec(("export",), "export", "export participants and progress as CSV", True),
    CommandSpec(("digest",), "digest", "share learning points with the cohort", True),
    CommandSpec(
        ("cadence",),
        "cadence [weekly|fortnightly DAY HH:MM [ZONE]]",
        "show or change when tasks go out",
        True,
    ),  # fmt: skip
    CommandSpec(
        ("cadence", "skip"), "cadence skip [YYYY-MM-DD]", "skip the next task (or a later one)", True
    ),
    CommandSpec(
        ("cohort", "pause"), "cohort pause", "pause tasks, reminders and nudges for the cohort", True
    ),
    CommandSpec(("cohort", "resume"), "cohort resume", "resume the cohort's tasks", True),
)


@dataclass(frozen=True)
class Command:
    spec: CommandSpec
    args: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # key=value words, e.g. cohort=North

    @property
    def name(self) -> str:
        return " ".join(self.spec.words)

    @property
    def mentions(self) -> tuple[str, ...]:
        return tuple(a[1:] for a in self.args if a.startswith("@") and len(a) > 1)


@dataclass(frozen=True)
class UnknownCommand:
    text: str
    reason: str


_SLACK_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def parse(text: str) -> Command | UnknownCommand:
    cleaned = _SLACK_MENTION.sub(r"@\1", text or "").strip()
    if cleaned.startswith("/buddy"):
        cleaned = cleaned[len("/buddy") :].strip()
    try:
        words = shlex.split(cleaned)
    except ValueError:
        words = cleaned.split()
    if not words:
        words = ["help"]
    lowered = [w.lower() for w in words]
    for length in (2, 1):
        found = _by_words(tuple(lowered[:length]), words[length:])
        if found is not None:
            return found
    return UnknownCommand(cleaned, f"I don't know the command “{words[0]}”.")


def _by_words(head: tuple[str, ...], rest: list[str]) -> Command | None:
    for spec in SPECS:
        if spec.words == head:
            args: list[str] = []
            options: dict[str, str] = {}
            for word in rest:
                key, sep, value = word.partition("=")
                if sep and key.replace(".", "_").isidentifier():
                    options[key.lower()] = value
                else:
                    args.append(word)
            return Command(spec, tuple(args), options)
    return None
