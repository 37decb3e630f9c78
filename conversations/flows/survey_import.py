"""Importing a real survey export: columns mapped once, answers normalised, people found by their
work email, a preview, then all or nothing.

1. A coordinator sends the export (``import``: the upload form, or a file in the chat). Its
   questions are read (:mod:`conversations.core.survey`); the first time, a form maps each of
   Buddy's fields to a question, guessed from the headings, with three rows as a preview. The
   mapping is saved on the cohort, and the next export that has the same questions goes straight on.
2. Every row is checked and its answers mapped to Buddy's vocabulary
   (:mod:`conversations.core.normalise`). Any problem is reported by line and column and nothing is
   kept. Close-but-not-certain answers become *values to check*.
3. The people are looked up by work email, in the background (:mod:`conversations.schedule.
   email_lookup`): the platform allows about 50 a minute, far longer than a request may take. The
   coordinator is sent the preview when it is ready: "47 found, 3 not found, 2 values to check",
   with Import and Cancel.
4. **Import** registers everyone found with their platform id, as *invited*: each is welcomed in
   their DM and asked to confirm their details and consent, and nobody is matched until they do.
   Importing again updates people rather than duplicating them. Those not found are listed with
   the reason, and can be exported to invite them by email.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from conversations.core import normalise, survey
from conversations.core.interactions import CloseForm, FormErrors, Outcome, Reply, ShowForm
from conversations.core.markup import counted, escape
from conversations.core.model import Cohort, ImportBatch, Participant, Status
from conversations.core.profiles import Profile, apply, describe, validate
from conversations.core.refs import UserRef
from conversations.core.routes import InTransactions, Who, button, form
from conversations.core.views import (
    Actions,
    Button,
    Context,
    FileAttachment,
    Form,
    Message,
    Note,
    Option,
    Section,
    Select,
)
from conversations.delivery.outbox import queue, queue_many, to_user
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, target
from conversations.flows.personal import holding

T = TypeVar("T")
Run = Callable[[Callable[[Ctx], T]], T]

MAPPING_FORM = "import_mapping"
SETTING = "import_mapping"  # where a cohort keeps its mapping (cohort.settings)
SHOWN = 8  # problems, values to check and people not found listed in a message; the rest are counted
CHOICES = ("role", "profession", "specialty", "specialist_area", "employer_type", "region")
SERVICES = {"slack": "Slack", "teams": "Microsoft Teams"}
EXPIRES_AFTER = timedelta(hours=24)  # a mapping or a preview nobody answered is dropped after this
EMAIL_MISSING = "email missing"
NO_LOOKUPS = "Buddy can't find people by email here (an operator sets this up)"
NEEDS_APP = ("needs the Buddy app installed: without Microsoft Graph I can't find people in Teams by email or "
             "add the app for them (an operator sets Graph up); invite them to add Buddy")  # fmt: skip


def service(platform: str) -> str:
    return SERVICES.get(platform, "chat")


def no_lookups_reason(platform: str) -> str:
    """Why nobody could be looked up: on Teams the missing piece is Microsoft Graph, without which
    Buddy can neither find people nor add its app for them."""
    return NEEDS_APP if platform == "teams" else NO_LOOKUPS


def not_found_reason(platform: str) -> str:
    return f"no {service(platform)} account with this email"


# ---- 1. the file and its mapping -------------------------------------------------------------------


def begin(ctx: Ctx, actor: UserRef, cohort: Cohort, filename: str, text: str) -> Outcome:
    """A survey export arrived: go straight on with the cohort's saved mapping when it fits,
    otherwise ask for the mapping."""
    try:
        table = survey.read(text)
    except survey.TableError as error:
        raise Refusal(
            f"Nothing imported from {filename}: {error}. Fix the file and send it again."
        ) from error
    if not table.records:
        raise Refusal(f"Nothing imported from {filename}: it has headings but nobody's answers.")
    saved = cohort.settings.get(SETTING)
    fitting = saved if isinstance(saved, dict) and fits(table, saved) else None
    # every row is read before anything is written, so no write lock is held meanwhile
    prepared = prepare(table, fitting) if fitting is not None else None
    for old in ctx.uow.imports.mapping(cohort.id):  # a file sent again: the last one's copy is not kept
        if old.user_id == actor.user_id:
            old.status, old.text, old.finished_at = "cancelled", "", ctx.now
    batch = ctx.uow.imports.add(ImportBatch(cohort.id, actor.platform, actor.workspace, actor.user_id,
                                            filename[:255], text=text, created_at=ctx.now))  # fmt: skip
    if fitting is not None:
        return check(ctx, batch, cohort, table, fitting, prepared)
    return ShowForm(mapping_form(batch, cohort, table))


def fits(table: survey.Table, mapping: Mapping[str, str]) -> bool:
    """Every question the saved mapping names is in this file, and every required field is mapped."""
    if any(name not in mapping for name in survey.REQUIRED):
        return False
    return all(heading == survey.FIRST_LAST or table.question(heading) for heading in mapping.values())


def mapping_form(batch: ImportBatch, cohort: Cohort, table: survey.Table) -> Form:
    guessed = survey.guess(table)
    options = [Option(f"q{i}", _short(q.heading, 75)) for i, q in enumerate(table.questions)][:99]
    names = survey.first_last(table)
    if names:
        options.insert(0, Option(survey.FIRST_LAST, _short(f"{names[0]} + {names[1]}", 75)))
    offered = {o.value for o in options}
    index = {q.heading: f"q{i}" for i, q in enumerate(table.questions) if f"q{i}" in offered}
    fields: list[Any] = [Note(
        f"Which question holds each of Buddy's fields in **{escape(batch.filename)}**"
        f"{' (' + table.tool + ')' if table.tool else ''}? I've guessed from the headings; I'll remember "
        f"your choice for {escape(cohort.name)}.")]  # fmt: skip
    fields.append(Note(preview(table)))
    for name, label in survey.FIELDS.items():
        chosen = guessed.get(name, "")
        initial = survey.FIRST_LAST if chosen == survey.FIRST_LAST else index.get(chosen, "")
        required = "" if name in survey.REQUIRED else " (optional)"
        fields.append(Select(name, f"{label}{required}", tuple(options), required=False, initial=initial))
    return Form(MAPPING_FORM, "Match the survey's columns", tuple(fields), submit_label="Check the file",
                state=str(batch.id))  # fmt: skip


def preview(table: survey.Table, rows: int = 3, questions: int = 14) -> str:
    """The first ``rows`` answers to each question, so the coordinator can tell the columns apart."""
    first = table.records[:rows]
    lines = [f"**The first {len(first)} rows** (lines {', '.join(str(line) for line, _ in first)})"]
    for question in [q for q in table.questions if survey.norm(q.heading) not in survey.METADATA][:questions]:
        answers = [_short("; ".join(table.answer(cells, question)) or "–", 28) for _, cells in first]
        lines.append(f"• {escape(_short(question.heading, 60))}: {escape(' | '.join(answers))}")
    return "\n".join(lines)[:2900]


def submit_mapping(ctx: Ctx, cohort: Cohort, batch: ImportBatch, values: Mapping[str, object]) -> Outcome:
    if batch.status == "expired":
        return FormErrors({"display_name": _moved_on(batch)})
    if batch.status != "mapping" or not batch.text:
        return FormErrors(
            {
                "display_name": "This file has been checked already, or replaced by one sent later: "
                "look for its preview in our messages, or send the file again."
            }
        )
    table = survey.read(batch.text)
    names = survey.first_last(table)
    mapping: dict[str, str] = {}
    for name in survey.FIELDS:
        chosen = values.get(name)
        if not isinstance(chosen, str) or not chosen:
            continue
        if chosen == survey.FIRST_LAST and names:
            mapping[name], mapping["first_name"], mapping["last_name"] = survey.FIRST_LAST, names[0], names[1]
        elif chosen.startswith("q") and chosen[1:].isdigit() and int(chosen[1:]) < len(table.questions):
            mapping[name] = table.questions[int(chosen[1:])].heading
    missing = {name: f"Please choose the question with each person's {survey.FIELDS[name].lower()}."
               for name in survey.REQUIRED if name not in mapping}  # fmt: skip
    if missing:
        return FormErrors(missing)
    settings = dict(cohort.settings)
    settings[SETTING] = mapping
    cohort.settings = settings
    outcome = check(ctx, batch, cohort, table, mapping)
    if isinstance(outcome, Reply):
        return CloseForm(outcome.message)
    return outcome


# ---- 2. every row checked and normalised -----------------------------------------------------------


class Prepared:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, Profile]] = []  # (line, email, profile)
        self.problems: list[str] = []
        self.checks: dict[tuple[str, str], dict[str, Any]] = {}  # (column, value) -> check


def prepare(table: survey.Table, mapping: Mapping[str, str]) -> Prepared:
    """Each row as a profile in Buddy's vocabulary; problems by line and column; values to check."""
    out = Prepared()
    questions = {
        name: table.question(heading) for name, heading in mapping.items() if heading != survey.FIRST_LAST
    }
    seen: dict[str, int] = {}
    known: dict[tuple[str, str], normalise.Normalised] = {}  # answers repeat: each is worked out once

    def choice(name: str, raw: str) -> normalise.Normalised:
        key = (name, raw)
        if key not in known:
            known[key] = normalise.choice(name, raw)
        return known[key]

    for line, cells in table.records:

        def answers(name: str, cells: list[str] = cells) -> list[str]:
            question = questions.get(name)
            return table.answer(cells, question) if question else []

        def column(name: str) -> str:
            if mapping.get(name) == survey.FIRST_LAST:
                return f"“{mapping.get('first_name', '')}” and “{mapping.get('last_name', '')}”"
            if name not in mapping:
                return f"{survey.FIELDS.get(name, name).lower()} (no question in the file gives it)"
            return f"“{_short(mapping[name], 60)}”"

        raw: dict[str, object] = {}
        problems: dict[str, str] = {}
        if mapping.get("display_name") == survey.FIRST_LAST:
            raw["display_name"] = " ".join(answers("first_name") + answers("last_name"))
        else:
            raw["display_name"] = " ".join(answers("display_name"))
        email = " ".join(answers("email")).strip().lower()
        if email and ("@" not in email or " " in email or len(email) > 254):
            problems["email"] = f"“{_short(email, 60)}” isn't an email address"
        elif email in seen:
            problems["email"] = f"{email} is also on line {seen[email]}"
        for name in CHOICES:
            given = answers(name)
            if not given:
                continue
            found = choice(name, given[0])
            if found.value is None:
                hint = f" (closest: {found.suggestion})" if found.suggestion else ""
                problems[name] = (f"“{_short(given[0], 40)}” isn't a {normalise.WHAT[name]} I know{hint}; add it "
                                  "to the synonyms table or correct the file")  # fmt: skip
                continue
            if not found.certain:
                _to_check(out, column(name), given[0], found.suggestion, line)
            raw[name] = found.value
        role = answers("role")
        if "profession" not in raw and role:  # "Doctor" as a role says the profession too
            implied = choice("profession", role[0])
            if implied.certain and implied.value:
                raw["profession"] = implied.value
        grade = " ".join(answers("grade"))
        raw["grade"] = normalise.grade(grade) if grade else ""
        raw["employer"] = " ".join(answers("employer"))
        interests: list[str] = []
        for answer in answers("interests"):
            for item in _split(answer):
                found = choice("interests", item)
                if found.value is None:
                    problems["interests"] = (
                        f"“{_short(item, 40)}” isn't an interest I know (closest: {found.suggestion})"
                    )
                    continue
                if not found.certain:
                    _to_check(out, column("interests"), item, found.suggestion, line)
                if found.value not in interests:
                    interests.append(found.value)
        raw["interests"] = interests
        raw["consent_data"] = normalise.consent(answers("consent_data"))
        raw["consent_share"] = normalise.consent(answers("consent_share"))
        profile, invalid = validate(raw)
        for name, message in invalid.items():
            problems.setdefault(name, message.rstrip("."))
        if problems:
            detail = "; ".join(f"column {column(name)}: {message}" for name, message in problems.items())
            out.problems.append(f"line {line}: {detail}")
            continue
        if email:
            seen[email] = line
        out.rows.append((line, email, profile))
    return out


