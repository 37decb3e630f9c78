"""Coordinators' commands: cohorts, figures, export and digests."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence

from conversations.core import vocabulary as v
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, Coordinator, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command
from conversations.core.views import FileAttachment, Message, Section
from conversations.flows.assignments import complete_for
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call
from conversations.ports.store import GroupActivity, PersonRow

# Features add their own figures to ``status`` and columns to ``export`` (the programme: check-ins,
# task ratings, evaluation answers): columns come as headings and values by participant id.
EXTRA_FIGURES: list[Callable[[Ctx, Cohort], list[tuple[str, str]]]] = []
EXTRA_COLUMNS: list[Callable[[Ctx, Cohort], tuple[list[str], Mapping[int, list[object]]]]] = []

COHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.'&()\-]{1,79}$")


def create_cohort(ctx: Ctx, actor: UserRef, args: Sequence[str], options: dict[str, str]) -> Message:
    name = " ".join(args).strip()
    if not COHORT_NAME.match(name):
        raise Refusal(
            "Give the cohort a name of 2 to 80 letters, digits or spaces, e.g. `cohort create Yorkshire 2026`."
        )
    if ctx.uow.cohorts.by_name(name):
        raise Refusal(f"A cohort called “{escape(name)}” already exists: choose another name.")
    region = options.get("region", "")
    if region and v.lookup(v.REGIONS, region) is None:
        raise Refusal(f"“{escape(region)}” isn't a region I know. Regions: {', '.join(v.REGIONS)}.")
    cohort = ctx.uow.cohorts.add(Cohort(name=name, platform=actor.platform, workspace=actor.workspace,
                                        region=v.lookup(v.REGIONS, region) or "", created_at=ctx.now))  # fmt: skip
    ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, actor.platform, actor.workspace, actor.user_id))
    ctx.audit(cohort, actor, "cohort_create", name=name)
    return Message.simple(f"Created **{escape(name)}**; registration is open and you coordinate it. "
                          "People join with `join`.")  # fmt: skip


def list_cohorts(ctx: Ctx, user: UserRef) -> Message:
    """The cohorts this person coordinates (an administrator: every one in their workspace)."""
    cohorts = ctx.coordinated(user)
    if not cohorts:
        return Message.simple("There are no cohorts here yet: `cohort create NAME` makes one.")
    lines = []
    for c in cohorts:
        counts = Counter(p.status for p in ctx.uow.participants.in_cohort(c.id))
        state = "open" if c.registration_open else "closed"
        lines.append(f"- **{escape(c.name)}** ({state}{', paused' if c.paused else ''}): "
                     f"{counted(sum(counts.values()) - counts[Status.LEFT], 'person')}, round {c.current_round}")  # fmt: skip
    return Message("Cohorts", (Section("\n".join(lines)),))


def set_registration(ctx: Ctx, actor: UserRef, cohort: Cohort, is_open: bool) -> Message:
    cohort.registration_open = is_open
    ctx.audit(cohort, actor, "registration_open" if is_open else "registration_close")
    return Message.simple(
        f"Registration for **{escape(cohort.name)}** is now {'open' if is_open else 'closed'}."
    )


def add_coordinator(ctx: Ctx, actor: UserRef, cohort: Cohort, user_ids: Sequence[str]) -> Message:
    if len(user_ids) != 1:
        raise Refusal("Mention one person: `coordinator add @name`.")
    ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, actor.platform, actor.workspace, user_ids[0]))
    ctx.audit(cohort, actor, "coordinator_add", user_id=user_ids[0])
    return Message.simple(f"{{@{escape(user_ids[0])}}} now coordinates **{escape(cohort.name)}**.")


def figures(ctx: Ctx, cohort: Cohort) -> list[tuple[str, str]]:
    """The cohort at a glance, in a handful of queries whatever its size."""
    counts = Counter(ctx.uow.participants.status_counts(cohort.id))
    groups = ctx.uow.matches.count_active(cohort.id)
    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    complete = posted = 0
    for g in ctx.uow.matches.activity(cohort.id, ctx.now):  # each active group's current task
        task = tasks.get(g.task_key) if g.assignment_id is not None else None
        if task is None:
            continue
        posted += 1
        complete += complete_for(task, g.said, [pid for pid, _, _ in g.members])
    from conversations.flows.programme import ended  # the programme's end builds on this module

    over = ended(cohort)
    groups_now = [("Matched", f"{counted(counts[Status.MATCHED], 'person')} in {counted(groups, 'group')}"),
                  ("Current task done", f"{complete} of {counted(posted, 'group')}")]  # fmt: skip
    if over is not None:  # every group is closed: say what the programme had, not "0 groups"
        day, closed_groups = over
        its = "its groups" if closed_groups is None else f"its {counted(closed_groups, 'group')}"
        groups_now = [("Programme ended", f"{day:%a %-d %b %Y}: {counted(counts[Status.MATCHED], 'person')} were in {its} at "
                                          "the end; no groups are running now")]  # fmt: skip
    return [
        ("Registered, not yet matched", str(counts[Status.REGISTERED])),
        ("Waiting list", str(counts[Status.WAITING])),
        groups_now[0],
        ("Paused / left", f"{counts[Status.PAUSED]} / {counts[Status.LEFT]}"),
        *groups_now[1:],
        ("Round", str(cohort.current_round)),
        *(row for extra in EXTRA_FIGURES for row in extra(ctx, cohort)),
    ]


EXPORT_COLUMNS = ["name", "user_id", "email", "role", "grade", "specialty", "employer", "employer_type", "region",
                  "status", "match_id", "buddies", "tasks_posted", "responses"]  # fmt: skip


def export_rows(ctx: Ctx, cohort: Cohort, people: Sequence[PersonRow] | None = None,
                activity: Sequence[GroupActivity] | None = None) -> Iterator[list[object]]:  # fmt: skip
    """The export's heading, then a row per participant (``people``, ``activity``: the cohort's, when
    already read), from a handful of queries whatever the cohort's size."""
    extras = [extra(ctx, cohort) for extra in EXTRA_COLUMNS]
    yield [*EXPORT_COLUMNS, *(h for heads, _ in extras for h in heads)]
    people = ctx.uow.participants.listing(cohort.id) if people is None else people
    names = {p.id: p.display_name for p in people}
    group_of: dict[int, int] = {}  # participant -> active match
    members: dict[int, list[int]] = defaultdict(list)
    for g in ctx.uow.matches.activity(cohort.id, ctx.now) if activity is None else activity:
        for pid, _, _ in g.members:
            group_of[pid] = g.match_id
            members[g.match_id].append(pid)
    posted = ctx.uow.assignments.posted_counts(cohort.id)
    answered = ctx.uow.responses.counts_by_author(cohort.id)
    for p in people:
        match_id = group_of.get(p.id)
        buddies = [names.get(b, "") for b in members.get(match_id, []) if b != p.id] if match_id else []
        row: list[object] = [p.display_name, p.user_id, p.email, p.role, p.grade, p.specialty, p.employer, p.employer_type, p.region,
               p.status, match_id or "", "; ".join(buddies), posted.get(match_id, 0) if match_id else 0,
               answered.get(p.id, 0) if match_id else 0]  # fmt: skip
        for heads, values in extras:
            row += values.get(p.id, [""] * len(heads))
        yield [_safe_cell(c) for c in row]


