"""People's rights over their data, in chat: ``forget me`` (erasure, after a confirm button),
``mydata`` (subject access: a file of everything Buddy holds about them, readable or JSON), and
the coordinators' ``audit`` of their cohort. What is held is listed by the holdings registered in
:mod:`conversations.flows.personal`; these commands only iterate them.
"""

from __future__ import annotations

import json
from typing import Any

from conversations.core.interactions import Outcome, Reply
from conversations.core.markup import escape
from conversations.core.model import AuditEntry, Cohort
from conversations.core.refs import UserRef
from conversations.core.routes import Lane, Who, button, command
from conversations.core.views import Actions, Button, FileAttachment, Message, Section
from conversations.flows import erasure
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call
from conversations.flows.personal import export_all, export_caches

NOTHING_HELD = "Buddy holds nothing about you: you haven't registered for a buddy scheme here."


# ---- erasure, self-service ---------------------------------------------------------------------


def ask_to_forget(ctx: Ctx, user: UserRef) -> Message:
    if not erasure.holds_anything(ctx, user):
        raise Refusal(NOTHING_HELD)
    text = (
        "**Erase everything Buddy holds about you?** Your profile, answers, consent records and queued "
        "messages will go, and you'll leave the scheme; your buddy will be told you've stepped away, and "
        "your coordinator that someone asked to be forgotten (not who). This can't be undone. "
        "If you'd like a copy first, use `mydata`."
    )
    return Message("Erase your data?", (Section(text), Actions((
        Button("Erase my data", "forget_me_confirm", "", style="danger"),
        Button("Keep my data", "forget_me_cancel", ""),
    ))))  # fmt: skip


def confirm_forget(ctx: Ctx, user: UserRef) -> Message:
    if not erasure.holds_anything(ctx, user):
        raise Refusal("There's nothing left to erase: Buddy holds nothing about you.")
    erasure.forget(ctx, user, by=user, tell_them=False)
    return erasure.confirmation()  # the answer to their button: they read it before their id goes


# ---- subject access -------------------------------------------------------------------------------


def subject_access(ctx: Ctx, user: UserRef) -> dict[str, Any]:
    """Everything held about ``user``, JSON-ready: every registered holding, and adapters' caches."""
    return {
        "about": "Everything Buddy holds about you, as a subject access request would give it.",
        "generated_at": ctx.now.isoformat(),
        "platform": user.platform,
        "workspace": user.workspace,
        "user_id": user.user_id,
        "held": export_all(ctx, user),
        "held by the messaging platform adapter": export_caches(user),
    }


def count_rows(data: dict[str, Any]) -> int:
    return sum(len(v) if isinstance(v, list | dict) else 1 for part in ("held", "held by the messaging platform adapter")
               for v in data.get(part, {}).values())  # fmt: skip


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def as_markdown(data: dict[str, Any]) -> str:
    lines = ["# What Buddy holds about you", "",
             f"Generated {data['generated_at']} for {data['platform']} user {data['user_id']}.", ""]  # fmt: skip
    for part in ("held", "held by the messaging platform adapter"):
        for name, value in data.get(part, {}).items():
            lines += [f"## {name[:1].upper()}{name[1:]}", ""]
            lines += _md(value) or ["Nothing held."]
            lines.append("")
    lines += ["To have all of this erased, send `forget me` to Buddy. To change your profile, `profile`."]
    return "\n".join(lines) + "\n"


def _md(value: Any, depth: int = 0) -> list[str]:
    pad = "  " * depth
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value, 1):
            if isinstance(item, dict):
                out.append(f"{pad}{i}.")
                out += _md(item, depth + 1)
            else:
                out.append(f"{pad}- {item}")
        return out
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, list | dict) and v:
                out.append(f"{pad}- **{k}**:")
                out += _md(v, depth + 1)
            else:
                shown = ", ".join(map(str, v)) if isinstance(v, list) else v
                out.append(f"{pad}- **{k}**: {shown if shown != '' else '—'}")
        return out
    return [f"{pad}{value}"]