def _answers(profile: Profile) -> dict[str, Any]:
    """The profile as a dict (``dataclasses.asdict`` deep-copies: ten times slower for 20,000)."""
    return {name: list(value) if isinstance(value, list) else value
            for name, value in vars(profile).items()}  # fmt: skip


def _to_check(out: Prepared, column: str, value: str, suggestion: str, line: int) -> None:
    entry = out.checks.setdefault((column, value.strip().lower()), {
        "column": column, "value": value.strip(), "suggestion": suggestion, "lines": []})  # fmt: skip
    if len(entry["lines"]) < 5:
        entry["lines"].append(line)


def _split(answer: str) -> list[str]:
    """Several choices in one cell: Microsoft Forms ends each with ``;``, Google separates with ``, ``."""
    parts = answer.split(";") if ";" in answer else answer.split(",") if "," in answer else [answer]
    return [p.strip() for p in parts if p.strip()]


def check(
    ctx: Ctx,
    batch: ImportBatch,
    cohort: Cohort,
    table: survey.Table,
    mapping: Mapping[str, str],
    prepared: Prepared | None = None,
) -> Outcome:
    """Check every row (``prepared`` when read already); if any has a problem nothing is kept.
    Otherwise the rows wait for their email lookups (or, when nobody needs looking up, the
    preview is ready now)."""
    prepared = prepared or prepare(table, mapping)
    if prepared.problems:
        count = len(prepared.problems)
        listed = "; ".join(prepared.problems[:SHOWN]) + (
            f" (and {count - SHOWN} more)" if count > SHOWN else ""
        )
        have = "1 row has" if count == 1 else f"{count} rows have"
        return FormErrors({"display_name": f"Nothing imported from {batch.filename}: {have} problems: {listed}. "
                                           "Fix the file and send it again."})  # fmt: skip
    known = {p.email.lower(): p.user_id for p in ctx.uow.participants.in_cohort(cohort.id) if p.email}
    can_look_up = ctx.caps(cohort.platform).email_lookups > 0
    rows: list[dict[str, Any]] = []  # plain rows, cheap to build: 20,000 are written at once
    for line, email, profile in prepared.rows:
        row = {"batch_id": batch.id, "line": line, "email": email, "profile": _answers(profile),
               "state": "pending", "user_id": "", "reason": ""}  # fmt: skip
        if not email:
            row["state"], row["reason"] = "not_found", EMAIL_MISSING
        elif email in known:  # imported before: no need to ask the platform again
            row["state"], row["user_id"] = "found", known[email]
        elif not can_look_up:
            row["state"], row["reason"] = "not_found", no_lookups_reason(cohort.platform)
        rows.append(row)
    ctx.uow.imports.add_rows(rows)
    batch.mapping = dict(mapping)
    batch.checks = list(prepared.checks.values())
    batch.text = ""  # the answers are in the rows now; the file is not kept
    batch.status = "checking"
    pending = sum(1 for r in rows if r["state"] == "pending")
    if not pending:
        return Reply(finish(ctx, batch, cohort, notify=False))
    rate = ctx.caps(cohort.platform).email_lookups
    minutes = max(1, round(pending / rate)) if rate else 1
    about = "about a minute" if minutes <= 1 else f"about {minutes} minutes"
    return Reply(Message.simple(
        f"Thanks: every row of {escape(batch.filename)} reads well. I'm now looking up {pending} "
        f"{'person' if pending == 1 else 'people'} by their work email in {service(cohort.platform)} ({about}). "
        "I'll message you here with a preview; nothing is imported until you say so."))  # fmt: skip


