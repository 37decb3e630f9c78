"""Where each feature says what it holds about a person, so that erasure (``forget``) and
subject access (``mydata``) cover every table, including ones added later.

A feature that stores something about a person registers one :class:`Holding` at import time::

    holding("coffee opt-ins", export=lambda ctx, user: [...], erase=lambda ctx, user: count)

``export`` returns JSON-ready data (lists, dicts, strings, numbers) about ``user``; ``erase``
removes or anonymises it and returns how many records it touched. Both run inside the unit of
work of the request, with ``user`` as the platform identity (before their id is replaced: the
profile, which holds the id, is registered ``last``). Read the person's registrations with
:func:`registrations_of` (they are still findable by ``user`` while holdings are erased).

What the platform adapters keep outside the engine's tables (Teams' conversation references and
user directory, Slack's profile cache) is a :class:`Cache`, registered by ``bot`` when it wires an
adapter: the engine cannot import adapters, so they are reached through this small port.
Caches are erased first, before the engine's own tables change.

The holdings of the engine's own tables are registered at the end of this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from conversations.core.markup import escape
from conversations.core.model import AuditEntry, Match, MatchStatus, OutboxItem, Participant
from conversations.core.refs import UserRef
from conversations.flows.context import Ctx

R = TypeVar("R")


@dataclass(frozen=True)
class Holding:
    name: str  # what it is, in words a data protection officer would use
    export: Callable[[Ctx, UserRef], Any]
    erase: Callable[[Ctx, UserRef], int]
    last: bool = False  # erased after every other holding (the profile: it holds the person's id)


HOLDINGS: list[Holding] = []


def holding(
    name: str,
    *,
    export: Callable[[Ctx, UserRef], Any],
    erase: Callable[[Ctx, UserRef], int],
    last: bool = False,
) -> Holding:
    if any(h.name == name for h in HOLDINGS):
        raise ValueError(f"Two holdings called “{name}”.")
    found = Holding(name, export, erase, last)
    HOLDINGS.append(found)
    return found


def own(ctx: Ctx, user: UserRef, kind: type[R]) -> list[R]:
    """The records of ``kind`` that are the person's own: ``kind`` has ``platform``, ``workspace``
    and ``user_id`` (a subscription, an answer to an event, a coffee opt-in, an expert listing)."""
    return ctx.uow.records(kind).where(platform=user.platform, workspace=user.workspace, user_id=user.user_id)


def own_rows(
    name: str,
    kind: type[R],
    describe: Callable[[Ctx, R], dict[str, Any]],
    *,
    after_delete: Callable[[Ctx, R], None] | None = None,
) -> Holding:
    """A holding of records that are each one person's (see :func:`own`): ``describe`` gives a
    row as the person reads it in ``mydata``; erasure deletes the rows, then ``after_delete``
    tidies what pointed at each (a place given up goes to the waiting list, say)."""

    def export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
        return [describe(ctx, row) for row in own(ctx, user, kind)]

    def erase(ctx: Ctx, user: UserRef) -> int:
        rows = own(ctx, user, kind)
        for row in rows:
            ctx.uow.records(kind).delete(row)
            if after_delete is not None:
                after_delete(ctx, row)
        return len(rows)

    return holding(name, export=export, erase=erase)


def export_all(ctx: Ctx, user: UserRef) -> dict[str, Any]:
    return {h.name: h.export(ctx, user) for h in HOLDINGS}


def erase_all(ctx: Ctx, user: UserRef) -> dict[str, int]:
    ordered = [h for h in HOLDINGS if not h.last] + [h for h in HOLDINGS if h.last]
    return {h.name: h.erase(ctx, user) for h in ordered}


# ---- adapters' caches (a port: ``bot`` registers them when it wires an adapter) ------------------


@dataclass(frozen=True)
class Cache:
    name: str
    platform: str
    export: Callable[[UserRef], Any]
    erase: Callable[[UserRef, Sequence[str]], int]  # the person, and words that identify them


CACHES: dict[str, Cache] = {}


def cache(
    name: str,
    platform: str,
    *,
    export: Callable[[UserRef], Any],
    erase: Callable[[UserRef, Sequence[str]], int],
) -> Cache:
    """Register (or replace, when an adapter is wired again) what an adapter caches about people."""
    found = Cache(name, platform, export, erase)
    CACHES[name] = found
    return found


def export_caches(user: UserRef) -> dict[str, Any]:
    return {c.name: c.export(user) for c in CACHES.values() if c.platform == user.platform}


def erase_caches(user: UserRef, needles: Sequence[str]) -> dict[str, int]:
    return {c.name: c.erase(user, needles) for c in CACHES.values() if c.platform == user.platform}


# ---- finding a person in stored JSON ----------------------------------------------------------------

REMOVED = "[removed at the person's request]"


def registrations_of(ctx: Ctx, user: UserRef) -> list[Participant]:
    return ctx.uow.participants.for_user(user)


def needles_for(ctx: Ctx, user: UserRef) -> list[str]:
    """What identifies the person in free text: their platform id, names, emails, and the words of
    every answer they wrote (whole, and its opening, raw and as escaped into messages)."""
    people = registrations_of(ctx, user)
    found = {user.user_id}
    for p in people:
        for value in (p.display_name, p.email):
            if len(value.strip()) >= 3:
                found |= {value.strip(), escape(value.strip())}
        for r in ctx.uow.responses.for_cohort(p.cohort_id):
            if r.author_id == p.id and r.text != REMOVED:
                found |= _openings(r.text)
    return sorted(found, key=len, reverse=True)


def _openings(text: str) -> set[str]:
    text = text.strip()
    if len(text) < 12:  # a date or a choice: not identifying, and too common to search for
        return set()
    out = {text, escape(text)}
    if len(text) > 40:
        out |= {text[:40], escape(text)[:40]}
    return out


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for all needles, each starting a word. A single word (a platform id, a one-word
    name) must also end one, so that forgetting ``U1`` never touches ``U10``; longer text (an answer's
    opening) may run on."""
    words = sorted({n for n in needles if n}, key=len, reverse=True)
    if not words:
        return None
    parts = [rf"(?<!\w){re.escape(w)}" + (r"(?!\w)" if _ID.match(w) else "") for w in words]
    return re.compile("|".join(parts))