def mydata_message(ctx: Ctx, user: UserRef, fmt: str, send_files: bool) -> Message:
    if fmt not in ("", "json", "markdown", "md"):
        raise Refusal(
            f"`mydata` comes as a readable file or as JSON: use `mydata` or `mydata json`, not “{escape(fmt)}”."
        )
    people = ctx.uow.participants.for_user(user)
    if not erasure.holds_anything(ctx, user):
        raise Refusal(NOTHING_HELD)
    data = subject_access(ctx, user)
    rows = count_rows(data)
    cohort = ctx.uow.cohorts.get(people[-1].cohort_id) if people else None
    ctx.audit(cohort, user, "mydata", format=fmt or "markdown", rows=rows)
    stamp = ctx.now.strftime("%Y-%m-%d")
    if fmt == "json":
        name, content, kind = f"buddy-mydata-{stamp}.json", as_json(data), "JSON"
    else:
        name, content, kind = f"buddy-mydata-{stamp}.md", as_markdown(data), "readable"
    other = "`mydata` for a readable copy" if fmt == "json" else "`mydata json` for a machine-readable copy"
    if send_files:
        return Message(
            "Your data from Buddy",
            (
                Section(
                    f"Here's everything Buddy holds about you ({rows} records), as a {kind} file in our "
                    f"direct messages. Use {other}."
                ),
            ),  # fmt: skip
            file=FileAttachment(name, content, title=f"Your data from Buddy, {stamp}"),
        )
    body = escape(content) if len(content) < 2800 else escape(content[:2800]) + "\n…"
    return Message("Your data from Buddy", (
        Section(f"Everything Buddy holds about you ({rows} records). This platform cannot take files from me, so "
                "here is the start; ask an operator for the whole file (`buddybot mydata`)."),
        Section(body)), carries_user_text=True)  # fmt: skip


# ---- audit, readable --------------------------------------------------------------------------------


def describe(entry: AuditEntry, cohorts: dict[int, str]) -> str:
    who = entry.actor.split(":")[-1] if entry.actor not in ("forgotten",) else "someone since forgotten"
    if entry.actor.startswith("cli:"):
        who = "an operator"
    if entry.actor.startswith("self:"):
        who = "the person themselves"
    where = cohorts.get(entry.cohort_id or 0, "")
    detail = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in entry.detail.items() if k != "participant")
    if "participant" in entry.detail:
        detail = f"participant #{entry.detail['participant']}" + (f", {detail}" if detail else "")
    return (f"{entry.at:%Y-%m-%d %H:%M} {entry.action.replace('_', ' ')}" + (f" in {where}" if where else "") + f" by {who}"
            + (f" ({detail})" if detail else ""))  # fmt: skip


def audit_lines(ctx: Ctx, cohort: Cohort | None, limit: int = 200) -> list[str]:
    cohorts = {c.id: c.name for c in ctx.uow.cohorts.all()}
    entries = ctx.uow.audit.for_cohort(cohort.id)[-limit:] if cohort else ctx.uow.audit.all(limit)
    return [describe(e, cohorts) for e in entries]


def coordinator_audit(ctx: Ctx, cohort: Cohort) -> Message:
    lines = audit_lines(ctx, cohort, 30)
    if not lines:
        return Message.simple(f"Nothing has been recorded for **{escape(cohort.name)}** yet.")
    body = "\n".join(f"- {escape(line)}" for line in lines)
    return Message(f"Audit of {cohort.name}", (
        Section(f"**Audit of {escape(cohort.name)}**: the latest {len(lines)} entries, newest last."),
        Section(body)))  # fmt: skip


# ---- routes -------------------------------------------------------------------------------------------


def _mydata(call: Call) -> Message:
    fmt = (call.args[0].lower() if call.args else "").strip()
    return mydata_message(call.ctx, call.user, fmt, call.ctx.caps(call.user.platform).send_files)


def _cancel(call: Call) -> Outcome:
    return Reply(Message.simple("Nothing has been erased: your data stays as it was."))


ROUTES = (
    command("forget me", "erase everything Buddy holds about you (asks you to confirm)",
            lambda call: ask_to_forget(call.ctx, call.user), who=Who.ANYONE),
    button("forget_me", lambda call: ask_to_forget(call.ctx, call.user), who=Who.ANYONE),
    button("forget_me_confirm", lambda call: confirm_forget(call.ctx, call.user), who=Who.ANYONE),
    button("forget_me_cancel", _cancel, who=Who.ANYONE),
    command("mydata [json]", "a file of everything Buddy holds about you (readable, or JSON)", _mydata,
            who=Who.ANYONE),
    command("audit", "who exported, shared, imported or erased what in your cohort",
            lambda call: coordinator_audit(call.ctx, call.the_cohort), who=Who.COORDINATOR, lane=Lane.COORDINATOR),
)  # fmt: skip