# ---- 3. looked up in the background (schedule/email_lookup.py), then the preview --------------------


def next_lookups(ctx: Ctx, platforms: Iterable[str], size: int) -> list[tuple[int, int, str, str, str]]:
    """Up to ``size`` rows of one batch waiting for a lookup, oldest batch first:
    (batch id, row id, platform, workspace, email)."""
    wanted = set(platforms)
    for batch in ctx.uow.imports.checking():
        if batch.platform not in wanted:
            continue
        rows = ctx.uow.imports.rows(batch.id, "pending", limit=size)
        if rows:
            return [(batch.id, r.id, batch.platform, batch.workspace, r.email) for r in rows]
        finish(ctx, batch, ctx.uow.cohorts.get(batch.cohort_id), notify=True)
    return []


def record_lookups(ctx: Ctx, batch_id: int, found: Mapping[int, tuple[str, str]], platform: str) -> None:
    """The lookups' results (row id -> (user id, "") or ("", why not; "" for nobody with that
    email)); the preview goes out when the batch has none left."""
    batch = ctx.uow.imports.get(batch_id)
    if batch is None or batch.status != "checking":
        return  # cancelled meanwhile
    for row in ctx.uow.imports.rows_by_id(batch_id, found):
        if row.state != "pending":
            continue
        user_id, reason = found[row.id]
        if user_id:
            row.state, row.user_id = "found", user_id
        else:
            row.state, row.reason = "not_found", (reason or not_found_reason(platform))[:200]
    if not ctx.uow.imports.counts(batch_id).get("pending"):
        finish(ctx, batch, ctx.uow.cohorts.get(batch.cohort_id), notify=True)