_ID = re.compile(r"^[\w.@:-]+$")


def mentions(value: Any, needles: Iterable[str]) -> bool:
    """Whether any string inside ``value`` (JSON: dicts, lists, strings) contains a needle."""
    pattern = _pattern(needles)
    return pattern is not None and any(pattern.search(s) for s in _strings(value))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def scrub(value: Any, needles: Sequence[str], replacement: str = "[removed]") -> Any:
    """``value`` with every needle inside its strings replaced."""
    pattern = _pattern(needles)
    return value if pattern is None else _replace(value, pattern, replacement)


def _replace(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, dict):
        return {
            _replace(k, pattern, replacement): _replace(v, pattern, replacement) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_replace(v, pattern, replacement) for v in value]
    return value


def addressed_to(item: OutboxItem, user: UserRef) -> bool:
    r = item.recipient
    if r.get("platform") != user.platform or r.get("workspace") != user.workspace:
        return False
    return r.get("user_id") == user.user_id or user.user_id in (r.get("user_ids") or [])


# ---- the engine's own tables --------------------------------------------------------------------------


def _profile_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    out = []
    for p in registrations_of(ctx, user):
        cohort = ctx.uow.cohorts.get(p.cohort_id)
        out.append({
            "cohort": cohort.name if cohort else p.cohort_id,
            "name": p.display_name, "email": p.email, "role": p.role, "specialist_area": p.specialist_area,
            "profession": p.profession, "grade": p.grade, "specialty": p.specialty, "employer": p.employer,
            "employer_type": p.employer_type, "region": p.region, "interests": list(p.interests),
            "agreed_to_take_part": p.consent_data, "agreed_to_be_quoted": p.consent_share,
            "status": str(p.status), "registered_at": _iso(p.registered_at),
            "last_active_at": _iso(p.last_active_at), "platform": p.platform, "user_id": p.user_id,
        })  # fmt: skip
    return out


FORMER = "Former participant"


