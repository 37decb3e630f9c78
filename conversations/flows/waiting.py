"""The waiting list moves by itself: when someone suitable joins, the longest-waiting person is
matched with them (``waiting auto``), or the coordinators are asked to approve (``waiting ask``,
the default). ``where am I`` tells a waiting person their place and why they are waiting."""

from __future__ import annotations

from collections.abc import Sequence

from conversations.core.markup import escape
from conversations.core.model import Cohort, Participant, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, target
from conversations.flows.matchmaking import MATCHABLE, _new_match, _role_plural, candidate, rules_for
from conversations.matching import best_partners

AUTO = "waiting_auto"


def waiting(ctx: Ctx, cohort: Cohort) -> list[Participant]:
    """The waiting list, longest-waiting first."""
    people = ctx.uow.participants.in_cohort(cohort.id, (Status.WAITING,))
    return sorted(people, key=lambda p: (p.registered_at or ctx.now, p.id))


def fit(ctx: Ctx, cohort: Cohort, waiter: Participant, newcomer: Participant):  # type: ignore[no-untyped-def]
    """The group ``waiter`` and ``newcomer`` would make, or None if they don't fit (roles, past
    buddies, exclusions, eligible grades)."""
    if not (waiter.consent_data and newcomer.consent_data) or waiter.unreachable or newcomer.unreachable:
        return None
    rules = rules_for(ctx, cohort, [waiter, newcomer])
    return best_partners(candidate(waiter), [candidate(newcomer)], rules, seed=ctx.seed)


def offer(ctx: Ctx, cohort: Cohort, newcomer: Participant) -> str:
    """Someone has just joined: match them with the longest-waiting person who fits, or ask the
    coordinators. Returns a sentence for the newcomer ("" when nothing happened)."""
    if cohort.current_round < 1 or newcomer.status not in MATCHABLE:
        return ""
    for waiter in waiting(ctx, cohort):
        group = fit(ctx, cohort, waiter, newcomer)
        if group is None:
            continue
        if (cohort.settings or {}).get(AUTO):
            pair(ctx, cohort, waiter, newcomer, group.score, list(group.reasons))
            tell_coordinators(ctx, cohort, f"auto:{waiter.id}:{newcomer.id}", Message.simple(
                f"From the waiting list: I matched **{escape(waiter.display_name)}** (waiting since "
                f"{_since(waiter)}) with **{escape(newcomer.display_name)}**, who has just joined "
                f"{escape(cohort.name)}."))  # fmt: skip
            return " Good news: someone was waiting for a buddy like you, so I've introduced you already."
        text = (f"**{escape(newcomer.display_name)}** has just joined {escape(cohort.name)} and fits "
                f"**{escape(waiter.display_name)}**, who has waited longest (since {_since(waiter)}). Match them?")  # fmt: skip
        tell_coordinators(ctx, cohort, f"approve:{waiter.id}:{newcomer.id}", Message(text, (
            Section(text), Actions((Button("Match them", "approve_waiting", f"{waiter.id}:{newcomer.id}",
                                           style="primary"),)))))  # fmt: skip
        return ""
    return ""


def pair(ctx: Ctx, cohort: Cohort, waiter: Participant, newcomer: Participant, score: float,
         reasons: list[str]) -> None:  # fmt: skip
    _new_match(ctx, cohort, [waiter, newcomer], score, reasons,
               note="You were at the top of the waiting list, and someone who fits has just joined.")  # fmt: skip


def tell_coordinators(ctx: Ctx, cohort: Cohort, key: str, message: Message) -> int:
    sent = 0
    for c in ctx.uow.cohorts.coordinators(cohort.id):
        sent += queue(ctx.uow, f"coord:{cohort.id}:{key}:{c.user_id}", to_user(UserRef(c.platform, c.workspace,
                      c.user_id)), message, ctx.now)  # fmt: skip
    return sent


def _since(p: Participant) -> str:
    return p.registered_at.strftime("%-d %b") if p.registered_at else "the start"