def finish(ctx: Ctx, batch: ImportBatch, cohort: Cohort | None, *, notify: bool) -> Message:
    """Every row is settled: the preview, sent to the coordinator's DM when it was worked out in
    the background."""
    batch.status = "ready"
    message = preview_message(ctx, batch, cohort)
    if notify and batch.user_id:  # an operator's import at the command line reads it there instead
        queue(ctx.uow, f"import-preview:{batch.id}", to_user(batch.coordinator), message, ctx.now)
    return message


def preview_message(ctx: Ctx, batch: ImportBatch, cohort: Cohort | None) -> Message:
    counts = ctx.uow.imports.counts(batch.id)
    found, missing, checks = counts.get("found", 0), counts.get("not_found", 0), len(batch.checks)
    name = escape(cohort.name if cohort else "")
    summary = f"{found} found, {missing} not found, {checks} {'value' if checks == 1 else 'values'} to check"
    blocks: list[Any] = [
        Section(f"Survey import for **{name}** from {escape(batch.filename)}: **{summary}**.")
    ]
    if checks:
        lines = [f"• column {escape(c['column'])}: “{escape(c['value'])}” → {escape(c['suggestion'])} "
                 f"(line{'s' if len(c['lines']) > 1 else ''} {', '.join(map(str, c['lines']))})"
                 for c in batch.checks[:SHOWN]]  # fmt: skip
        more = f"\n…and {checks - SHOWN} more" if checks > SHOWN else ""
        blocks.append(
            Section(
                "**Values to check**: I'll use my suggestion unless you cancel and correct the "
                "file (or add the answer to the synonyms table).\n" + "\n".join(lines) + more
            )
        )
    if missing:
        rows = ctx.uow.imports.rows(batch.id, "not_found", limit=SHOWN)
        lines = [
            f"• line {r.line}, {escape(r.email) if r.email else 'no email'}: {escape(r.reason)}" for r in rows
        ]
        more = f"\n…and {missing - SHOWN} more" if missing > SHOWN else ""
        blocks.append(
            Section("**Not found** (export them to invite them by email):\n" + "\n".join(lines) + more)
        )
    buttons = [Button(f"Import {found}", "import_confirm", str(batch.id), style="primary")] if found else []
    if missing:
        buttons.append(Button("Export not found", "import_not_found", str(batch.id)))
    buttons.append(Button("Cancel", "import_cancel", str(batch.id), style="danger"))
    blocks.append(Actions(tuple(buttons)))
    blocks.append(
        Context(
            "Importing registers the people found as invited: each is asked in their DM to "
            "confirm their details and consent, and nobody is matched until they do."
        )
    )
    return Message(f"Survey import for {cohort.name if cohort else ''}: {summary}.", tuple(blocks))