def _profile_erase(ctx: Ctx, user: UserRef) -> int:
    people = registrations_of(ctx, user)
    for p in people:
        p.user_id = f"forgotten-{p.id}"
        p.display_name, p.email = FORMER, ""
        p.specialist_area = p.profession = p.grade = p.specialty = p.employer = p.employer_type = p.region = (
            ""
        )
        p.interests = []
        p.consent_data = p.consent_share = False
        p.status, p.unreachable = "left", True
    return len(people)


def _answers(ctx: Ctx, user: UserRef) -> list[tuple[Participant, Any]]:
    out = []
    for p in registrations_of(ctx, user):
        out += [(p, r) for r in ctx.uow.responses.for_cohort(p.cohort_id) if r.author_id == p.id]
    return out


def _answers_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    rows = []
    for _, r in _answers(ctx, user):
        a = ctx.uow.assignments.get(r.assignment_id)
        rows.append({"task": a.task_key if a else "", "part": r.phase, "joint": r.owner_id == 0, "text": r.text,
                     "submitted_at": _iso(r.submitted_at), "edited_at": _iso(r.edited_at)})  # fmt: skip
    return rows


def _answers_erase(ctx: Ctx, user: UserRef) -> int:
    count = 0
    for _, r in _answers(ctx, user):
        if r.text != REMOVED:
            r.text = REMOVED
            count += 1
    return count


def _groups(ctx: Ctx, user: UserRef) -> list[tuple[Participant, Match]]:
    return [(p, m) for p in registrations_of(ctx, user) for m in ctx.uow.matches.groups_of(p.id)]


def _groups_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    rows = []
    for p, m in _groups(ctx, user):
        buddies = [b.display_name for b in ctx.uow.matches.members(m.id) if b.id != p.id]
        rows.append({"round": m.round, "status": str(m.status), "buddies": buddies, "reasons": list(m.reasons),
                     "started_at": _iso(m.created_at), "ended_at": _iso(m.ended_at)})  # fmt: skip
    return rows


def _groups_erase(ctx: Ctx, user: UserRef) -> int:
    """An ended group's conversation record goes; an active one loses the person's id and name."""
    needles = needles_for(ctx, user)
    count = 0
    for _, m in _groups(ctx, user):
        if m.status == MatchStatus.ENDED and m.conversation:
            m.conversation = {}
            count += 1
        elif mentions(m.conversation, needles):
            m.conversation = scrub(m.conversation, needles)
            count += 1
        if mentions(m.reasons, needles):
            m.reasons = scrub(m.reasons, needles)
    return count


def _nudges_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    rows = []
    for p, m in _groups(ctx, user):
        assignments = ctx.uow.assignments.for_match(m.id)
        tasks = {a.id: a.task_key for a in assignments}
        for n in ctx.uow.nudges.for_assignments(tasks):
            if n.participant_id in (0, p.id):
                rows.append({"task": tasks[n.assignment_id], "level": n.level, "to": "you" if n.participant_id else
                             "your group", "sent_at": _iso(n.sent_at)})  # fmt: skip
    return rows


def _proposals_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    """Previews a coordinator made that placed the person (in a group, waiting, or not eligible)."""
    rows = []
    for p in registrations_of(ctx, user):
        for proposal in ctx.uow.matches.proposals(p.cohort_id):
            plan = proposal.plan
            placed = [m for g in plan.get("groups", []) for m in g.get("members", [])]
            where = ("in a group" if p.id in placed else "waiting" if p.id in plan.get("waiting", [])
                     else "not eligible" if p.id in plan.get("ineligible", []) else "")  # fmt: skip
            if where:
                rows.append({"made_at": _iso(proposal.created_at), "you were": where,
                             "confirmed_at": _iso(proposal.confirmed_at)})  # fmt: skip
    return rows


def _proposals_erase(ctx: Ctx, user: UserRef) -> int:
    needles = needles_for(ctx, user)
    count = 0
    for p in registrations_of(ctx, user):
        for proposal in ctx.uow.matches.proposals(p.cohort_id):
            if mentions(proposal.plan, needles) or proposal.created_by == user.key:
                proposal.plan = scrub(proposal.plan, needles)
                proposal.created_by = "forgotten" if proposal.created_by == user.key else proposal.created_by
                count += 1
    return count


