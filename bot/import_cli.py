"""``buddybot import FILE --cohort NAME [--mapping saved|interactive] [--dry-run]``: the chat's
import at the command line.

A file with a platform user id column is imported at once, as before (``--skip-invalid`` imports
the good rows). A survey export (SurveyMonkey, Microsoft Forms, Google Forms; CSV or XLSX) is read
with the cohort's saved column mapping (``--mapping saved``), or one chosen here question by
question (``--mapping interactive``); without the option the saved mapping is used when it fits,
else the guesses from the headings when they cover every field Buddy needs. Every row is checked
first (problems printed by line and column; nothing imported), then the people are looked up by
work email on the cohort's platform (Slack or Microsoft Graph, as configured in the environment),
at the platform's pace. The summary reads as in chat, "47 found, 3 not found, 2 values to check";
then everyone found is imported as invited and welcomed in their DM, and those not found are
written to ``FILE-not-found.csv`` for an invitation email. ``--dry-run`` stops after the summary
and writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from adapters.memory.messenger import render_text
from adapters.uploads import decode_text
from bot.bootstrap import Buddy
from conversations.core import survey
from conversations.core.model import ImportBatch
from conversations.flows import csv_import, survey_import
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.ports.directory import Directory


def run(
    args: argparse.Namespace,
    buddy: Buddy,
    *,
    ask: Callable[[str], str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err, ask = out or sys.stdout, err or sys.stderr, ask or input
    try:
        body = args.file.read_bytes()
    except OSError as error:
        print(f"buddybot: cannot read {args.file}: {error.strerror or error}", file=err)
        return 2
    text, problem = decode_text(body)
    if problem:
        print(f"buddybot: {args.file}: {problem}", file=err)
        return 2
    if csv_import.has_platform_ids(text):
        return _with_ids(args, buddy, text, out, err)
    try:
        table = survey.read(text)
    except survey.TableError as error:
        print(f"{args.file}, {error}", file=err)
        return 1
    cohort_settings = buddy.engine.run(lambda ctx: _cohort(ctx, args.cohort).settings)
    mapping = _mapping(args, table, cohort_settings.get(survey_import.SETTING), ask, out, err)
    if mapping is None:
        return 2
    prepared = survey_import.prepare(table, mapping)
    for line in prepared.problems:
        print(f"{args.file}, {line}", file=err)
    if prepared.problems:
        count = len(prepared.problems)
        print(f"Nothing imported: {'1 row has' if count == 1 else f'{count} rows have'} problems.", file=out)
        return 1
    if args.dry_run:
        return _dry_run(args, buddy, prepared, out)
    return _import(args, buddy, table, mapping, prepared, out)


def _cohort(ctx: Ctx, name: str) -> Any:
    cohort = ctx.uow.cohorts.by_name(name)
    if cohort is None:
        raise Refusal(f"There is no cohort called “{name}”.")
    return cohort


def _with_ids(args: argparse.Namespace, buddy: Buddy, text: str, out: TextIO, err: TextIO) -> int:
    """The import of a file that names people by platform id (no lookups)."""
    if args.dry_run:
        report = _rolled_back(
            buddy, lambda ctx: csv_import.import_named(ctx, args.cohort, text, args.skip_invalid)
        )
    else:
        report = buddy.engine.import_csv(args.cohort, text, args.skip_invalid)
    for problem in report.errors:
        print(f"{args.file}, {problem}", file=err)
    print(("Dry run: " if args.dry_run else "") + report.summary(), file=out)
    return 0 if report.imported else 1


def _rolled_back(buddy: Buddy, work: Callable[[Ctx], Any]) -> Any:
    engine = buddy.engine
    with buddy.uow() as uow:
        ctx = Ctx(uow, engine.clock.now(), engine.seed, engine.capabilities, engine.admins, engine.routes)
        try:
            return work(ctx)
        finally:
            uow.rollback()


def _mapping(
    args: argparse.Namespace,
    table: survey.Table,
    saved: object,
    ask: Callable[[str], str],
    out: TextIO,
    err: TextIO,
) -> dict[str, str] | None:
    fits = isinstance(saved, dict) and survey_import.fits(table, saved)
    if args.mapping == "saved" or (args.mapping is None and fits):
        if not fits:
            print(f"buddybot: the cohort {args.cohort} has no saved mapping that fits this file; run with "
                  "--mapping interactive (or import it once in chat).", file=err)  # fmt: skip
            return None
        assert isinstance(saved, dict)
        return dict(saved)
    guessed = survey.guess(table)
    if args.mapping is None:
        missing = [survey.FIELDS[n] for n in survey.REQUIRED if n not in guessed]
        if missing:
            print(f"buddybot: I can't tell which question holds: {', '.join(missing)}. Run with "
                  "--mapping interactive to choose.", file=err)  # fmt: skip
            return None
        return guessed
    return _interactive(table, dict(saved) if fits and isinstance(saved, dict) else guessed, ask, out)


def _interactive(
    table: survey.Table, start: Mapping[str, str], ask: Callable[[str], str], out: TextIO
) -> dict[str, str]:
    """Each of Buddy's fields, with the question it comes from: Enter keeps the suggestion, a number
    chooses another, ``-`` none."""
    names = survey.first_last(table)
    print(survey_import.preview(table).replace("**", ""), file=out)
    print("\nQuestions in the file:", file=out)
    for i, question in enumerate(table.questions, start=1):
        print(f"  {i:>2}. {question.heading}", file=out)
    if names:
        print(f"   0. {names[0]} + {names[1]}", file=out)
    chosen: dict[str, str] = {}
    for name, label in survey.FIELDS.items():
        current = start.get(name, "")
        shown = f"{names[0]} + {names[1]}" if current == survey.FIRST_LAST and names else current or "none"
        while True:
            answer = ask(f"{label} [{shown}]: ").strip()
            if not answer:
                heading = current
            elif answer == "-":
                heading = ""
            elif answer == "0" and names:
                heading = survey.FIRST_LAST
            elif answer.isdigit() and 1 <= int(answer) <= len(table.questions):
                heading = table.questions[int(answer) - 1].heading
            else:
                print(f"  Please give a number from the list, Enter for [{shown}] or - for none.", file=out)
                continue
            if not heading and name in survey.REQUIRED:
                print(f"  Buddy needs each person's {label.lower()}: choose a question.", file=out)
                continue
            break
        if heading == survey.FIRST_LAST and names:
            chosen[name], chosen["first_name"], chosen["last_name"] = heading, names[0], names[1]
        elif heading:
            chosen[name] = heading
    return chosen


def _directory(buddy: Buddy, platform: str) -> Directory | None:
    return buddy.directories.get(platform)


def _dry_run(args: argparse.Namespace, buddy: Buddy, prepared: survey_import.Prepared, out: TextIO) -> int:
    """The summary without writing anything: people are looked up, nothing is kept."""
    cohort = buddy.engine.run(lambda ctx: _cohort(ctx, args.cohort))
    known = buddy.engine.run(
        lambda ctx: {p.email.lower() for p in ctx.uow.participants.in_cohort(cohort.id) if p.email}
    )
    directory = _directory(buddy, cohort.platform)
    found, missing = 0, list[tuple[int, str, str, str]]()
    for line, email, profile in prepared.rows:
        if email and email in known:
            found += 1
        elif not email:
            missing.append((line, profile.display_name, email, survey_import.EMAIL_MISSING))
        elif directory is None:
            missing.append(
                (line, profile.display_name, email, survey_import.no_lookups_reason(cohort.platform))
            )
        elif asyncio.run(directory.find_by_email(cohort.workspace, email)):
            found += 1
        else:
            missing.append(
                (line, profile.display_name, email, survey_import.not_found_reason(cohort.platform))
            )
    checks = len(prepared.checks)
    print(f"Dry run: {found} found, {len(missing)} not found, {checks} {'value' if checks == 1 else 'values'} to check.",
          file=out)  # fmt: skip
    for check in prepared.checks.values():
        print(f"  check: column {check['column']}: “{check['value']}” → {check['suggestion']}", file=out)
    for line, name, email, reason in missing:
        print(f"  not found: line {line}, {name}, {email or 'no email'}: {reason}", file=out)
    print("Nothing was imported.", file=out)
    return 0


def _import(
    args: argparse.Namespace,
    buddy: Buddy,
    table: survey.Table,
    mapping: dict[str, str],
    prepared: survey_import.Prepared,
    out: TextIO,
) -> int:
    def stage(ctx: Ctx) -> int:
        cohort = _cohort(ctx, args.cohort)
        settings = dict(cohort.settings)
        settings[survey_import.SETTING] = mapping
        cohort.settings = settings
        batch = ctx.uow.imports.add(ImportBatch(cohort.id, cohort.platform, cohort.workspace, "", args.file.name[:255],
                                                created_at=ctx.now))  # fmt: skip
        survey_import.check(ctx, batch, cohort, table, mapping, prepared)
        return batch.id

    batch_id = buddy.engine.run(stage)
    pending = buddy.engine.run(lambda ctx: ctx.uow.imports.counts(batch_id).get("pending", 0))
    if pending:
        cohort = buddy.engine.run(lambda ctx: _cohort(ctx, args.cohort))
        directory = _directory(buddy, cohort.platform)
        minutes = pending / directory.per_minute if directory else 0
        print(f"Looking up {pending} people by work email (about {max(1, round(minutes))} min)…", file=out)
        asyncio.run(buddy.lookups().drain())

    def ready(ctx: Ctx) -> str:
        batch = ctx.uow.imports.get(batch_id)
        assert batch is not None
        return render_text(survey_import.preview_message(ctx, batch, ctx.uow.cohorts.get(batch.cohort_id)))

    preview = buddy.engine.run(ready)
    created, updated, missing = survey_import.import_staged(buddy.engine.run, OPERATOR, batch_id)
    not_found = buddy.engine.run(lambda ctx: survey_import.not_found_csv(ctx, ctx.uow.imports.get(batch_id)))  # type: ignore[arg-type]
    print(preview.split("\n[")[0], file=out)
    print(
        f"Imported: {created} new, {updated} updated (each new person is asked in their DM to confirm).",
        file=out,
    )
    if missing:
        path = args.not_found or args.file.with_name(f"{args.file.stem}-not-found.csv")
        Path(path).write_text(not_found, encoding="utf-8")
        print(f"{missing} not found: written to {path} to invite them by email.", file=out)
    return 0
