"""Routes: what each feature answers, declared next to its code.

A flow module ends with ``ROUTES = (command(...), button(...), form(...), on(...))``. The engine
builds one :class:`RouteTable` from every module's routes at start-up and dispatches from it, so
a command's words, its help line, who may run it, its lane, its buttons and its forms live in one
place, and ``help``, "did you mean", the Slack manifest's usage hint, the Teams command menu and
the README are checked against the same table.

A route names what kind of record an id from outside refers to (``target``): the one lookup in
:mod:`conversations.flows.lookup` resolves it inside the actor's cohorts and workspace, and checks
the route's audience, before the handler runs. Handlers never see a raw id from a button or form.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Who(StrEnum):
    """Who may run a route."""

    ANYONE = "anyone"  # anyone in the workspace, registered or not
    MEMBER = "member"  # registered in a cohort (the handler gets their membership)
    COORDINATOR = "coordinator"  # coordinates the cohort the route acts on (admins of the workspace too)
    ORGANISER = "organiser"  # organises the workspace's network: channels, events, coffee, experts
    ADMIN = "admin"  # one of Buddy's administrators for this workspace


class Lane(StrEnum):
    """Which queue a route's work waits in: coordinator work may scan whole cohorts, and never
    holds up a member's click."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


Handler = Callable[..., Any]


class RouteError(ValueError):
    """The route table is inconsistent: start-up stops with the names."""


_WORD = re.compile(r"^[a-z][a-z-]*$")


@dataclass(frozen=True)
class Param:
    """One argument in a command's grammar, read from its usage line."""

    text: str  # as written in the usage, e.g. "@a", "N", "[YYYY-MM-DD]", "name=value"
    optional: bool
    mention: bool  # an @person
    option: bool  # key=value


def _grammar(usage: str) -> tuple[tuple[str, ...], tuple[Param, ...]]:
    """Split a usage line into its command words and its parameters."""
    tokens = usage.split()
    words: list[str] = []
    while tokens and _WORD.match(tokens[0]):
        words.append(tokens.pop(0))
    params: list[Param] = []
    depth = 0
    for token in tokens:
        optional = depth > 0 or token.startswith("[")
        depth += token.count("[") - token.count("]")
        bare = token.strip("[]")
        params.append(Param(token, optional, bare.startswith("@"), "=" in bare))
    return tuple(words), tuple(params)


@dataclass(frozen=True)
class CommandRoute:
    usage: str  # words then grammar, e.g. "match swap @a @b"
    summary: str  # one line of help
    handler: Handler
    who: Who = Who.MEMBER
    lane: Lane = Lane.MEMBER
    admin_lane: Lane | None = None  # a different lane when an administrator runs it (whole-workspace scans)
    not_member: str = ""  # what a non-member hears, where that differs from the usual
    any_cohort: bool = False  # a coordinator route about all their cohorts: none is chosen
    words: tuple[str, ...] = field(init=False)
    params: tuple[Param, ...] = field(init=False)

    def __post_init__(self) -> None:
        words, params = _grammar(self.usage)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "params", params)

    @property
    def name(self) -> str:
        return " ".join(self.words)

    @property
    def help_line(self) -> str:
        return f"`{self.usage}`: {self.summary}"


@dataclass(frozen=True)
class ButtonRoute:
    action_id: str
    handler: Handler
    who: Who = Who.MEMBER
    target: str = ""  # what the button's value refers to (a kind the lookup knows), or "" for nothing
    lane: Lane = Lane.MEMBER
    admin_lane: Lane | None = None
    not_member: str = ""

    @property
    def name(self) -> str:
        return self.action_id


@dataclass(frozen=True)
class FormRoute:
    form_id: str
    handler: Handler
    who: Who = Who.MEMBER
    target: str = ""  # what the form's state refers to
    lane: Lane = Lane.MEMBER
    error_field: str = "_form"  # where a refusal is shown
    not_member: str = ""
    admin_lane: Lane | None = None

    @property
    def name(self) -> str:
        return self.form_id


@dataclass(frozen=True)
class EventRoute:
    """Something that happened rather than something asked: a home opened, a member joined a
    channel, Buddy installed, a file shared."""

    kind: type
    handler: Handler
    lane: Lane = Lane.MEMBER
    admin_lane: Lane | None = None

    @property
    def name(self) -> str:
        return self.kind.__name__


Route = CommandRoute | ButtonRoute | FormRoute | EventRoute


def command(
    usage: str,
    summary: str,
    handler: Handler,
    *,
    who: Who = Who.MEMBER,
    lane: Lane | None = None,
    admin_lane: Lane | None = None,
    not_member: str = "",
    any_cohort: bool = False,
) -> CommandRoute:
    """A typed command. Coordinator and admin commands run in the coordinator lane unless told."""
    if lane is None:
        lane = Lane.COORDINATOR if who in (Who.COORDINATOR, Who.ADMIN, Who.ORGANISER) else Lane.MEMBER
    return CommandRoute(usage, summary, handler, who, lane, admin_lane, not_member, any_cohort)


def button(
    action_id: str,
    handler: Handler,
    *,
    who: Who = Who.MEMBER,
    target: str = "",
    lane: Lane | None = None,
    admin_lane: Lane | None = None,
    not_member: str = "",
) -> ButtonRoute:
    if lane is None:
        lane = Lane.COORDINATOR if who in (Who.COORDINATOR, Who.ADMIN) else Lane.MEMBER
    return ButtonRoute(action_id, handler, who, target, lane, admin_lane, not_member)


