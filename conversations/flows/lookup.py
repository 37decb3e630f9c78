"""The one lookup for ids that arrive from outside, and the one check of who may run a route.

A button's value, a form's state, a ``cohort=`` word and an ``@person`` are all chosen by the
client, so none is trusted: each is resolved here, inside the actor's own workspace and cohorts,
before a handler runs. Something that does not resolve gets the same answer whether it never
existed or belongs to someone else, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conversations.core.interactions import Actor, FormValue, Interaction
from conversations.core.model import PARTICIPATION, Cohort, Participant, Status
from conversations.core.refs import UserRef
from conversations.core.routes import ButtonRoute, CommandRoute, EventRoute, FormRoute, Route, Who
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.ports.store import LastConsent

NOT_REGISTERED = "You're not registered yet: use `join` to sign up."

# Checks run for a registered member before any member route (the privacy notice changed, say):
# each may raise a Refusal. Features append theirs at import time.
Gate = Callable[["Call"], None]
GATES: list[Gate] = []


@dataclass
class Call:
    """One resolved request: what a handler receives instead of raw ids."""

    ctx: Ctx
    actor: Actor
    route: Route
    interaction: Interaction | None = None
    args: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    mentions: tuple[UserRef, ...] = ()  # @people, as users of the actor's own workspace
    cohort: Cohort | None = None  # the cohort a coordinator route acts on, or a target's cohort
    member: Participant | None = None  # the actor's own membership, for member routes
    consent: LastConsent | None = None  # with it: their newest participation consent, for the gates
    target: Any = None  # what a button's value or form's state referred to, resolved
    values: Mapping[str, FormValue] = field(default_factory=dict)  # a form's fields

    @property
    def user(self) -> UserRef:
        return self.actor.ref

    @property
    def the_cohort(self) -> Cohort:
        if self.cohort is None:  # the route's audience guarantees one; a bug if not
            raise Refusal("I couldn't tell which cohort you meant: add `cohort=NAME`.")
        return self.cohort

    @property
    def the_member(self) -> Participant:
        if self.member is None:
            raise Refusal(NOT_REGISTERED)
        return self.member

    def people(self, count: int | None = None, example: str = "") -> list[Participant]:
        """The mentioned people, each registered in this route's cohort (mentions of anyone else
        are refused by name, never looked up elsewhere)."""
        cohort = self.the_cohort
        if count is not None and len(self.mentions) != count:
            raise Refusal(f"Please mention {count} {'person' if count == 1 else 'people'}"
                          + (f", e.g. `{example}`." if example else "."))  # fmt: skip
        found = []
        for user in self.mentions:
            person = self.ctx.uow.participants.find(cohort.id, user)
            if person is None:
                raise Refusal(f"{{@{user.user_id}}} isn't registered in {cohort.name}.")
            found.append(person)
        return found


# ---- targets: what a value from a button or a form's state refers to ----------------------------

Resolved = tuple[Any, Cohort | None]
Resolver = Callable[[Ctx, UserRef, str], Resolved]
_TARGETS: dict[str, Resolver] = {}


def target(kind: str) -> Callable[[Resolver], Resolver]:
    """Register how a kind of id is resolved; the resolver returns the record and its cohort."""

    def register(resolver: Resolver) -> Resolver:
        if kind in _TARGETS:
            raise ValueError(f"Two resolvers for the target “{kind}”.")
        _TARGETS[kind] = resolver
        return resolver

    return register


def targets() -> frozenset[str]:
    return frozenset(_TARGETS)


def id_number(value: str) -> int | None:
    """A record id typed or sent by a client: plain ASCII digits of a sane length, else None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@target("cohort")
