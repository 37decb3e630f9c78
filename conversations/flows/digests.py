"""A curated digest: ``digest [TASK]`` opens a form pre-filled with the learning points people
agreed to share (anonymised), which the coordinator edits and previews, then sends to the cohort,
to a channel, or both; Buddy records which answers it quoted (issue 13)."""

from __future__ import annotations

import re
from typing import Any

from conversations.core.interactions import CloseForm, FormErrors, Outcome, ShowForm
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, Response, Status
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.routes import Who, button, command, form
from conversations.core.views import (
    Actions,
    Button,
    Context,
    Form,
    Header,
    LongText,
    Message,
    Option,
    Section,
    Select,
    ShortText,
)
from conversations.delivery.outbox import queue, to_conversation, to_user
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, id_number, target

TARGETS = (("cohort", "Everyone in the cohort"), ("channel", "A channel"), ("both", "Both"))
CHANNEL = re.compile(r"^(?:<#)?([A-Z0-9]{6,20}|19:[A-Za-z0-9_\-.@:]{4,200})(?:\|[^>]*)?>?$")
MAX_POINTS = 8


def shareable(ctx: Ctx, cohort: Cohort, task_key: str | None) -> tuple[str, str, list[Response]]:
    """The task (given, or the latest answered) and its answers whose authors agreed to be quoted."""
    responses = ctx.uow.responses.for_cohort(cohort.id)
    if not responses:
        raise Refusal("Nobody has answered a task yet, so there's nothing to share.")
    keys: dict[int, str] = {}
    for r in responses:
        if r.assignment_id not in keys:
            a = ctx.uow.assignments.get(r.assignment_id)
            keys[r.assignment_id] = a.task_key if a else ""
    key = task_key or keys[responses[-1].assignment_id]
    task = ctx.uow.tasks.get(key)
    if task is None or key not in keys.values():
        known = ", ".join(sorted({f"`{k}`" for k in keys.values() if k}))
        raise Refusal(f"Nobody has answered “{escape(key)}” yet. Answered tasks: {known}.")
    same = [r for r in responses if keys[r.assignment_id] == key]
    authors = {p.id: p for p in ctx.uow.participants.many({r.author_id for r in same})}
    quotable = [r for r in same if r.author_id in authors and authors[r.author_id].consent_share
                and authors[r.author_id].status != Status.LEFT and len(r.text) > 20]  # fmt: skip
    return key, task.title, quotable[-MAX_POINTS:]