def _about(ctx: Ctx, user: UserRef) -> list[AuditEntry]:
    ids = {p.id for p in registrations_of(ctx, user)}
    return [e for e in ctx.uow.audit.all()
            if e.actor == user.key or e.detail.get("participant") in ids or mentions(e.detail, [user.user_id])]  # fmt: skip


def _audit_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    return [{"at": _iso(e.at), "action": e.action, "by_you": e.actor == user.key,
             "detail": {k: v for k, v in e.detail.items() if k != "participant"}} for e in _about(ctx, user)]  # fmt: skip


def _audit_erase(ctx: Ctx, user: UserRef) -> int:
    needles = needles_for(ctx, user)
    count = 0
    for e in ctx.uow.audit.all():
        changed = False
        if e.actor == user.key:
            e.actor, changed = "forgotten", True
        if mentions(e.detail, needles):
            e.detail, changed = scrub(e.detail, needles), True
        count += changed
    return count


def _messages_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    """Messages to them, and to the buddy groups they were in."""
    groups = {m.id for _, m in _groups(ctx, user)}
    rows = []
    for status in STATUSES:
        for item in ctx.uow.outbox.by_status(status):
            if addressed_to(item, user) or (item.match_id is not None and item.match_id in groups):
                rows.append({"sent_at": _iso(item.sent_at), "created_at": _iso(item.created_at), "status": item.status,
                             "to": "your group" if item.match_id in groups else "you",
                             "text": item.message.get("text", "")})  # fmt: skip
    return rows


STATUSES = ("pending", "sending", "checking", "unknown", "held", "sent", "failed")
UNSENT = ("pending", "unknown", "held")
ERASED_CONTENT = {"text": REMOVED, "blocks": []}


def scrub_outbox(ctx: Ctx, user: UserRef, needles: Sequence[str]) -> tuple[int, int]:
    """Cancel every message not yet sent that is addressed to the person or carries their name
    or words (a digest quoting them, a note naming them to their buddy); remove the same from
    messages already sent, failed or cancelled. (cancelled, scrubbed)."""
    cancelled = scrubbed = 0
    for status in STATUSES:
        for item in ctx.uow.outbox.by_status(status):
            if item.recipient.get("erase_after_send"):
                continue  # the confirmation of this very erasure: scrubbed once sent (retention)
            keyed = mentions(item.key, needles)  # a key may name someone in no scheme: nothing numbers them
            if keyed:
                item.key = scrub(item.key, needles, f"forgotten-{item.id}")  # still unique
            to_them = addressed_to(item, user)
            carries = mentions(item.message, needles) or mentions(item.result, needles)
            if not (to_them or carries or mentions(item.recipient, needles)):
                scrubbed += keyed
                continue
            if status in UNSENT:
                item.status, item.error = "failed", "cancelled: the person asked to be forgotten"
                cancelled += 1
            else:
                scrubbed += 1
            if to_them or carries:
                item.message = dict(ERASED_CONTENT)
            item.recipient = scrub(item.recipient, needles, "forgotten")
            item.result = scrub(item.result, needles, "forgotten")
            item.error = scrub(item.error, needles)
    return cancelled, scrubbed


def _messages_erase(ctx: Ctx, user: UserRef) -> int:
    cancelled, scrubbed = scrub_outbox(ctx, user, needles_for(ctx, user))
    return cancelled + scrubbed


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


holding("messages Buddy sent or queued for you", export=_messages_export, erase=_messages_erase)
holding("answers to tasks", export=_answers_export, erase=_answers_erase)
holding("buddy groups", export=_groups_export, erase=_groups_erase)
holding("nudges", export=_nudges_export, erase=lambda ctx, user: 0)  # by record id only: nothing identifying
holding("match proposals", export=_proposals_export, erase=_proposals_erase)
holding("audit entries about you", export=_audit_export, erase=_audit_erase)


def _roles_export(ctx: Ctx, user: UserRef) -> list[str]:
    return [c.name for c in ctx.uow.cohorts.coordinated_by(user)]


def _roles_erase(ctx: Ctx, user: UserRef) -> int:
    return sum(ctx.uow.cohorts.remove_coordinator(c.id, user) for c in ctx.uow.cohorts.coordinated_by(user))


holding("cohorts you coordinate", export=_roles_export, erase=_roles_erase)
holding("profile", export=_profile_export, erase=_profile_erase, last=True)
