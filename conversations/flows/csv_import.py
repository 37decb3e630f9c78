"""Importing a survey export: map its columns, validate every row, import all or nothing.

A file with a platform user id column (Slack member ID or Teams user ID) is imported here at once:
survey tools name columns as they like, so each field accepts several headings (see ``COLUMNS``).
A real survey export, which has people's work emails instead, goes to
:mod:`conversations.flows.survey_import` (columns mapped once, people found by email, a preview).
Either way a display name is never an identity, and re-importing updates people instead of
duplicating.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.core import patient_data
from conversations.core.hygiene import hidden
from conversations.core.interactions import CloseForm, FileShared, FormErrors, Outcome, Reply, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Cohort, Participant
from conversations.core.profiles import Profile, apply, validate
from conversations.core.refs import UserRef
from conversations.core.routes import Lane, Parsed, Who, button, command, form, on
from conversations.core.views import Checkbox, FileUpload, Form, Message, Note
from conversations.flows import consent, survey_import
from conversations.flows.context import OPERATOR, Ctx, Refusal

COLUMNS: dict[str, tuple[str, ...]] = {
    "user_id": (
        "user id",
        "slack id",
        "slack member id",
        "member id",
        "teams id",
        "teams user id",
        "platform id",
    ),
    "display_name": ("name", "full name", "display name", "your name"),
    "email": ("email", "email address", "e-mail", "work email"),
    "role": ("role", "your role", "i am a"),
    "specialist_area": ("specialist area", "specialism", "management area"),
    "profession": ("profession",),
    "grade": ("grade", "your grade", "training grade", "band"),
    "specialty": ("specialty", "speciality", "clinical specialty"),
    "employer": ("employer", "organisation", "organization", "trust", "employing organisation"),
    "employer_type": ("employer type", "organisation type", "type of employer", "type of organisation"),
    "region": ("region", "nhs region"),
    "interests": ("interests", "areas of interest"),
    "consent_data": ("consent", "consent to take part", "i agree to take part", "data consent"),
    "consent_share": ("consent to share", "share learning", "may be quoted", "quote consent"),
}
REQUIRED = ("user_id", "display_name", "role", "grade", "employer", "employer_type", "region", "consent_data")
MAX_ROWS = 20000


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False

    def summary(self) -> str:
        if not self.imported:
            return f"Nothing imported: {len(self.errors)} rows have problems (use --skip-invalid to import the rest)."
        skipped = f", skipped {self.skipped} invalid rows" if self.skipped else ""
        return f"Imported: {self.created} new, {self.updated} updated{skipped}."


@dataclass
class ParsedRow:
    line: int
    user_id: str
    email: str
    profile: Profile


def parse(text: str) -> tuple[list[ParsedRow], list[RowError]]:
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "the file is empty")]
    mapping, errors = _map_header(header)
    if errors:
        return [], errors
    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, f"more than {MAX_ROWS} rows; split the file"))
            break
        if len(record) > len(header):
            errors.append(RowError(line, f"{len(record)} cells but the header has {len(header)} columns"))
            continue
        raw = {name: record[i].strip() if i < len(record) else "" for name, i in mapping.items()}
        user_id = raw.pop("user_id", "")
        email = raw.pop("email", "")
        profile, problems = validate(raw)
        for (
            name,
            i,
        ) in mapping.items():  # the same rule as for forms and commands (conversations.core.hygiene)
            found = hidden(record[i]) if i < len(record) else None
            if found:
                problems[name] = f"contains {found[1]}, a hidden character: remove it"
        if not user_id:
            problems["user_id"] = "the user id is empty (export the Slack member ID or Teams user ID)"
        elif not user_id.replace("-", "").replace(":", "").replace("_", "").isalnum() or len(user_id) > 64:
            problems["user_id"] = f"“{user_id[:70]}” doesn't look like a platform user id"
        elif user_id in seen:
            problems["user_id"] = f"{user_id} already appears on line {seen[user_id]}"
        for name in ("display_name", "grade", "employer"):
            findings = patient_data.findings(raw.get(name, ""))
            if findings:  # named, never echoed
                problems[name] = (
                    f"looks like patient data ({', '.join(patient_data.kinds(findings))}): take it out"
                )
        if email and ("@" not in email or len(email) > 254):
            problems["email"] = f"“{email[:60]}” isn't an email address"
        if problems:
            detail = "; ".join(f"{_heading(header, mapping, k)}: {msg}" for k, msg in problems.items())
            errors.append(RowError(line, detail))
            continue
        seen[user_id] = line
        rows.append(ParsedRow(line, user_id, email, profile))
    return rows, errors


def has_platform_ids(text: str) -> bool:
    """The file names people by their platform user id (this module's import), rather than only by
    email (a survey export: :mod:`conversations.flows.survey_import`)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    header = next(csv.reader([first], dialect), [])
    return "user_id" in _map_header(header)[0]


def _map_header(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    mapping: dict[str, int] = {}
    for index, heading in enumerate(header):
        norm = " ".join(heading.strip().lower().replace("_", " ").split()).rstrip("?:")
        for name, aliases in COLUMNS.items():
            if name not in mapping and (norm == name.replace("_", " ") or norm in aliases):
                mapping[name] = index
                break
    missing = [n for n in REQUIRED if n not in mapping]
    if missing:
        wanted = "; ".join(f"{n} (e.g. “{COLUMNS[n][0]}”)" for n in missing)
        return mapping, [RowError(1, f"missing columns: {wanted}")]
    return mapping, []


def _heading(header: list[str], mapping: dict[str, int], name: str) -> str:
    return f"column “{header[mapping[name]]}”" if name in mapping else name


def import_rows(ctx: Ctx, cohort: Cohort, rows: list[ParsedRow]) -> tuple[int, int]:
    created = updated = 0
    for row in rows:
        ref_platform, ref_workspace = cohort.platform, cohort.workspace
        existing = ctx.uow.participants.find(cohort.id, UserRef(ref_platform, ref_workspace, row.user_id))
        if existing is None:
            participant = Participant(
                cohort_id=cohort.id,
                platform=ref_platform,
                workspace=ref_workspace,
                user_id=row.user_id,
                display_name=row.profile.display_name,
                role=row.profile.role,
                email=row.email,
                registered_at=ctx.now,
            )
            apply(participant, row.profile)
            ctx.uow.participants.add(participant)
            created += 1
        else:
            apply(existing, row.profile)
            existing.email = row.email or existing.email
            updated += 1
        ref = UserRef(ref_platform, ref_workspace, row.user_id)
        consent.record_form(ctx, ref, cohort.id, cohort.name, row.profile.consent_data, row.profile.consent_share,
                            source="survey import")  # fmt: skip
    return created, updated


def run_import(
    ctx: Ctx, cohort: Cohort, text: str, skip_invalid: bool, actor: UserRef | None = None
) -> ImportReport:
    rows, errors = parse(text)
    report = ImportReport(errors=errors)
    header_broken = errors and errors[0].line == 1
    if (errors and not skip_invalid) or header_broken:
        return report
    report.created, report.updated = import_rows(ctx, cohort, rows)
    report.skipped = len(errors)
    report.imported = True
    ctx.audit(
        cohort,
        actor or OPERATOR,
        "import",
        created=report.created,
        updated=report.updated,
        skipped=report.skipped,
    )
    return report


# ---- importing from chat: a coordinator uploads the export in a form -------------------------------

FORM_ID = "import"
SHOWN_ERRORS = 8  # row problems listed in a form; the rest are counted


def _listed(report: ImportReport) -> str:
    """The first row problems, and how many more there are."""
    shown = "; ".join(str(e).rstrip(".") for e in report.errors[:SHOWN_ERRORS])
    hidden = len(report.errors) - SHOWN_ERRORS
    return shown + (f" (and {hidden} more)" if hidden > 0 else "")


def start(cohort: Cohort) -> ShowForm:
    fields = (
        Note(f"Import registrations into **{escape(cohort.name)}** from a survey export (SurveyMonkey, "
             "Microsoft Forms or Google Forms, as CSV or Excel). I check every row first: if any row has a "
             "problem I import nothing and tell you which."),
        FileUpload("file", "Survey export (CSV or Excel)", file_types=("csv", "xlsx"),
                   hint="As the survey tool exports it: one row per person."),
        Checkbox("skip_invalid", "Import the valid rows even if some rows have problems"),
    )  # fmt: skip
    return ShowForm(
        Form(FORM_ID, "Import registrations", fields, submit_label="Import", state=str(cohort.id))
    )


def submit(ctx: Ctx, actor: UserRef, cohort: Cohort, values: Mapping[str, object]) -> Outcome:
    """The form's state named ``cohort``, resolved and checked to be one the actor coordinates."""
    text = values.get("file")
    if not isinstance(text, str) or not text.strip():
        return FormErrors({"file": "Please choose the CSV file to import."})
    if not has_platform_ids(text):
        try:
            outcome = survey_import.begin(ctx, actor, cohort, "the survey export", text)
        except Refusal as refusal:
            return FormErrors({"file": str(refusal)})
        if isinstance(outcome, FormErrors):
            return FormErrors({"file": " ".join(outcome.errors.values())})
        return CloseForm(outcome.message) if isinstance(outcome, Reply) else outcome
    report = run_import(ctx, cohort, text, values.get("skip_invalid") is True, actor)
    problems = _listed(report)
    if not report.imported:
        advice = "" if report.errors and report.errors[0].line == 1 else \
            " Fix them and upload again, or tick the box to import the valid rows."  # fmt: skip
        rows = f"{len(report.errors)} rows have" if len(report.errors) != 1 else "1 row has"
        return FormErrors({"file": f"Nothing imported: {rows} problems: {problems}.{advice}"})
    text = f"{report.summary()} Cohort **{escape(cohort.name)}**."
    if report.errors:
        text += f"\nSkipped: {escape(problems)}."
    return CloseForm(Message.simple(text))


def shared_file(ctx: Ctx, actor: UserRef, filename: str, text: str, caption: str) -> Outcome:
    """A file sent in a chat: imported when it came with ``import`` (``import cohort=NAME
    skip-invalid``) from a coordinator; otherwise they are told how. Nothing is imported by accident."""
    command = ctx.routes.parse(caption) if caption.strip() and ctx.routes else None
    if not isinstance(command, Parsed) or command.name != "import":
        return Reply(Message.simple(
            f"I only read files sent to import registrations: send {escape(filename)} again with the message "
            "`import` (add `skip-invalid` to import the valid rows if some have problems)."))  # fmt: skip
    cohort = ctx.cohort_for_coordinator(actor, command.options.get("cohort"))
    if not has_platform_ids(text):
        return survey_import.begin(ctx, actor, cohort, filename, text)
    skip = "skip-invalid" in (a.lower() for a in command.args)
    report = run_import(ctx, cohort, text, skip, actor)
    problems = escape(_listed(report))
    if not report.imported:
        return Reply(Message.simple(
            f"Nothing imported from {escape(filename)}: {problems}. Fix the file and send it again, or send it "
            "with `import skip-invalid` to import the valid rows."))  # fmt: skip
    done = f"{report.summary()} Cohort **{escape(cohort.name)}**, from {escape(filename)}."
    return Reply(Message.simple(done + (f"\nSkipped: {problems}." if report.errors else "")))


def import_named(ctx: Ctx, cohort_name: str, text: str, skip_invalid: bool) -> ImportReport:
    """An operator's import at the command line, into the cohort called ``cohort_name``."""
    cohort = ctx.uow.cohorts.by_name(cohort_name)
    if cohort is None:
        raise Refusal(f"There is no cohort called “{cohort_name}”.")
    return run_import(ctx, cohort, text, skip_invalid)


ROUTES = (
    command("import", "import registrations from a survey export (CSV file)",
            lambda call: start(call.the_cohort), who=Who.COORDINATOR),
    button("cohort_import", lambda call: start(call.the_cohort), who=Who.COORDINATOR, target="cohort"),
    form(FORM_ID, lambda call: submit(call.ctx, call.user, call.the_cohort, call.values), who=Who.COORDINATOR,
         target="cohort"),
    on(FileShared, lambda call: shared_file(call.ctx, call.user, call.interaction.filename, call.interaction.text,
                                            call.interaction.caption), lane=Lane.COORDINATOR),
)  # fmt: skip