def _point(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 280 else one_line[:279] + "…"


def digest_form(
    cohort: Cohort, key: str, title: str, quotes: list[Response], draft: dict[str, Any] | None
) -> Form:
    points = draft["points"] if draft else "\n".join(f"- “{_point(r.text)}”" for r in quotes)
    intro = (
        draft["intro"]
        if draft
        else f"A few learning points from “{title}”, shared with permission and without names:"
    )
    return Form("digest", "Learning points", (
        ShortText("intro", "Opening line", max_chars=300, initial=intro),
        LongText("points", "Learning points (edit freely)", max_chars=3000, initial=points,
                 hint="Pre-filled with answers from people who agreed to be quoted; no names are shown."),
        Select("send_to", "Send to", tuple(Option(v, label) for v, label in TARGETS),
               initial=draft["send_to"] if draft else "cohort"),
        ShortText("channel", "Channel (for a channel: its link or id)", required=False, max_chars=220,
                  initial=draft.get("channel", "") if draft else str((cohort.settings or {}).get("digest_channel", ""))),
    ), submit_label="Preview", state=f"{cohort.id}:{key}")  # fmt: skip


@target("digest_task")
def _digest_task(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    cohort_id, _, key = value.partition(":")
    number = id_number(cohort_id)
    cohort = ctx.uow.cohorts.get(number) if number is not None else None
    if cohort is None or not in_workspace(cohort, user) or ctx.uow.tasks.get(key) is None:
        raise Refusal("This digest is out of date: type `digest` again.")
    return key, cohort


@target("digest_draft")
def _digest_draft(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    cohort_id, _, number = value.partition(":")
    found = id_number(cohort_id)
    cohort = ctx.uow.cohorts.get(found) if found is not None else None
    draft = (cohort.settings or {}).get("digest_draft") if cohort else None
    if cohort is None or not in_workspace(cohort, user) or not draft or str(draft.get("draft")) != number:
        raise Refusal("That digest has already been sent or replaced: type `digest` to write another.")
    return draft, cohort


def _open(call: Call) -> Outcome:
    if len(call.args) > 1:
        raise Refusal("Use `digest` (the latest task) or `digest TASK`.")
    key, title, quotes = shareable(call.ctx, call.the_cohort, call.args[0] if call.args else None)
    return ShowForm(digest_form(call.the_cohort, key, title, quotes, None))


def _message(cohort: Cohort, title: str, intro: str, points: str) -> Message:
    return Message(f"Learning points from {title}", (Header(f"Learning points: {title}"[:150]),
                                                     Section(escape(intro)), Section(escape(points)),
                                                     Context(f"From the coordinators of {escape(cohort.name)}.")),
                   carries_user_text=True)  # fmt: skip


def _preview(call: Call) -> Outcome:
    ctx, cohort, key = call.ctx, call.the_cohort, call.target
    values = {k: (v.strip() if isinstance(v, str) else "") for k, v in call.values.items()}
    errors = {}
    if not values.get("intro"):
        errors["intro"] = "Please write an opening line."
    if not values.get("points"):
        errors["points"] = "Please keep at least one learning point."
    elif len(values["points"]) > 3000:
        errors["points"] = f"The points are {len(values['points'])} characters; the limit is 3,000."
    send_to = values.get("send_to", "")
    if send_to not in {v for v, _ in TARGETS}:
        errors["send_to"] = "Please choose where it goes."
    channel = ""
    if send_to in ("channel", "both"):
        found = CHANNEL.match(values.get("channel", ""))
        if not found:
            errors["channel"] = "Paste the channel's link or id (Slack: C0123ABCD; Teams: 19:…@thread.tacv2)."
        else:
            channel = found.group(1)
    if errors:
        return FormErrors(errors)
    _, title, quotes = shareable(ctx, cohort, key)
    quoted = [r.id for r in quotes if _point(r.text)[:40] in values["points"]]
    number = int((cohort.settings or {}).get("digest_drafts", 0)) + 1
    draft = {"draft": number, "task": key, "title": title, "intro": values["intro"], "points": values["points"],
             "send_to": send_to, "channel": channel, "quoted": quoted}  # fmt: skip
    cohort.settings = {**(cohort.settings or {}), "digest_draft": draft, "digest_drafts": number}
    people = _audience(ctx, cohort) if send_to in ("cohort", "both") else []
    where = {"cohort": f"{counted(len(people), 'person')}", "channel": "the channel",
             "both": f"{counted(len(people), 'person')} and the channel"}[send_to]  # fmt: skip
    preview = _message(cohort, title, values["intro"], values["points"])
    value = f"{cohort.id}:{number}"
    return CloseForm(Message("Digest preview", (Header("Preview"), *preview.blocks[1:],
                                                Context(f"To: {where}. Quotes {counted(len(quoted), 'answer')}."),
                                                Actions((Button("Send digest", "digest_send", value, style="primary"),
                                                         Button("Edit digest", "digest_edit", value, opens_form=True)))),
                             carries_user_text=True))  # fmt: skip


def _audience(ctx: Ctx, cohort: Cohort) -> list[Any]:
    return [p for p in ctx.uow.participants.in_cohort(cohort.id, (Status.MATCHED, Status.WAITING, Status.REGISTERED))
            if not p.unreachable]  # fmt: skip


def _edit(call: Call) -> Outcome:
    draft = call.target
    _, title, quotes = shareable(call.ctx, call.the_cohort, draft["task"])
    return ShowForm(digest_form(call.the_cohort, draft["task"], title, quotes, draft))


def _send(call: Call) -> Message:
    ctx, cohort, draft = call.ctx, call.the_cohort, call.target
    message = _message(cohort, draft["title"], draft["intro"], draft["points"])
    sent = 0
    if draft["send_to"] in ("cohort", "both"):
        for p in _audience(ctx, cohort):
            sent += queue(
                ctx.uow, f"digest:{cohort.id}:{draft['draft']}:{p.id}", to_user(p.ref), message, ctx.now
            )
    if draft["send_to"] in ("channel", "both"):
        ref = ConversationRef(cohort.platform, cohort.workspace, draft["channel"])
        queue(ctx.uow, f"digest:{cohort.id}:{draft['draft']}:channel", to_conversation(ref), message, ctx.now)
    settings = {k: v for k, v in (cohort.settings or {}).items() if k != "digest_draft"}
    if draft["channel"]:
        settings["digest_channel"] = draft["channel"]
    cohort.settings = settings
    ctx.audit(cohort, call.user, "digest", task=draft["task"], recipients=sent, channel=bool(draft["channel"]),
              quoted=draft["quoted"])  # fmt: skip
    where = " and the channel" if draft["send_to"] == "both" else ""
    if draft["send_to"] == "channel":
        return Message.simple("Sent the learning points to the channel.")
    return Message.simple(f"Sent the learning points to {counted(sent, 'person')}{where}.")


C = Who.COORDINATOR
ROUTES = (
    command("digest [TASK]", "share learning points: edit, preview, then send to the cohort or a channel", _open,
            who=C),
    form("digest", _preview, who=C, target="digest_task", error_field="points"),
    button("digest_send", _send, who=C, target="digest_draft"),
    button("digest_edit", _edit, who=C, target="digest_draft"),
)  # fmt: skip
