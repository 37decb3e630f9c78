"""Matching rounds as coordinators run them: preview, steer (swap, lock, exclude), confirm,
introduce; and re-matching a buddy whose partner went quiet or left."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from conversations.core import vocabulary as v
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, Match, MatchProposal, MatchStatus, Participant, Status
from conversations.core.profiles import describe
from conversations.core.refs import UserRef
from conversations.core.routes import InTransactions, Who, button, command
from conversations.core.views import Actions, Block, Button, Context, Header, Message, Section
from conversations.delivery.outbox import queue, to_group, to_user
from conversations.flows.assignments import post_task, recheck, to_members
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call
from conversations.flows.together import group_link
from conversations.matching import (
    Candidate,
    MatchRules,
    Pairs,
    Weights,
    best_partners,
    explain_group,
    plan_matches,
)

MATCHABLE = (Status.REGISTERED, Status.WAITING)
PREVIEW_GROUPS_SHOWN = 40


def candidate(p: Participant) -> Candidate:
    assert p.id is not None and p.registered_at is not None
    return Candidate(
        id=p.id,
        role=p.role,
        order=int(p.registered_at.timestamp() * 1000) * 1000 + p.id % 1000,
        specialty=p.specialty,
        employer=p.employer,
        employer_type=p.employer_type,
        region=p.region,
        grade=p.grade,
        interests=frozenset(p.interests),
        specialist_area=p.specialist_area,
    )


def rules_for(
    ctx: Ctx, cohort: Cohort, people: Sequence[Participant], locked: Sequence[Sequence[int]] = ()
) -> MatchRules:
    by_key = {p.ref.key: p.id for p in people}
    past = [(by_key[a], by_key[b]) for a, b in map(tuple, ctx.uow.matches.past_pairs(p.ref for p in people))
            if a in by_key and b in by_key]  # fmt: skip
    settings = cohort.settings or {}
    grades = settings.get("eligible_grades")
    return MatchRules(
        weights=Weights(**settings.get("weights", {})),
        past_buddies=Pairs(past),
        exclusions=Pairs(settings.get("exclusions", [])),
        eligible_grades=frozenset(g.lower() for g in grades) if grades else None,
        allow_uneven_trios=cohort.allow_trios,
        locked=tuple(tuple(g) for g in locked),
    )


def _matchable(ctx: Ctx, cohort: Cohort) -> list[Participant]:
    return [
        p
        for p in ctx.uow.participants.in_cohort(cohort.id, MATCHABLE)
        if p.consent_data and not p.unreachable
    ]


# ---- preview and steering ---------------------------------------------------------------------


def preview(ctx: Ctx, cohort: Cohort, created_by: str) -> Message:
    people = _matchable(ctx, cohort)
    previous = ctx.uow.matches.open_proposal(cohort.id)
    ids = {p.id for p in people}
    locked = [g["members"] for g in (previous.plan["groups"] if previous else []) if g.get("locked")]
    locked = [g for g in locked if set(g) <= ids]
    rules = rules_for(ctx, cohort, people, locked)
    plan = plan_matches([candidate(p) for p in people], rules, seed=ctx.seed + cohort.current_round)
    locked_sets = {frozenset(g) for g in locked}
    proposal = MatchProposal(
        cohort_id=cohort.id,
        created_by=created_by,
        seed=ctx.seed + cohort.current_round,
        created_at=ctx.now,
        plan={
            "groups": [
                {
                    "members": list(g.members),
                    "score": g.score,
                    "reasons": list(g.reasons),
                    "locked": frozenset(g.members) in locked_sets,
                }  # fmt: skip
                for g in plan.groups
            ],
            "waiting": list(plan.waiting),
            "ineligible": list(plan.ineligible),
        },
    )
    ctx.uow.matches.add_proposal(proposal)
    return render_preview(ctx, cohort, proposal)


def _proposal(ctx: Ctx, cohort: Cohort) -> MatchProposal:
    proposal = ctx.uow.matches.open_proposal(cohort.id)
    if proposal is None:
        raise Refusal("There's no match preview to change: run `match preview` first.")
    return proposal


def swap(ctx: Ctx, cohort: Cohort, a: Participant, b: Participant) -> Message:
    proposal = _proposal(ctx, cohort)
    plan: dict[str, Any] = {**proposal.plan, "groups": [dict(g) for g in proposal.plan["groups"]]}
    slots: list[list[int]] = [list(g["members"]) for g in plan["groups"]] + [list(plan["waiting"])]

    def where(pid: int) -> int:
        for i, members in enumerate(slots):
            if pid in members:
                return i
        raise Refusal(f"{escape(_name(ctx, pid))} isn't in this preview (their status may have changed).")

    ia, ib = where(a.id), where(b.id)
    if ia == ib:
        raise Refusal("Those two are already in the same group.")
    for i, (old, new) in ((ia, (a.id, b.id)), (ib, (b.id, a.id))):
        slots[i] = [new if m == old else m for m in slots[i]]
    people = {p.id: p for p in _matchable(ctx, cohort)}
    rules = rules_for(ctx, cohort, list(people.values()))
    for i in {ia, ib}:
        if i == len(slots) - 1:
            continue
        try:
            group = explain_group([candidate(people[m]) for m in slots[i]], rules)
        except ValueError as exc:
            raise Refusal(f"I can't make that swap: {_named(ctx, str(exc))}") from exc
        plan["groups"][i] = {"members": list(group.members), "score": group.score, "reasons": list(group.reasons),
                             "locked": True}  # fmt: skip
    waiting = slots[-1]
    plan["waiting"] = sorted(waiting, key=lambda pid: candidate(people[pid]).order)
    proposal.plan = plan
    return render_preview(ctx, cohort, proposal, note="Swapped; the changed groups are locked.")


def lock(ctx: Ctx, cohort: Cohort, args: Sequence[str]) -> Message:
    proposal = _proposal(ctx, cohort)
    groups = [dict(g) for g in proposal.plan["groups"]]
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= len(groups):
        raise Refusal(f"Say which group to lock by its number, from 1 to {len(groups)}: e.g. `match lock 3`.")
    groups[int(args[0]) - 1]["locked"] = True
    proposal.plan = {**proposal.plan, "groups": groups}
    return render_preview(
        ctx, cohort, proposal, note=f"Group {args[0]} is locked: previews keep it as it is."
    )


def exclude(ctx: Ctx, cohort: Cohort, a: Participant, b: Participant, actor_key: str) -> Message:
    pairs = [list(p) for p in (cohort.settings or {}).get("exclusions", [])]
    pair = sorted((a.id, b.id))
    if pair not in pairs:
        pairs.append(pair)
    cohort.settings = {**(cohort.settings or {}), "exclusions": pairs}
    proposal = ctx.uow.matches.open_proposal(cohort.id)
    if proposal is not None:
        groups = [dict(g) for g in proposal.plan["groups"]]
        for g in groups:
            if a.id in g["members"] and b.id in g["members"]:
                g["locked"] = False
        proposal.plan = {**proposal.plan, "groups": groups}
        proposal.confirmed_at = None
    note = f"{escape(a.display_name)} and {escape(b.display_name)} will never be matched together."
    if proposal is None:
        return Message.simple(note)
    message = preview(ctx, cohort, actor_key)
    return Message(message.text, (Section(note), *message.blocks))


def render_preview(ctx: Ctx, cohort: Cohort, proposal: MatchProposal, note: str = "") -> Message:
    plan = proposal.plan
    ids = [m for g in plan["groups"] for m in g["members"]] + plan["waiting"] + plan["ineligible"]
    people = {p.id: p for p in ctx.uow.participants.many(ids)}
    blocks: list[Block] = [Header(f"Match preview: {cohort.name}"[:150])]
    if note:
        blocks.append(Section(note))
    total = sum(g["score"] for g in plan["groups"])
    blocks.append(Section(f"**{counted(len(plan['groups']), 'group')}**, total score {total:.1f}; "
                          f"**{len(plan['waiting'])} waiting**."))  # fmt: skip
    for number, g in enumerate(plan["groups"][:PREVIEW_GROUPS_SHOWN], start=1):
        names = " + ".join(f"**{escape(people[m].display_name)}**" for m in g["members"])
        reasons = "; ".join(g["reasons"]) or "no shared features: a good stretch"
        lock_mark = " (locked)" if g.get("locked") else ""
        blocks.append(Section(f"{number}. {names}{lock_mark}\nscore {g['score']:.1f}: {escape(reasons)}"))
    hidden = len(plan["groups"]) - PREVIEW_GROUPS_SHOWN
    if hidden > 0:
        blocks.append(Context(f"…and {hidden} more groups (use `export` for the full list)."))
    if plan["waiting"]:
        names = ", ".join(escape(people[m].display_name) for m in plan["waiting"][:50])
        blocks.append(Section(f"**Waiting list** (in registration order): {names}"))
    if plan["ineligible"]:
        names = ", ".join(escape(people[m].display_name) for m in plan["ineligible"][:50])
        blocks.append(Section(f"**Not eligible** (grade): {names}"))
    blocks.append(
        Context("Steer it: `match swap @a @b`, `match lock N`, `match exclude @a @b`; then confirm.")
    )
    blocks.append(Actions((
        Button("Confirm and introduce", "match_confirm", str(proposal.id), style="primary"),
        Button("Preview again", "match_preview", str(cohort.id)),
    )))  # fmt: skip
    return Message(f"Match preview for {cohort.name}: {counted(len(plan['groups']), 'group')}", tuple(blocks))


# ---- confirm and introduce --------------------------------------------------------------------


def confirm(ctx: Ctx, cohort: Cohort, actor: UserRef, proposal_id: int | None = None) -> Message:
    proposal = _proposal(ctx, cohort)
    if proposal_id is not None and proposal.id != proposal_id:
        raise Refusal("That preview has been replaced by a newer one: confirm the latest preview.")
    plan = proposal.plan
    ids = [m for g in plan["groups"] for m in g["members"]] + plan["waiting"]
    people = {p.id: p for p in ctx.uow.participants.many(ids)}
    stale = [people[i].display_name if i in people else str(i) for i in ids
             if i not in people or people[i].status not in MATCHABLE]  # fmt: skip
    if stale:
        raise Refusal(f"The preview is out of date ({escape(', '.join(stale[:5]))} changed status): "
                      "run `match preview` again.")  # fmt: skip
    cohort.current_round += 1
    for g in plan["groups"]:
        match = ctx.uow.matches.add(
            Match(
                cohort_id=cohort.id,
                round=cohort.current_round,
                score=g["score"],
                reasons=list(g["reasons"]),
                created_at=ctx.now,
            ),  # fmt: skip
            g["members"],
        )
        members = [people[m] for m in g["members"]]
        for p in members:
            p.status = Status.MATCHED
        introduce(ctx, cohort, match, members)
    for position, pid in enumerate(plan["waiting"], start=1):
        p = people[pid]
        p.status = Status.WAITING
        tell_waiting(ctx, cohort, p, position)
    proposal.confirmed_at = proposal.introduced_at = ctx.now
    ctx.audit(cohort, actor, "match_confirm", proposal=proposal.id, groups=len(plan["groups"]),
              waiting=len(plan["waiting"]))  # fmt: skip
    return Message.simple(
        f"Confirmed round {cohort.current_round} of **{escape(cohort.name)}**: {counted(len(plan['groups']), 'group')} "
        f"introduced, {len(plan['waiting'])} on the waiting list."
    )


def tell_waiting(ctx: Ctx, cohort: Cohort, p: Participant, position: int) -> None:
    """Queued once per person and round (keyed by the round)."""
    queue(ctx.uow, f"waiting:{cohort.id}:{cohort.current_round}:{p.id}", to_user(p.ref), Message.simple(
        f"Hello {escape(p.display_name)}: this round of **{escape(cohort.name)}** had more "
        f"{_role_plural(p.role)} than partners, so you're number {position} on the waiting list. "
        "I'll introduce you as soon as someone joins who fits."), ctx.now)  # fmt: skip


def introduce(ctx: Ctx, cohort: Cohort, match: Match, members: Sequence[Participant], note: str = "") -> None:
    caps = ctx.caps(members[0].platform)
    reasons = "; ".join(escape(r) for r in match.reasons) or "you bring different views of the same system"
    who = tuple(
        (p.display_name, describe(p)) for p in members
    )  # a label is plain text: the renderer escapes it
    cadence = "every week" if cohort.cadence_every_weeks == 1 else f"every {cohort.cadence_every_weeks} weeks"
    body: list[Block] = [
        Header("Meet your buddy"),
        Section(f"You're buddies in **{escape(cohort.name)}**.{(' ' + note) if note else ''}", fields=who),
        Section(f"**Why we matched you:** {reasons}."),
        Section(
            f"**What happens next:** {cadence} I'll post a short task that takes about half an hour, "
            "which you can do in your own time; answer it with the Respond button. Start by saying hello "
            "and finding 15 minutes for a call."
        ),  # fmt: skip
        *meeting_blocks(members, cohort.name),
    ]
    if caps.group_dm and 2 <= len(members) <= caps.max_group_size:
        recipient = to_group([p.ref for p in members], topic=f"{cohort.name} buddies")
        text = "Meet your buddy: " + " and ".join(escape(p.display_name) for p in members)
        queue(ctx.uow, f"intro:{match.id}", recipient, Message(text, tuple(body)), ctx.now, match_id=match.id)
        return
    for p in members:
        others = [o for o in members if o.id != p.id]
        link = _group_link(caps.group_link_template, members, cohort.name)
        extra: tuple[Any, ...] = (
            (Actions((Button("Open a group chat", "open_group_chat", url=link),)),) if link else ()
        )
        text = "Meet your buddy: " + " and ".join(escape(o.display_name) for o in others)
        queue(ctx.uow, f"intro:{match.id}:{p.id}", to_user(p.ref), Message(text, (*body, *extra)), ctx.now)


def meeting_blocks(members: Sequence[Participant], topic: str) -> list[Block]:
    """A way to meet: in Teams, links that start a call or book a meeting with everyone in the
    group; in Slack, how to start a huddle in the group chat."""
    if members[0].platform == "teams":
        emails = [p.email for p in members if p.email]
        if len(emails) < len(members):
            return [Context("To meet, start a call from this chat (the phone icon at the top right).")]
        people = ",".join(quote(e) for e in emails)
        subject = quote(f"{topic}: buddies' first 15 minutes")
        return [
            Section("**Meet:** find 15 minutes this week. Call now, or book a Teams meeting for you all."),
            Actions((
                Button("Call now", "meet_call", url=f"https://teams.microsoft.com/l/call/0/0?users={people}"),
                Button("Book a meeting", "meet_book",
                       url=f"https://teams.microsoft.com/l/meeting/new?subject={subject}&attendees={people}"),
            )),
        ]  # fmt: skip
    return [Context("**Meet:** start a huddle right here: the headphones icon at the top of this chat, or type "
                    "`/huddle`. 15 minutes this week is a great start.")]  # fmt: skip


def _group_link(template: str, members: Sequence[Participant], topic: str) -> str:
    return group_link(template, [p.email for p in members], f"{topic} buddies")


# ---- re-matching ------------------------------------------------------------------------------


def rematch(ctx: Ctx, match: Match, quiet: Sequence[Participant], *, leaving: bool = False) -> list[str]:
    """End ``match`` without ``quiet``; keep the rest together if they still make a valid group,
    otherwise find each a new buddy (or put them on the waiting list). Returns what happened."""
    cohort = ctx.uow.cohorts.get(match.cohort_id)
    assert cohort is not None
    match.status, match.ended_at = MatchStatus.ENDED, ctx.now
    quiet_ids = {q.id for q in quiet}
    remaining = [p for p in ctx.uow.matches.members(match.id) if p.id not in quiet_ids]
    for q in quiet:
        if not leaving:
            q.status = Status.PAUSED
            queue(ctx.uow, f"paused:{match.id}:{q.id}", to_user(q.ref), Message.simple(
                f"Hello {escape(q.display_name)}: we haven't heard from you for a while, so I've paused your "
                f"place in **{escape(cohort.name)}** and found your buddy someone new. Use `resume` when you're "
                "ready and I'll match you again."), ctx.now)  # fmt: skip
    outcomes: list[str] = []
    people = [p for p in remaining if p.status != Status.LEFT]
    rules = rules_for(ctx, cohort, people + _matchable(ctx, cohort))
    if len(people) >= 2:
        # they are each other's buddies already: the never-again rule is about new groups
        together = {frozenset((a.id, b.id)) for a in people for b in people if a.id != b.id}
        rules = replace(rules, past_buddies=rules.past_buddies - together)
        try:
            group = explain_group([candidate(p) for p in people], rules)
        except ValueError:
            group = None
        if group is not None:
            kept = _new_match(ctx, cohort, people, group.score, list(group.reasons),
                              note="Your group continues without a member who had to step away.")  # fmt: skip
            _carry_over_task(ctx, match, kept, keep_answers=True)
            return [f"{' and '.join(p.display_name for p in people)} continue together"]
    for person in people:
        person.status = Status.WAITING
        available = [p for p in _matchable(ctx, cohort) if p.id != person.id]
        rules = rules_for(ctx, cohort, [person, *available])
        group = best_partners(candidate(person), [candidate(p) for p in available], rules, seed=ctx.seed)
        if group is None:
            queue(ctx.uow, f"rematch-waiting:{match.id}:{person.id}", to_user(person.ref), Message.simple(
                f"Hello {escape(person.display_name)}: your buddy has stepped away. You're at the top of the "
                "waiting list and I'll introduce you to someone new as soon as I can."), ctx.now)  # fmt: skip
            outcomes.append(f"{person.display_name} is on the waiting list")
            continue
        members = ctx.uow.participants.many(group.members)
        new = _new_match(ctx, cohort, members, group.score, list(group.reasons),
                         note="Your previous buddy had to step away, so here's someone new.")  # fmt: skip
        _carry_over_task(ctx, match, new)
        buddies = " and ".join(p.display_name for p in members if p.id != person.id)
        outcomes.append(f"{person.display_name} has a new buddy, {buddies}, and I've introduced them")
    return outcomes


def _carry_over_task(ctx: Ctx, old: Match, new: Match, keep_answers: bool = False) -> None:
    """A new group picks up the task the old one was on, so nobody loses a week. A group that
    continues without a member keeps the open task and the answers already given."""
    latest = ctx.uow.assignments.latest(old.id)
    task = ctx.uow.tasks.get(latest.task_key) if latest else None
    if task is None or latest is None:
        return
    if keep_answers and latest.due_at > ctx.now:
        latest.match_id = new.id
        members = ctx.uow.matches.members(new.id)
        text = (
            f"Carry on with _{escape(task.title)}_: the answers you've already sent are kept, and the "
            f"{len(members)} of you can finish it together."
        )
        to_members(ctx, new, members, f"carried:{latest.id}:{new.id}", Message(text, (
            Section(text),
            Actions((Button("Respond", "respond", str(latest.id), style="primary", opens_form=True),)))))  # fmt: skip
        recheck(ctx, new)  # those who stay may have finished already
        return
    post_task(ctx, new, task, sequence=1)


def _new_match(ctx: Ctx, cohort: Cohort, members: Sequence[Participant], score: float, reasons: list[str],
               note: str) -> Match:  # fmt: skip
    match = ctx.uow.matches.add(
        Match(
            cohort_id=cohort.id,
            round=max(cohort.current_round, 1),
            score=score,
            reasons=reasons,
            created_at=ctx.now,
        ),  # fmt: skip
        [p.id for p in members],
    )
    for p in members:
        p.status = Status.MATCHED
    introduce(ctx, cohort, match, members, note=note)
    return match


def end_match_for_departure(ctx: Ctx, match: Match, leaver: Participant) -> None:
    rematch(ctx, match, [leaver], leaving=True)


def _name(ctx: Ctx, pid: int) -> str:
    p = ctx.uow.participants.get(pid)
    return p.display_name if p else f"participant {pid}"


def _named(ctx: Ctx, text: str) -> str:
    """The matcher names people by id ("participants 3 and 7 were buddies before"): use their names."""

    def names(m: re.Match[str]) -> str:
        return " and ".join(_name(ctx, int(i)) for i in re.findall(r"\d+", m.group(0)))

    return escape(re.sub(r"\bparticipants? \d+(?: and \d+)?", names, text))


def _role_plural(role: str) -> str:
    return {v.Role.CLINICIAN: "clinicians", v.Role.GENERAL_MANAGER: "general managers"}.get(
        v.Role(role), "specialist managers"
    )


# ---- routes -------------------------------------------------------------------------------------


def _two(call: Call) -> tuple[Participant, Participant]:
    a, b = call.people(2, example="match swap @asha @ben")
    return a, b


def _swap(call: Call) -> Message:
    _proposal(call.ctx, call.the_cohort)
    return swap(call.ctx, call.the_cohort, *_two(call))


def _self_rematch(call: Call) -> Message:
    """``rematch``: a buddy whose partner has gone quiet (long enough for an alert) asks for someone new."""
    ctx, participant = call.ctx, call.the_member
    match = ctx.uow.matches.active_for(participant.id)
    if match is None:
        raise Refusal(NO_BUDDY)
    assignment = ctx.uow.assignments.latest(match.id)
    alerted = {n.participant_id for n in ctx.uow.nudges.for_assignment(assignment.id) if n.level == "coordinator"} \
        if assignment else set()  # fmt: skip
    quiet = [m for m in ctx.uow.matches.members(match.id) if m.id in alerted and m.id != participant.id]
    if not quiet:
        raise Refusal("You can ask for a new buddy once yours has been quiet long enough for me to alert the "
                      "coordinators. If something else is wrong, please talk to a coordinator.")  # fmt: skip
    outcomes = rematch(ctx, match, quiet)
    ctx.audit(
        ctx.uow.cohorts.get(match.cohort_id), call.user, "rematch_self", match=match.id, outcomes=outcomes
    )
    return Message.simple("Done: " + "; ".join(escape(o) for o in outcomes) + ".")


def _coordinator_rematch(call: Call) -> Message:
    """The alert's button: re-match a group's member (the lookup checked they are in that group)."""
    match, quiet = call.target
    if match.status != "active":
        raise Refusal("That group has already been re-matched or ended.")
    outcomes = rematch(call.ctx, match, [quiet])
    call.ctx.audit(call.the_cohort, call.user, "rematch", match=match.id, quiet=quiet.id, outcomes=outcomes)
    return Message.simple("Re-matched: " + "; ".join(escape(o) for o in outcomes) + ".")


def _preview(call: Call) -> Message:
    return preview(call.ctx, call.the_cohort, call.user.key)


def _confirm(call: Call) -> InTransactions:
    """Confirm in short transactions (flows/confirming.py): a national round never holds the write
    lock for long, and a crash leaves it wholly confirmed or not at all."""
    from conversations.flows.confirming import confirm_staged  # it builds on this module

    _proposal(call.ctx, call.the_cohort)  # nothing to confirm: say so now
    cohort_id, actor = call.the_cohort.id, call.user
    proposal_id = call.target.id if call.target is not None else None
    return InTransactions(lambda run: confirm_staged(run, cohort_id, actor, proposal_id))


NO_BUDDY = "You don't have a buddy at the moment, so there's no one to re-match."

ROUTES = (
    command("match preview", "propose groups and show why", _preview, who=Who.COORDINATOR),
    command("match swap @a @b", "swap two people between proposed groups", _swap, who=Who.COORDINATOR),
    command("match lock N", "keep proposed group N as it is",
            lambda call: lock(call.ctx, call.the_cohort, call.args), who=Who.COORDINATOR),
    command("match exclude @a @b", "never match these two",
            lambda call: exclude(call.ctx, call.the_cohort, *_two(call), call.user.key), who=Who.COORDINATOR),
    command("match confirm", "confirm the preview and introduce buddies", _confirm, who=Who.COORDINATOR),
    command("rematch", "ask for a new buddy when yours has gone quiet", _self_rematch, not_member=NO_BUDDY),
    button("match_preview", _preview, who=Who.COORDINATOR, target="cohort"),
    button("match_confirm", _confirm, who=Who.COORDINATOR, target="proposal"),
    button("rematch", _coordinator_rematch, who=Who.COORDINATOR, target="group_member"),
)  # fmt: skip
