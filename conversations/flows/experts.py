"""Local experts (commissioning, finance, consortium leads) a buddy group can ask to join them for
a task, and "double dating": two buddy groups meeting together over a joint task."""

from __future__ import annotations

from conversations.core.markup import escape
from conversations.core.model import Match, MatchStatus, Participant
from conversations.core.network import DoubleDate, Expert, ExpertRequest
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call, id_number, target
from conversations.flows.personal import own_rows
from conversations.flows.together import together

DECISIONS = {"expert_accept": "accepted", "expert_decline": "declined"}


def _experts(ctx: Ctx, user: UserRef) -> list[Expert]:
    return ctx.uow.records(Expert).where(platform=user.platform, workspace=user.workspace)


def add_expert(call: Call) -> Message:
    """``expert add @person commissioning, finance``."""
    topics = [
        t.strip().lower()[:40]
        for t in " ".join(a for a in call.args if not a.startswith("@")).split(",")
        if t.strip()
    ]
    if len(call.mentions) != 1 or not topics:
        raise Refusal("Mention one person and their topics: `expert add @sam commissioning, finance`.")
    user = call.mentions[0]
    ctx = call.ctx
    found = [e for e in _experts(ctx, call.user) if e.user_id == user.user_id]
    if found:
        found[0].topics = sorted(set(found[0].topics) | set(topics))
    else:
        ctx.uow.records(Expert).add(
            Expert(user.platform, user.workspace, user.user_id, f"@{user.user_id}", sorted(set(topics)))
        )
    ctx.audit(None, call.user, "expert_add", user_id=user.user_id, topics=topics)
    return Message.simple(f"{{@{user.user_id}}} is listed as an expert on {escape(', '.join(topics))}. Groups can "
                          f"`ask expert {escape(topics[0])}`.")  # fmt: skip


def remove_expert(call: Call) -> Message:
    if len(call.mentions) != 1:
        raise Refusal("Mention one person: `expert remove @sam`.")
    found = [e for e in _experts(call.ctx, call.user) if e.user_id == call.mentions[0].user_id]
    if not found:
        raise Refusal(f"{{@{call.mentions[0].user_id}}} isn't listed as an expert.")
    call.ctx.uow.records(Expert).delete(found[0])
    return Message.simple(f"{{@{call.mentions[0].user_id}}} is no longer listed as an expert.")


def list_experts(call: Call) -> Message:
    experts = _experts(call.ctx, call.user)
    if not experts:
        return Message.simple("No experts are listed yet; the network's organisers add them.")
    lines = [f"- {{@{e.user_id}}}: {escape(', '.join(e.topics))}" for e in experts]
    return Message.simple("**Experts** (a buddy group can `ask expert TOPIC`)\n" + "\n".join(lines))


def _group(ctx: Ctx, member: Participant) -> tuple[Match, list[Participant]]:
    match = ctx.uow.matches.active_for(member.id)
    if match is None:
        raise Refusal("You can ask an expert once you're in a buddy group.")
    return match, ctx.uow.matches.members(match.id)