def export_csv(ctx: Ctx, cohort: Cohort) -> str:
    """Participants and their progress; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    csv.writer(out).writerows(export_rows(ctx, cohort))
    return out.getvalue()


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"):
        return "'" + value
    return value


def export_message(ctx: Ctx, cohort: Cohort, send_files: bool) -> Message:
    """The export as a CSV file where the platform can send one; otherwise its start, inline."""
    text = export_csv(ctx, cohort)
    rows = text.count("\n") - 1
    name = escape(cohort.name)
    if send_files:
        stamp = ctx.now.strftime("%Y-%m-%d")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", cohort.name).strip("-").lower() or "cohort"
        return Message(
            f"Export of {cohort.name}: {counted(rows, 'person')}",
            (Section(f"**{name}**: {counted(rows, 'person')}. The CSV file is in our direct messages."),),
            file=FileAttachment(
                f"buddy-{slug}-{stamp}.csv", text, title=f"Buddy export: {cohort.name}, {stamp}"
            ),
        )
    body = escape(text) if len(text) < 2800 else escape(text[:2800]) + "\n…"
    return Message(
        f"Export of {cohort.name}: {counted(rows, 'person')}",
        (
            Section(
                f"**{name}**: {counted(rows, 'person')}. This platform cannot take files from me, so here is the start; "
                f'an operator can write the full file with `buddybot export --cohort "{name}"`.'
            ),
            Section(body),
        ),  # fmt: skip
        carries_user_text=True,
    )


# ---- routes -------------------------------------------------------------------------------------


def export(call: Call) -> Message:
    cohort = call.the_cohort
    message = export_message(call.ctx, cohort, call.ctx.caps(call.user.platform).send_files)
    rows = sum(call.ctx.uow.participants.status_counts(cohort.id).values())
    call.ctx.audit(cohort, call.user, "export", rows=rows, as_file=message.file is not None)
    return message


def _add_coordinator(call: Call) -> Message:
    return add_coordinator(call.ctx, call.user, call.the_cohort, [u.user_id for u in call.mentions])


ROUTES = (
    command("cohort create NAME [region=...]", "create a cohort",
            lambda call: create_cohort(call.ctx, call.user, call.args, call.options), who=Who.ADMIN),
    command("cohort list", "list the cohorts you coordinate", lambda call: list_cohorts(call.ctx, call.user),
            who=Who.COORDINATOR, any_cohort=True),
    command("cohort open", "open registration",
            lambda call: set_registration(call.ctx, call.user, call.the_cohort, True), who=Who.COORDINATOR),
    command("cohort close", "close registration",
            lambda call: set_registration(call.ctx, call.user, call.the_cohort, False), who=Who.COORDINATOR),
    command("coordinator add @person", "make someone a coordinator", _add_coordinator, who=Who.COORDINATOR),
    command("export", "export participants and progress as CSV", export, who=Who.COORDINATOR),
    button("cohort_export", export, who=Who.COORDINATOR, target="cohort"),
)  # fmt: skip