# ---- 4. import, cancel, export, confirm -------------------------------------------------------------


STAGE_SLICE = 500  # people staged per transaction (each with a welcome: about as long as the reveal)


def import_staged(
    run: Run[Any],
    actor: UserRef,
    batch_id: int,
    *,
    stage_slice: int = STAGE_SLICE,
    step: Callable[[str], None] | None = None,
) -> tuple[int, int, int]:
    """Everyone found, without a long write lock, all or nothing: (new, updated, not found).

    1. **begin**: the batch must be ready (or importing: an attempt cut short is run again);
    2. **stage**, a slice at a time, each person and the welcome for each new one, unseen (staged
       people are in a table of their own, staged welcomes are not sent);
    3. **reveal**, in one short transaction of set-wise statements: the staged people join the
       cohort (or update who is there), the welcomes are released, the batch is imported.

    A crash before the reveal leaves nothing visible; pressing Import again stages what is missing
    (staging twice keeps one of each) and reveals. Another attempt running at the same time is
    harmless: only one reveal finds the batch still importing."""
    done = step or (lambda _name: None)
    cohort_id, existing = run(lambda ctx: _begin(ctx, batch_id))
    done("begin")
    after = 0
    while True:
        after = run(partial(_stage_slice, batch_id=batch_id, cohort_id=cohort_id, existing=existing, after=after,
                            size=stage_slice))  # fmt: skip
        done("stage")
        if not after:
            break
    counts = run(lambda ctx: _reveal(ctx, actor, batch_id))
    done("reveal")
    return counts


