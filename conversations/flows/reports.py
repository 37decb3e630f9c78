"""Spreadsheets and pictures for coordinators: the XLSX export (participants, groups, progress per
task, consented answers), the cohort chart, ``status chart`` and the weekly summary (issue 13)."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from conversations.core import spreadsheet
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command
from conversations.core.views import FileAttachment, Header, ImageAttachment, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.assignments import complete_for
from conversations.flows.context import Ctx
from conversations.flows.coordination import _safe_cell, export_rows, figures
from conversations.flows.lookup import Call
from conversations.flows.running import group_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(ctx: Ctx, cohort: Cohort) -> bytes:
    """The cohort as an XLSX workbook: one sheet each for participants, groups, progress per task
    and answers (only of people who agreed to coordinators using their details). Each table is read
    once, whatever the cohort's size."""
    everyone = ctx.uow.participants.listing(cohort.id)
    people = {p.id: p for p in everyone}
    activity = ctx.uow.matches.activity(cohort.id, ctx.now)
    rows = group_rows(ctx, cohort, people=people, activity=activity)
    groups: list[list[object]] = [["group", "round", "members", "score", "why", "last_active", "current_task",
                                   "progress", "quiet"]]  # fmt: skip
    groups += [[g.group.match_id, g.group.round, _safe_cell("; ".join(p.display_name for p in g.members)),
                round(g.group.score, 3), _safe_cell("; ".join(g.group.reasons)), g.last_active, _safe_cell(g.task),
                g.progress, "yes" if g.quiet else ""] for g in rows]  # fmt: skip

    tasks = {t.key: t for t in ctx.uow.tasks.all()}
    members = {g.group.match_id: [p.id for p in g.members] for g in rows}
    assignments = ctx.uow.assignments.posted(cohort.id)
    responses: dict[int, list[Any]] = defaultdict(list)
    for r in ctx.uow.responses.answers_in(cohort.id):
        responses[r.assignment_id].append(r)
    progress: list[list[object]] = [["task", "title", "groups posted", "groups complete", "answers written",
                                     "people who wrote"]]  # fmt: skip
    by_task: dict[str, list[Any]] = defaultdict(list)
    for a in assignments:
        by_task[a.task_key].append(a)
    for key in [t for t in tasks if t in by_task] + sorted(k for k in by_task if k not in tasks):
        posted = by_task[key]
        task = tasks.get(key)
        said = [r for a in posted for r in responses[a.id]]
        complete = (
            sum(complete_for(task, responses[a.id], members[a.match_id]) for a in posted) if task else 0
        )
        progress.append([key, _safe_cell(task.title if task else key), len(posted), complete, len(said),
                         len({r.author_id for r in said})])  # fmt: skip

    answers: list[list[object]] = [["group", "task", "phase", "author", "joint", "submitted", "answer"]]
    agreed = {p.id for p in everyone if p.consent_data and p.status != Status.LEFT}
    labels = {t.key: {p.key: p.label for p in t.phases} for t in tasks.values()}
    for a in assignments:
        named = labels.get(a.task_key, {})
        for r in responses[a.id]:
            if not agreed.issuperset(members[a.match_id] if r.owner_id == 0 else (r.author_id,)):
                continue
            author = people[r.author_id].display_name if r.author_id in people else ""
            answers.append([a.match_id, a.task_key, _safe_cell(named.get(r.phase, r.phase)), _safe_cell(author),
                            "yes" if r.owner_id == 0 else "", r.submitted_at, _safe_cell(r.text)])  # fmt: skip
    return spreadsheet.workbook([("Participants", export_rows(ctx, cohort, everyone, activity)), ("Groups", groups),
                                 ("Progress per task", progress), ("Answers", answers)])  # fmt: skip


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "cohort"


def xlsx_message(ctx: Ctx, cohort: Cohort, send_files: bool) -> Message:
    if not send_files:
        return Message.simple(f"This platform cannot take files from me, so an operator can write the spreadsheet "
                              f'with `buddybot export --cohort "{escape(cohort.name)}" --format xlsx --out FILE.xlsx`.')  # fmt: skip
    data = workbook(ctx, cohort)
    stamp = ctx.now.strftime("%Y-%m-%d")
    return Message(
        f"Spreadsheet of {cohort.name}",
        (
            Section(
                f"**{escape(cohort.name)}**: the spreadsheet (participants, groups, progress per task and "
                "answers of people who agreed) is in our direct messages."
            ),
        ),  # fmt: skip
        file=FileAttachment(
            f"buddy-{_slug(cohort.name)}-{stamp}.xlsx", "", title=f"Buddy: {cohort.name}, {stamp}", data=data
        ),  # fmt: skip
    )