def ask(call: Call) -> Message:
    """``ask expert TOPIC``: the first expert on that topic is asked to join the group."""
    topic = " ".join(call.args[1:] if call.args[:1] == ("expert",) else call.args).strip().lower()
    if not topic:
        raise Refusal("Say which topic, e.g. `ask expert commissioning`. `experts` lists them.")
    ctx = call.ctx
    match, members = _group(ctx, call.the_member)
    experts = [e for e in _experts(ctx, call.user) if any(topic in t or t in topic for t in e.topics)]
    experts = [e for e in experts if e.user_id not in {m.user_id for m in members}]
    if not experts:
        known = sorted({t for e in _experts(ctx, call.user) for t in e.topics})
        raise Refusal(f"There's no expert on “{escape(topic)}” yet." + (f" Topics: {escape(', '.join(known))}."
                      if known else " The network's organisers add them."))  # fmt: skip
    asked = {(r.expert_id, r.topic) for r in ctx.uow.records(ExpertRequest).where(match_id=match.id)}
    expert = next((e for e in experts if (e.id, topic) not in asked), None)
    if expert is None:
        raise Refusal(f"I've already asked every expert on “{escape(topic)}” for your group.")
    request = ctx.uow.records(ExpertRequest).add(ExpertRequest(expert.id, match.id, topic, at=ctx.now))
    names = " and ".join(escape(m.display_name) for m in members)
    message = Message(f"A buddy group would like your help on {topic}", (
        Section(f"{names}, a buddy group in the network, would like an expert on **{escape(topic)}** to join them "
                "for their current task: a short virtual conversation, at a time that suits you."),
        Actions((Button("Accept", "expert_accept", str(request.id), style="primary"),
                 Button("Decline", "expert_decline", str(request.id)))),
    ))  # fmt: skip
    queue(ctx.uow, f"expert-ask:{request.id}", to_user(UserRef(expert.platform, expert.workspace, expert.user_id)),
          message, ctx.now)  # fmt: skip
    return Message.simple(f"I've asked an expert on {escape(topic)}; I'll tell your group what they say.")


@target("expert_request")
def _request(ctx: Ctx, user: UserRef, value: str) -> tuple[tuple[ExpertRequest, Expert, Match], None]:
    """A request addressed to the actor as an expert."""
    number = id_number(value)
    request = ctx.uow.records(ExpertRequest).get(number) if number is not None else None
    expert = ctx.uow.records(Expert).get(request.expert_id) if request else None
    match = ctx.uow.matches.get(request.match_id) if request else None
    if request is None or expert is None or match is None or (expert.platform, expert.workspace, expert.user_id) \
            != (user.platform, user.workspace, user.user_id):  # fmt: skip
        raise Refusal("That request wasn't addressed to you.")
    return (request, expert, match), None


def decide(call: Call) -> Message:
    request, expert, match = call.target
    ctx = call.ctx
    decision = DECISIONS[call.route.name]
    if request.status != "asked":
        return Message.simple(f"You've already {request.status} that request. Thank you!")
    request.status = decision
    members = [m for m in ctx.uow.matches.members(match.id) if not m.unreachable]
    if decision == "accepted" and match.status == MatchStatus.ACTIVE:
        people = [m.ref for m in members] + [UserRef(expert.platform, expert.workspace, expert.user_id)]
        text = (f"{{@{expert.user_id}}}, an expert on **{escape(request.topic)}**, has kindly agreed to join you for "
                "your current task. Suggest a time for a short call here.")  # fmt: skip
        together(ctx, f"expert-join:{request.id}", people, f"Expert: {request.topic}", Message.simple(text))
        return Message.simple("Thank you! I've opened a chat with the group so you can find a time.")
    for m in members:
        queue(ctx.uow, f"expert-declined:{request.id}:{m.id}", to_user(m.ref), Message.simple(
            f"The expert on {escape(request.topic)} can't help this time. Try `ask expert {escape(request.topic)}` "
            "again and I'll ask someone else."), ctx.now)  # fmt: skip
    return Message.simple("Thanks for letting me know: I've told the group kindly.")


# ---- double dating ----------------------------------------------------------------------------------------


def _group_of(ctx: Ctx, cohort_id: int, person: Participant) -> Match:
    match = ctx.uow.matches.active_for(person.id)
    if match is None or match.cohort_id != cohort_id:
        raise Refusal(f"{escape(person.display_name)} isn't in a buddy group at the moment.")
    return match


def _doubled(ctx: Ctx, a: int, b: int) -> bool:
    first, second = sorted((a, b))
    return bool(ctx.uow.records(DoubleDate).where(first_match=first, second_match=second))