def _begin(ctx: Ctx, batch_id: int) -> tuple[int, dict[str, tuple[int, str]]]:
    batch = ctx.uow.imports.get(batch_id)
    if batch is None or batch.status not in ("ready", "importing"):
        raise Refusal(_moved_on(batch) if batch else "That import no longer exists: send the file again.")
    batch.status = "importing"
    return batch.cohort_id, {
        p.user_id: (p.id, p.email) for p in ctx.uow.participants.in_cohort(batch.cohort_id)
    }


def _stage_slice(
    ctx: Ctx, batch_id: int, cohort_id: int, existing: Mapping[str, tuple[int, str]], after: int, size: int
) -> int:
    """Stage the found rows after line ``after``; the last line staged (0: none left)."""
    batch, cohort = ctx.uow.imports.get(batch_id), ctx.uow.cohorts.get(cohort_id)
    if batch is None or cohort is None or batch.status != "importing":
        return 0  # cancelled or finished meanwhile
    rows = ctx.uow.imports.rows(batch_id, "found", limit=size, after_line=after)
    people: list[dict[str, Any]] = []
    welcomes: list[tuple[str, dict[str, Any], Message]] = []
    for row in rows:
        profile = Profile(**row.profile)
        known = existing.get(row.user_id)
        people.append({**_answers(profile), "user_id": row.user_id, "participant_id": known[0] if known else None,
                       "email": row.email or (known[1] if known else "")})  # fmt: skip
        if known is None:
            person = Participant(cohort_id=cohort.id, platform=cohort.platform, workspace=cohort.workspace,
                                 user_id=row.user_id, display_name=profile.display_name, role=profile.role,
                                 email=row.email, status=Status.INVITED)  # fmt: skip
            apply(person, profile)
            welcomes.append(
                (_welcome_key(batch_id) + row.user_id, to_user(person.ref), welcome(cohort, person))
            )
    ctx.uow.imports.stage(batch_id, people)
    queue_many(ctx.uow, welcomes, ctx.now, staged=True)
    return rows[-1].line if rows else 0


def _reveal(ctx: Ctx, actor: UserRef, batch_id: int) -> tuple[int, int, int]:
    batch = ctx.uow.imports.get(batch_id)
    cohort = ctx.uow.cohorts.get(batch.cohort_id) if batch else None
    if batch is None or cohort is None or batch.status != "importing":
        raise Refusal(_moved_on(batch) if batch else "That import no longer exists: send the file again.")
    counts = ctx.uow.imports.counts(batch_id)
    if ctx.uow.imports.staged_count(batch_id) != counts.get("found", 0):
        raise Refusal("I'm still importing that file; I'll tell you when it's done.")  # another attempt
    created, updated = ctx.uow.imports.reveal(batch_id, cohort.id, cohort.platform, cohort.workspace,
                                              _welcome_key(batch_id), ctx.now)  # fmt: skip
    missing = counts.get("not_found", 0)
    ctx.uow.imports.drop_rows(batch_id, ("found",))  # kept only for the not-found export
    batch = ctx.uow.imports.get(batch_id)
    assert batch is not None
    batch.status, batch.finished_at = "imported", ctx.now
    ctx.audit(
        cohort, actor, "import", created=created, updated=updated, not_found=missing, source=batch.filename
    )
    return created, updated, missing