def _cohort(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    number = id_number(value)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    if cohort is None or not in_workspace(cohort, user):
        raise Refusal("That cohort no longer exists.")
    return cohort, cohort


@target("open_cohort")
def _open_cohort(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """A cohort someone is registering for (or editing their profile in), in their workspace."""
    number = id_number(value)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    if cohort is None or not in_workspace(cohort, user):
        raise Refusal("This form is out of date: please start again with `join`.")
    return cohort, cohort


@target("proposal")
def _proposal(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    for cohort in ctx.coordinated(user):
        proposal = ctx.uow.matches.open_proposal(cohort.id)
        if proposal is not None and str(proposal.id) == value:
            return proposal, cohort
    raise Refusal("That preview has already been confirmed or replaced: run `match preview` again.")


@target("group_member")
def _group_member(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``GROUP:PERSON``: a group, and one of its own members."""
    match_id, _, person_id = value.partition(":")
    number, person_number = id_number(match_id), id_number(person_id)
    match = ctx.uow.matches.get(number) if number is not None else None
    cohort = ctx.uow.cohorts.get(match.cohort_id) if match else None
    if match is None or cohort is None or person_number is None or not in_workspace(cohort, user):
        raise Refusal("That group no longer exists.")
    member = next((m for m in ctx.uow.matches.members(match.id) if m.id == person_number), None)
    if member is None or member.status == Status.LEFT:
        raise Refusal("That person is no longer in that group.")
    return (match, member), cohort


@target("assignment")
def _assignment(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``ASSIGNMENT[:PHASE]``: a task posted to a group the actor is a member of."""
    assignment_id, _, phase = value.partition(":")
    number = id_number(assignment_id)
    if number is None:
        raise Refusal("That button is out of date; use `task` to see your current task.")
    assignment = ctx.uow.assignments.get(number)
    match = ctx.uow.matches.get(assignment.match_id) if assignment else None
    member = ctx.participant(user)
    members = ctx.uow.matches.members(match.id) if match else []
    if assignment is None or match is None or member is None or member.id not in {m.id for m in members}:
        raise Refusal("That task isn't one of yours, so I can't open it.")
    return (assignment, match, phase), ctx.uow.cohorts.get(match.cohort_id)


# ---- the check -------------------------------------------------------------------------------------


def prepare(
    ctx: Ctx,
    route: Route,
    actor: Actor,
    interaction: Interaction | None = None,
    *,
    args: tuple[str, ...] = (),
    options: Mapping[str, str] | None = None,
    raw: str = "",
    values: Mapping[str, FormValue] | None = None,
) -> Call:
    """Check the actor may run ``route`` and resolve every id it was handed: ``raw`` (a button's
    value or a form's state) by the route's target kind, ``cohort=`` and ``@people`` words."""
    user = actor.ref
    options = dict(options or {})
    call = Call(ctx, actor, route, interaction, args, options, values=dict(values or {}))
    call.mentions = tuple(
        UserRef(user.platform, user.workspace, a[1:]) for a in args if a.startswith("@") and len(a) > 1
    )
    if isinstance(route, EventRoute):
        return call
    kind = route.target if isinstance(route, ButtonRoute | FormRoute) else ""
    if kind:
        record, cohort = _TARGETS[kind](ctx, user, raw)
        call.target, call.cohort = record, cohort
    who = route.who
    if who is Who.ADMIN and not ctx.is_admin(user):
        raise Refusal("Sorry, only Buddy's administrators can do that (see BUDDY_ADMINS).")
    if who is Who.ORGANISER and not ctx.is_organiser(user):
        raise Refusal("Sorry, only the network's organisers can do that. An administrator can make you one with "
                      "`organiser add @you`.")  # fmt: skip
    if who is Who.COORDINATOR:
        if isinstance(route, CommandRoute) and route.any_cohort:
            if not ctx.coordinated(user):
                raise Refusal("Sorry, that command is for scheme coordinators, and you don't coordinate a "
                              "cohort here.")  # fmt: skip
        elif call.cohort is None:
            call.cohort = ctx.cohort_for_coordinator(user, options.get("cohort"))
        elif not ctx.is_coordinator(user, call.cohort):
            raise Refusal(f"Sorry, only the coordinators of {call.cohort.name} can do that.")
    if who is Who.MEMBER or who is Who.ANYONE:
        call.member, call.consent = ctx.member_and_consent(user, PARTICIPATION)
        if call.member is None and who is Who.MEMBER:
            raise Refusal(route.not_member or NOT_REGISTERED)
    if call.member is not None:
        for gate in GATES:
            gate(call)
    return call


def describe(route: Route) -> str:
    """A route in words, for start-up errors and tests."""
    match route:
        case CommandRoute():
            return f"command “{route.name}”"
        case ButtonRoute():
            return f"button “{route.action_id}”"
        case FormRoute():
            return f"form “{route.form_id}”"
        case EventRoute():
            return f"event {route.kind.__name__}"