def form(
    form_id: str,
    handler: Handler,
    *,
    who: Who = Who.MEMBER,
    target: str = "",
    lane: Lane | None = None,
    error_field: str = "_form",
    not_member: str = "",
) -> FormRoute:
    if lane is None:
        lane = Lane.COORDINATOR if who in (Who.COORDINATOR, Who.ADMIN) else Lane.MEMBER
    return FormRoute(form_id, handler, who, target, lane, error_field, not_member)


def on(
    kind: type, handler: Handler, *, lane: Lane = Lane.MEMBER, admin_lane: Lane | None = None
) -> EventRoute:
    return EventRoute(kind, handler, lane, admin_lane)


@dataclass(frozen=True)
class InSlices:
    """A handler's answer when its work spans a whole cohort: ``each`` runs over ``ids`` a slice per
    transaction (a failing slice is rolled back and the rest go on), then ``finish`` reports, with
    each slice's result and the ids whose slice failed."""

    ids: list[int]
    each: Callable[[Any, list[int]], Any]
    finish: Callable[[Any, list[Any], list[int]], Any]
    what: str
    size: int = 0


@dataclass(frozen=True)
class InTransactions:
    """A handler's answer when its work needs transactions of its own (a national round confirmed
    in short steps): the engine calls ``work`` with its ``run`` once the checks have passed."""

    work: Callable[[Callable[[Callable[[Any], Any]], Any]], Any]


# ---- parsing typed words ----------------------------------------------------------------------

_SLACK_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Parsed:
    route: CommandRoute
    args: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # key=value words, e.g. cohort=North

    @property
    def name(self) -> str:
        return self.route.name

    @property
    def mentions(self) -> tuple[str, ...]:
        return tuple(a[1:] for a in self.args if a.startswith("@") and len(a) > 1)


@dataclass(frozen=True)
class Unknown:
    text: str
    words: tuple[str, ...]  # as typed

    @property
    def reason(self) -> str:
        return f"I don't know the command “{self.words[0]}”." if self.words else "I didn't catch that."


_CLOSING = {'"': '"', "“": "”", "'": "'"}


def split_words(text: str) -> list[str]:
    """Typed text as words: mentions normalised to ``@<user_id>``, a leading ``/buddy`` dropped,
    quotes grouping words (``cohort="North West"``). Linear in the text's length; text with an
    unclosed quote is split on spaces alone, as typed."""
    cleaned = _SLACK_MENTION.sub(r"@\1", text or "").strip()
    if cleaned.startswith("/buddy"):
        cleaned = cleaned[len("/buddy") :].strip()
    words: list[str] = []
    current: list[str] = []
    closing = ""
    started = False  # a quoted empty word still counts
    for ch in cleaned:
        if closing:
            if ch == closing:
                closing = ""
            else:
                current.append(ch)
        elif ch in _CLOSING and (ch != "'" or not current or current[-1] == "="):
            closing, started = _CLOSING[ch], True
        elif ch.isspace():
            if current or started:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
    if closing:
        return cleaned.split()
    if current or started:
        words.append("".join(current))
    return words


# ---- the table ---------------------------------------------------------------------------------


class RouteTable:
    """Every route, checked once: a duplicate word, action id, form id or event, or a route with no
    handler, raises :class:`RouteError` naming them."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self.commands: dict[tuple[str, ...], CommandRoute] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.forms: dict[str, FormRoute] = {}
        self.events: dict[type, EventRoute] = {}
        problems: list[str] = []
        for route in self.routes:
            if not callable(route.handler):
                problems.append(f"{type(route).__name__} “{route.name}” has no handler")
            book: dict[Any, Any]
            key: Any
            match route:
                case CommandRoute():
                    book, key, what = self.commands, route.words, "command"
                    if not route.words:
                        problems.append(f"command “{route.usage}” has no words")
                case ButtonRoute():
                    book, key, what = self.buttons, route.action_id, "action id"
                case FormRoute():
                    book, key, what = self.forms, route.form_id, "form id"
                case EventRoute():
                    book, key, what = self.events, route.kind, "event"
            if key in book:
                problems.append(f"duplicate {what} “{route.name}”")
            _file(book, key, route)
        if problems:
            raise RouteError("The route table is inconsistent: " + "; ".join(problems) + ".")

    def parse(self, text: str) -> Parsed | Unknown:
        words = split_words(text) or ["help"]
        lowered = tuple(w.lower() for w in words[:3])
        for length in (3, 2, 1):
            route = self.commands.get(lowered[:length])
            if route is not None and len(lowered) >= length:
                return _parsed(route, words[length:])
        return Unknown(text, tuple(words))

    def command_routes(self, allowed: Callable[[CommandRoute], bool] = lambda r: True) -> list[CommandRoute]:
        return [r for r in self.commands.values() if allowed(r)]

    def closest(
        self, typed: Sequence[str], routes: Sequence[CommandRoute], limit: int = 3
    ) -> list[CommandRoute]:
        """The commands nearest to what was typed, among ``routes`` (those the person may run)."""
        by_name = {r.name: r for r in routes}
        said = " ".join(w.lower() for w in typed[:2])
        first = typed[0].lower() if typed else ""
        names = difflib.get_close_matches(said, list(by_name), n=limit, cutoff=0.6)
        firsts = difflib.get_close_matches(first, sorted({r.words[0] for r in routes}), n=limit, cutoff=0.7)
        for word in firsts:
            names += [n for n in by_name if n.split()[0] == word and n not in names]
        return [by_name[n] for n in names[:limit]]


def _file(book: dict[Any, Any], key: Any, route: Route) -> None:
    book[key] = route


def _parsed(route: CommandRoute, rest: Sequence[str]) -> Parsed:
    args: list[str] = []
    options: dict[str, str] = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if sep and key.replace(".", "_").isidentifier():
            options[key.lower()] = value
        else:
            args.append(word)
    return Parsed(route, tuple(args), options)