def _welcome_key(batch_id: int) -> str:
    return f"import-welcome:{batch_id}:"


def welcome(cohort: Cohort, person: Participant) -> Message:
    name = escape(person.display_name)
    text = (f"Hello {name}! You signed up for the buddy scheme **{escape(cohort.name)}** in a survey, and "
            f"your coordinator has added you. From your answers: {describe(person)}.\n"
            "Please check these details and confirm that you agree to take part and for coordinators to use "
            "your details to match you. I won't match you with a buddy until you do.")  # fmt: skip
    return Message(
        f"Please confirm your details for {cohort.name}",
        (Section(text), Actions((
            Button("Confirm and agree", "invite_confirm", str(cohort.id), style="primary"),
            Button("Edit my details", "profile", "", opens_form=True),
        ))),
    )  # fmt: skip


def confirm(ctx: Ctx, person: Participant, cohort: Cohort) -> Message:
    if person.status != Status.INVITED:
        return Message.simple(f"You've already confirmed: you're registered for **{escape(cohort.name)}**.")
    person.status, person.consent_data, person.last_active_at = Status.REGISTERED, True, ctx.now
    ctx.audit(cohort, person.ref, "confirm_invitation", participant=person.id)
    return Message.simple(f"Thank you: you're registered for **{escape(cohort.name)}**. I'll introduce you to "
                          "your buddy when the coordinators next run matching. Use `profile` to change your "
                          "details at any time.")  # fmt: skip


def not_found_csv(ctx: Ctx, batch: ImportBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "name", "email", "reason"])
    for row in ctx.uow.imports.rows(batch.id, "not_found"):
        writer.writerow([row.line, row.profile.get("display_name", ""), row.email, row.reason])
    return out.getvalue()


def expire(ctx: Ctx) -> int:
    """A periodic job: imports left waiting for their coordinator (the column mapping, or the
    preview's Import) for a day are dropped with the answers they hold, and the coordinator is
    told once. Imports still looking people up are left to finish."""
    expired = ctx.uow.imports.waiting(ctx.now - EXPIRES_AFTER)
    for batch in expired:
        batch.status, batch.text, batch.finished_at = "expired", "", ctx.now
        ctx.uow.imports.drop_rows(batch.id)
        ctx.uow.imports.discard_staged(batch.id, _welcome_key(batch.id))  # an Import cut short
        if batch.user_id:  # an operator's import at the command line has nobody to tell
            cohort = ctx.uow.cohorts.get(batch.cohort_id)
            where = f" for **{escape(cohort.name)}**" if cohort else ""
            waited = "its column mapping" if batch.mapping == {} else "your Import or Cancel"
            queue(ctx.uow, f"import-expired:{batch.id}", to_user(batch.coordinator), Message.simple(
                f"Your import of {escape(batch.filename)}{where} expired: it waited a day for {waited}, so I've "
                "deleted the answers it held and nothing was imported. Send the file again with `import` when "
                "you're ready."), ctx.now)  # fmt: skip
    return len(expired)


def _moved_on(batch: ImportBatch) -> str:
    return {"imported": "That import is done already.", "cancelled": "That import was cancelled.",
            "expired": "That import expired after waiting a day: send the file again with `import`.",
            "checking": "I'm still looking people up for that import; the preview will follow.",
            "importing": "I'm importing that file now; I'll tell you when it's done."}.get(
        batch.status, "That import isn't ready yet.")  # fmt: skip


def _import(call: Call) -> InTransactions:
    """Import in short transactions (:func:`import_staged`): a national survey never holds the
    write lock for long, and a crash leaves it wholly imported or not at all."""
    batch, cohort, actor = call.target, call.the_cohort, call.user
    if batch.status not in ("ready", "importing"):
        raise Refusal(_moved_on(batch))
    return InTransactions(lambda run: imported_message(cohort.name, *import_staged(run, actor, batch.id)))