def double_date(ctx: Ctx, one: Match, other: Match) -> str:
    """Introduce two groups to each other, in one conversation, with a joint task from the bank."""
    if one.id == other.id:
        raise Refusal("Those two are in the same group: mention someone from each of two groups.")
    if _doubled(ctx, one.id, other.id):
        raise Refusal("Those two groups have already been introduced to each other.")
    people = ctx.uow.matches.members(one.id) + ctx.uow.matches.members(other.id)
    people = [p for p in people if not p.unreachable]
    cohort = ctx.uow.cohorts.get(one.cohort_id)
    limit = ctx.caps(people[0].platform).max_group_size if people else 8
    if len(people) > limit:
        raise Refusal(f"That would be {len(people)} people, more than a group chat here can hold ({limit}).")
    first, second = sorted((one.id, other.id))
    ctx.uow.records(DoubleDate).add(DoubleDate(first, second, ctx.now))
    task = next((t for t in ctx.uow.tasks.all() if any(p.joint for p in t.phases)), None)
    names = ", ".join(escape(p.display_name) for p in people)
    text = (
        f"👋 A double date! {names}: two buddy groups from {escape(cohort.name if cohort else 'the scheme')}, "
        "introduced so you can compare notes across trusts and specialties."
    )
    if task is not None:
        text += (
            f"\n**A joint task to try together:** _{escape(task.title)}_: {escape(task.summary)} Meet once, "
            "virtually, for half an hour, then each group answers in its own chat as usual."
        )
    together(ctx, f"double:{first}:{second}", [p.ref for p in people], "Double date", Message.simple(text))
    return names


def double(call: Call) -> Message:
    """``double @a @b``: the groups of a and b; ``double auto``: groups paired across trusts."""
    ctx, cohort = call.ctx, call.the_cohort
    if [a.lower() for a in call.args] == ["auto"]:
        return _auto(ctx, cohort.id)
    a, b = call.people(2, example="double @asha @cara")
    names = double_date(ctx, _group_of(ctx, cohort.id, a), _group_of(ctx, cohort.id, b))
    ctx.audit(cohort, call.user, "double", people=2)
    return Message.simple(f"Introduced {names} in one group chat, with a joint task.")


def _auto(ctx: Ctx, cohort_id: int) -> Message:
    groups = [(m, ctx.uow.matches.members(m.id)) for m in ctx.uow.matches.active_in(cohort_id)]
    free = [g for g in groups if not ctx.uow.records(DoubleDate).where(first_match=g[0].id)
            and not ctx.uow.records(DoubleDate).where(second_match=g[0].id)]  # fmt: skip
    made = 0
    while len(free) >= 2:
        one, members = free.pop(0)
        trusts = {m.employer for m in members}
        specialties = {m.specialty for m in members if m.specialty}
        pick = next((i for i, (_, ms) in enumerate(free) if not trusts & {m.employer for m in ms}), None)
        if pick is None:
            pick = next(
                (i for i, (_, ms) in enumerate(free) if not specialties & {m.specialty for m in ms}), None
            )
        if pick is None:
            continue
        other, _ = free.pop(pick)
        try:
            double_date(ctx, one, other)
            made += 1
        except Refusal:
            continue
    if not made:
        return Message.simple(
            "I couldn't find two groups from different trusts or specialties that haven't met yet."
        )
    return Message.simple(
        f"Introduced {made} pairs of groups across trusts or specialties, each with a joint task."
    )


def _drop_requests(ctx: Ctx, expert: Expert) -> None:
    for request in ctx.uow.records(ExpertRequest).where(expert_id=expert.id):
        ctx.uow.records(ExpertRequest).delete(request)


own_rows("expert listing", Expert, lambda ctx, e: {"topics": e.topics}, after_delete=_drop_requests)

ROUTES = (
    command("experts", "the network's experts and their topics", list_experts, who=Who.ANYONE),
    command("ask expert TOPIC", "ask an expert to join your buddy group for a task", ask,
            not_member="Experts join buddy groups: `join` a scheme first."),
    command("expert add @person TOPICS", "list someone as an expert on some topics", add_expert, who=Who.ORGANISER),
    command("expert remove @person", "stop listing someone as an expert", remove_expert, who=Who.ORGANISER),
    command("double @a @b|auto", "introduce two buddy groups to each other, with a joint task", double,
            who=Who.COORDINATOR),
    *(button(action, decide, who=Who.ANYONE, target="expert_request") for action in DECISIONS),
)  # fmt: skip