@target("waiting_pair")
def _waiting_pair(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """``WAITER:NEWCOMER``: two people of a cohort the actor coordinates, both still unmatched."""
    first, _, second = value.partition(":")
    ids = [int(v) for v in (first, second) if v.isascii() and v.isdigit() and len(v) < 19]
    people = ctx.uow.participants.many(ids) if len(ids) == 2 else []
    if len(people) != 2 or people[0].cohort_id != people[1].cohort_id:
        raise Refusal("Those people are no longer waiting.")
    cohort = ctx.uow.cohorts.get(people[0].cohort_id)
    if cohort is None or not in_workspace(cohort, user):
        raise Refusal("Those people are no longer waiting.")
    by_id = {p.id: p for p in people}
    return (by_id[ids[0]], by_id[ids[1]]), cohort


def _approve(call: Call) -> Message:
    waiter, newcomer = call.target
    cohort = call.the_cohort
    if waiter.status not in MATCHABLE or newcomer.status not in MATCHABLE:
        raise Refusal(f"{escape(waiter.display_name)} or {escape(newcomer.display_name)} has been matched or has "
                      "left since: nothing to do.")  # fmt: skip
    group = fit(call.ctx, cohort, waiter, newcomer)
    if group is None:
        raise Refusal("They no longer fit (a rule changed): run `match preview` to see the options.")
    pair(call.ctx, cohort, waiter, newcomer, group.score, list(group.reasons))
    call.ctx.audit(cohort, call.user, "waiting_approve", waiter=waiter.id, newcomer=newcomer.id)
    return Message.simple(
        f"Done: I've introduced {escape(waiter.display_name)} and {escape(newcomer.display_name)}."
    )


def _mode(call: Call) -> Message:
    cohort = call.the_cohort
    word = call.args[0].lower() if call.args else ""
    if word not in ("auto", "ask"):
        from conversations.flows.running import waiting_list  # the list itself lives with the groups

        if call.args:
            raise Refusal(
                "Say `waiting` for the list, or `waiting auto` / `waiting ask` to choose how it moves."
            )
        auto = (cohort.settings or {}).get(AUTO)
        listed = waiting_list(call.ctx, cohort)
        note = (
            f"It is matched {'automatically' if auto else 'with your approval'} when someone suitable joins: "
            "change that with `waiting auto` or `waiting ask`."
        )
        return Message(listed.text, (*listed.blocks, Section(note)))
    cohort.settings = {**(cohort.settings or {}), AUTO: word == "auto"}
    call.ctx.audit(cohort, call.user, "waiting_mode", mode=word)
    if word == "auto":
        return Message.simple("When someone suitable joins, I'll match the longest-waiting person straight away and "
                              "tell you.")  # fmt: skip
    return Message.simple(
        "When someone suitable joins, I'll ask you before matching the longest-waiting person."
    )


def _where(call: Call) -> Message:
    me = call.the_member
    ctx = call.ctx
    cohort = ctx.uow.cohorts.get(me.cohort_id)
    assert cohort is not None
    if me.status == Status.MATCHED:
        match = ctx.uow.matches.active_for(me.id)
        others = [p.display_name for p in ctx.uow.matches.members(match.id) if p.id != me.id] if match else []
        return Message.simple(
            f"You're matched in {escape(cohort.name)} with {escape(' and '.join(others) or 'your buddy')}."
        )
    if me.status == Status.PAUSED:
        return Message.simple(
            "Your place is paused: use `resume` when you're ready and I'll match you again."
        )
    if me.status == Status.REGISTERED:
        return Message.simple(f"You're registered for {escape(cohort.name)}; the coordinators haven't run matching "
                              "since you joined. I'll introduce you when they do.")  # fmt: skip
    line = waiting(ctx, cohort)
    position = next((i for i, p in enumerate(line, start=1) if p.id == me.id), len(line))
    return Message.simple(f"You're number {position} of {len(line)} on the waiting list for {escape(cohort.name)}. "
                          f"{_why(ctx, cohort, me, line)}")  # fmt: skip


def _why(ctx: Ctx, cohort: Cohort, me: Participant, line: Sequence[Participant]) -> str:
    partner = "general managers" if me.role == "clinician" else "clinicians"
    return (f"You're waiting because this round had more {_role_plural(me.role)} than {partner}, and nobody who "
            f"fits you (and hasn't been your buddy before) has joined since. As soon as one does, "
            f"{'you are first in line' if line and line[0].id == me.id else 'those ahead of you are matched first'}.")  # fmt: skip


ROUTES = (
    command("where am i", "your place on the waiting list, and why", _where),
    command("waiting [auto|ask]", "the waiting list with each person's place and why; or how it moves", _mode,
            who=Who.COORDINATOR),
    button("approve_waiting", _approve, who=Who.COORDINATOR, target="waiting_pair"),
)  # fmt: skip