# ---- the chart ------------------------------------------------------------------------------------


def weekly_figures(ctx: Ctx, cohort: Cohort, weeks: int = 8) -> dict[str, list[int]]:
    """Per week (oldest first, the last ``weeks``): registrations, groups formed, answers written and
    silent groups (nudged because nobody in them had written), from one light query each."""
    start = _week_start(ctx.now) - timedelta(weeks=weeks - 1)
    times = ctx.uow.cohorts.activity_times(cohort.id, start)
    names = {"registered": "registrations", "matched": "groups formed", "answered": "answers",
             "nudged": "silent groups"}  # fmt: skip
    series = {}
    for key, label in names.items():
        counts = [0] * weeks
        for t in times.get(key, []):
            counts[min(weeks - 1, max(0, (t - start).days // 7))] += 1
        series[label] = counts
    return series


def _week_start(now: datetime) -> datetime:
    day = now - timedelta(days=now.weekday())
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def chart_png(title: str, series: dict[str, list[int]], labels: list[str]) -> bytes:
    """A small bar chart (PNG, a few kilobytes: it fits inside a Teams card)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 2.6), dpi=72)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(values))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels, fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, frameon=False, ncols=4, loc="upper left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def chart_message(ctx: Ctx, cohort: Cohort, heading: str) -> Message:
    series = weekly_figures(ctx, cohort)
    start = _week_start(ctx.now) - timedelta(weeks=len(next(iter(series.values()))) - 1)
    labels = [f"{start + timedelta(weeks=i):%-d %b}" for i in range(len(series["answers"]))]
    alt = "; ".join(f"{name} per week: {', '.join(map(str, values))}" for name, values in series.items())
    png = chart_png(f"{cohort.name}: week by week", series, labels)
    return Message(
        f"{heading}: {cohort.name}",
        (Header(f"{heading}: {cohort.name}"[:150]), Section("", fields=tuple(figures(ctx, cohort)))),
        image=ImageAttachment(png, alt[:1000], f"buddy-{_slug(cohort.name)}-{ctx.now:%Y-%m-%d}.png"),
    )


def weekly_summary(ctx: Ctx, cohort: Cohort) -> int:
    """Queue this week's summary with its chart to each coordinator, once a week."""
    week = ctx.now.strftime("%G-W%V")
    message = chart_message(ctx, cohort, "Weekly summary")
    sent = 0
    for c in ctx.uow.cohorts.coordinators(cohort.id):
        ref = UserRef(c.platform, c.workspace, c.user_id)
        sent += queue(
            ctx.uow, f"weekly-summary:{cohort.id}:{week}:{c.user_id}", to_user(ref), message, ctx.now
        )
    return sent


def due_summary(ctx: Ctx, cohort: Cohort) -> int:
    """The weekly summary once the week has begun (Mondays, from 08:00 UTC), once per week."""
    week = ctx.now.strftime("%G-W%V")
    if (
        cohort.paused
        or ctx.now.weekday() != 0
        or ctx.now.hour < 8
        or (cohort.settings or {}).get("summary_week") == week
    ):
        return 0
    sent = weekly_summary(ctx, cohort)
    cohort.settings = {**(cohort.settings or {}), "summary_week": week}
    return sent


# ---- routes -------------------------------------------------------------------------------------


def _xlsx(call: Call) -> Message:
    cohort = call.the_cohort
    call.ctx.audit(cohort, call.user, "export_xlsx")
    return xlsx_message(call.ctx, cohort, call.ctx.caps(call.user.platform).send_files)


def _chart(call: Call) -> Message:
    return chart_message(call.ctx, call.the_cohort, "Status")


def _summary(call: Call) -> Message:
    sent = weekly_summary(call.ctx, call.the_cohort)
    if not sent:
        return Message.simple("This week's summary has already gone to every coordinator.")
    return Message.simple(f"Sent this week's summary, with its chart, to {counted(sent, 'coordinator')}.")


ROUTES = (
    command("export xlsx", "the spreadsheet: participants, groups, progress per task, answers", _xlsx,
            who=Who.COORDINATOR),
    command("status chart", "the cohort's figures with a week-by-week chart", _chart, who=Who.COORDINATOR),
    command("summary", "send this week's summary with its chart to the coordinators now", _summary,
            who=Who.COORDINATOR),
    button("cohort_export_xlsx", _xlsx, who=Who.COORDINATOR, target="cohort"),
    button("status_chart", _chart, who=Who.COORDINATOR, target="cohort"),
)  # fmt: skip