def imported_message(cohort_name: str, created: int, updated: int, missing: int) -> Message:
    text = (f"Imported into **{escape(cohort_name)}**: {created} new, {updated} updated. I've asked each new "
            "person in their DM to confirm their details; nobody is matched until they do.")  # fmt: skip
    if missing:
        text += f" {missing} not found: use **Export not found** to invite them by email."
    return Message.simple(text)


def _cancel(call: Call) -> Message:
    batch = call.target
    if batch.status in ("imported", "cancelled", "expired"):
        raise Refusal(_moved_on(batch))
    batch.status, batch.text, batch.finished_at = "cancelled", "", call.ctx.now
    call.ctx.uow.imports.drop_rows(batch.id)
    call.ctx.uow.imports.discard_staged(batch.id, _welcome_key(batch.id))
    return Message.simple(f"Cancelled: nothing was imported from {escape(batch.filename)}.")


def _export_not_found(call: Call) -> Message:
    batch, cohort = call.target, call.the_cohort
    text = not_found_csv(call.ctx, batch)
    count = text.count("\n") - 1
    if call.ctx.caps(call.user.platform).send_files:
        return Message(f"{counted(count, 'person')} not found", (Section(
            f"{count} {'person' if count == 1 else 'people'} from {escape(batch.filename)} weren't found: their "
            "names and emails are in the CSV file, to send them an invitation."),),
            file=FileAttachment(f"not-found-{batch.id}.csv", text, title=f"Not found: {cohort.name}"))  # fmt: skip
    body = escape(text) if len(text) < 2800 else escape(text[:2800]) + "\n…"
    return Message(f"{counted(count, 'person')} not found", (Section(f"{count} not found:"), Section(body)))


@target("import_batch")
def _batch(ctx: Ctx, user: UserRef, value: str) -> tuple[ImportBatch, Cohort]:
    batch = (
        ctx.uow.imports.get(int(value)) if value.isascii() and value.isdigit() and len(value) < 19 else None
    )
    cohort = ctx.uow.cohorts.get(batch.cohort_id) if batch else None
    if batch is None or cohort is None or not in_workspace(cohort, user):
        raise Refusal("That import no longer exists: send the file again with `import`.")
    return batch, cohort


@target("invitation")
def _invitation(ctx: Ctx, user: UserRef, value: str) -> tuple[Participant, Cohort]:
    """The actor's own membership of the cohort they were invited to."""
    cohort = (
        ctx.uow.cohorts.get(int(value)) if value.isascii() and value.isdigit() and len(value) < 19 else None
    )
    person = ctx.uow.participants.find(cohort.id, user) if cohort and in_workspace(cohort, user) else None
    if cohort is None or person is None or person.status == Status.LEFT:
        raise Refusal("That invitation is out of date: use `join` to sign up.")
    return person, cohort


def _erase_rows(ctx: Ctx, user: UserRef) -> int:
    rows = ctx.uow.imports.rows_for(user)
    for row in rows:  # the row stays counted in its import; what it said about the person goes
        if row.state == "found":  # and leaves an Import cut short, which would otherwise bring it in
            ctx.uow.imports.discard_staged(
                row.batch_id, _welcome_key(row.batch_id) + row.user_id, row.user_id
            )
        row.profile, row.email, row.user_id, row.state, row.reason = (
            {},
            "",
            "",
            "not_found",
            "erased on request",
        )
    return len(rows)


holding(
    "survey import rows (answers waiting to be imported)",
    export=lambda ctx, user: [
        {"line": r.line, "email": r.email, "answers": r.profile} for r in ctx.uow.imports.rows_for(user)
    ],
    erase=_erase_rows,
)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


ROUTES = (
    form(MAPPING_FORM, lambda call: submit_mapping(call.ctx, call.the_cohort, call.target, call.values),
         who=Who.COORDINATOR, target="import_batch", error_field="display_name"),
    button("import_confirm", _import, who=Who.COORDINATOR, target="import_batch"),
    button("import_cancel", _cancel, who=Who.COORDINATOR, target="import_batch"),
    button("import_not_found", _export_not_found, who=Who.COORDINATOR, target="import_batch"),
    button("invite_confirm", lambda call: confirm(call.ctx, call.target, call.the_cohort), who=Who.ANYONE,
           target="invitation"),
)  # fmt: skip
