"""The ``buddybot`` command line: demo, database, import/export, task bank, cohorts, serve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.leader import LeadershipRefused
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, environment
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.flows.coordination import export_csv
from conversations.flows.reports import workbook
from conversations.taskbank.loader import TaskBankError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buddybot", description="Buddy: buddy schemes in Slack and Teams.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a whole round on a fresh SQLite file and print what people saw")
    demo.add_argument("--database", type=Path, default=Path("buddy-demo.db"))

    db = sub.add_parser("db", help="database migrations and backups")
    db.add_argument("action", choices=["upgrade", "current", "backup"])
    db.add_argument("file", type=Path, nargs="?", help="backup: the file to write (SQLite)")
    db.add_argument(
        "--dry-run", action="store_true", help="upgrade: list the pending migrations, change nothing"
    )

    sub.add_parser("doctor", help="check the settings, tokens, database and time zone; say what to fix")

    imp = sub.add_parser("import", help="import a survey export (CSV or Excel) into a cohort")
    imp.add_argument("file", type=Path)
    imp.add_argument("--cohort", required=True)
    imp.add_argument(
        "--mapping",
        choices=["saved", "interactive"],
        help="the cohort's saved column mapping, or choose each column now (default: saved if it fits)",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and look people up, but import nothing")
    imp.add_argument(
        "--not-found", type=Path, help="where to write those not found (default: FILE-not-found.csv)"
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="files with platform user ids: import the valid rows even if some are bad",
    )

    exp = sub.add_parser("export", help="export a cohort: participants and progress as CSV, or the XLSX "
                         "(participants, groups, progress per task, consented answers)")  # fmt: skip
    exp.add_argument("--cohort", required=True)
    exp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    exp.add_argument("--out", "--output", "-o", dest="output", type=Path, help="the file (xlsx needs one)")

    tasks = sub.add_parser("tasks", help="the task bank")
    tasks.add_argument("action", choices=["list", "load"])
    tasks.add_argument("file", type=Path, nargs="?")

    cohort = sub.add_parser("cohort", help="create a cohort (operators; coordinators use chat commands)")
    cohort.add_argument("action", choices=["create", "list"])
    cohort.add_argument("name", nargs="?")
    cohort.add_argument("--platform", choices=["slack", "teams", "memory"], default="slack")
    cohort.add_argument("--workspace", help="Slack team id or Teams tenant id")
    cohort.add_argument("--coordinator", action="append", default=[], help="platform user id (repeatable)")
    cohort.add_argument("--region", default="")

    outbox = sub.add_parser("outbox", help="posts whose delivery is unknown (held): list them, or settle one")
    outbox.add_argument("action", choices=["held", "settle"])
    outbox.add_argument("id", nargs="?", type=int, help="the held post's id (settle)")
    how = outbox.add_mutually_exclusive_group()
    how.add_argument("--arrived", action="store_true", help="record it as delivered")
    how.add_argument("--resend", action="store_true", help="send it again")

    forget = sub.add_parser("forget", help="erase a person's data on their request (UK GDPR)")
    forget.add_argument("user_id", help="their Slack member ID or Teams (AAD) user id")
    forget.add_argument("--platform", choices=["slack", "teams"], default="slack")
    forget.add_argument("--workspace", required=True, help="Slack team id or Teams tenant id")
    forget.add_argument("--yes", action="store_true", help="do it (without: show what would be erased)")

    mydata = sub.add_parser("mydata", help="a subject access request: everything held about a person")
    mydata.add_argument("user_id", help="their Slack member ID or Teams (AAD) user id")
    mydata.add_argument("--platform", choices=["slack", "teams"], default="slack")
    mydata.add_argument("--workspace", required=True, help="Slack team id or Teams tenant id")
    mydata.add_argument("--output", "-o", type=Path, default=Path("."), help="folder for the two files")

    audit = sub.add_parser("audit", help="the audit log, readable (who, which cohort, how many rows)")
    audit.add_argument("--cohort", help="only this cohort's entries")
    audit.add_argument("--limit", type=int, default=500)

    retention = sub.add_parser("retention", help="apply the retention schedule now (or list what would go)")
    retention.add_argument("--dry-run", action="store_true", help="only list what would be removed")

    serve = sub.add_parser("serve", help="run the web server, scheduler and sender")
    serve.add_argument("--role", choices=["all", "web", "worker"], default="all")

    package = sub.add_parser("teams-package", help="build the Teams app package (zip) to upload")
    package.add_argument("--app-id", help="the bot's Microsoft app id (default: MICROSOFT_APP_ID)")
    package.add_argument("--output", "-o", type=Path, default=Path("buddy-teams.zip"))

    args = parser.parse_args(argv)
    try:
        env = environment()
    except SettingsError as error:
        print(f"buddybot: {error}", file=sys.stderr)
        return 2
    configure_logging(env)
    if args.command == "doctor":
        from bot.doctor import run_doctor

        return run_doctor(env, sys.stdout)
    try:
        settings = Settings.from_env(env, web=args.command == "serve")
        extra = env.get("BUDDY_SYNONYMS", "").strip()
        if extra:  # a deployment's own answers -> Buddy's vocabulary, for survey imports
            from conversations.core import normalise

            try:
                normalise.SYNONYMS.extend(normalise.load(extra))
            except (OSError, ValueError) as error:
                raise SettingsError(f"BUDDY_SYNONYMS ({extra}): {error}") from error
        return _run(args, settings)
    except (SettingsError, TaskBankError, Refusal, LeadershipRefused) as error:
        print(f"buddybot: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap

    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(args.database)
    if args.command == "serve":
        from bot.serve import serve

        return serve(settings, args.role, environment())
    if args.command == "teams-package":
        from adapters.teams import build_package

        app_id = args.app_id or environment().get("MICROSOFT_APP_ID", "")
        if not app_id:
            print("buddybot: teams-package needs --app-id or MICROSOFT_APP_ID", file=sys.stderr)
            return 2
        graph_app_id = environment().get("BUDDY_GRAPH_CLIENT_ID", "").strip()  # for installs by Graph
        print(f"wrote {build_package(args.output, app_id, graph_app_id=graph_app_id)}")
        return 0
    if args.command == "db":
        return _db(settings, args)
    if args.command == "import":
        from bot.import_cli import run as run_import

        return run_import(args, _with_platforms(settings))
    buddy = bootstrap(settings.database_url, {}, seed=settings.seed, admins=settings.admins)
    if args.command == "export":
        if args.format == "xlsx" and not args.output:
            print("An XLSX export needs a file: add --out FILE.xlsx.", file=sys.stderr)
            return 2

        def work(ctx: Ctx) -> str | bytes:
            cohort = ctx.uow.cohorts.by_name(args.cohort)
            if cohort is None:
                raise Refusal(f"There is no cohort called “{args.cohort}”.")
            ctx.audit(cohort, OPERATOR, "export_xlsx" if args.format == "xlsx" else "export")
            return workbook(ctx, cohort) if args.format == "xlsx" else export_csv(ctx, cohort)

        text = buddy.engine.run(work)
        if isinstance(text, bytes):
            args.output.write_bytes(text)
            print(f"wrote the spreadsheet of {args.cohort} to {args.output}")
        elif args.output:
            args.output.write_text(text, encoding="utf-8")
            print(f"wrote {text.count(chr(10)) - 1} rows to {args.output}")
        else:
            sys.stdout.write(text)
        return 0
    if args.command == "tasks":
        return _tasks(buddy, args)
    if args.command == "cohort":
        return _cohort(buddy, args)
    if args.command == "outbox":
        return _outbox(buddy, args)
    if args.command == "forget":
        return _forget(buddy, args)
    if args.command == "mydata":
        return _mydata(buddy, args)
    if args.command == "audit":
        return _audit(buddy, args)
    if args.command == "retention":
        return _retention(buddy, args, settings)
    raise AssertionError(args.command)


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from storage.database import make_engine
    from storage.migrate import current, head, pending, upgrade

    if args.action == "backup":
        from storage.backup import BackupError, backup

        if args.file is None:
            print("buddybot: db backup needs a FILE to write, e.g. buddybot db backup buddy-2026-12-01.db",
                  file=sys.stderr)  # fmt: skip
            return 2
        try:
            print(backup(settings.database_url, args.file).summary())
        except BackupError as error:
            print(f"buddybot: {error}", file=sys.stderr)
            return 1
        return 0
    engine = make_engine(settings.database_url)
    if args.action == "upgrade" and args.dry_run:
        steps = pending(engine)
        print(f"database at revision {current(engine) or 'none (empty)'}; this Buddy knows up to {head()}")
        for revision, what in steps:
            print(f"  would apply {revision}: {what}")
        print(f"{len(steps)} pending; nothing changed" if steps else "nothing to do: migrations are current")
        return 0
    if args.action == "upgrade":
        upgrade(engine)
    print(f"database at revision {current(engine)}")
    return 0


def _wire_caches(buddy, platform: str) -> None:  # type: ignore[no-untyped-def]
    """At the command line no adapter runs: reach the Teams adapter's tables directly."""
    if platform == "teams":
        from adapters.teams.references import ReferenceStore
        from bot.caches import wire_teams

        wire_teams(ReferenceStore(buddy.db))


def _mydata(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.core.refs import UserRef
    from conversations.flows import erasure, privacy
    from conversations.flows.context import OPERATOR

    user = UserRef(args.platform, args.workspace, args.user_id)
    _wire_caches(buddy, args.platform)

    def work(ctx: Ctx) -> dict:  # type: ignore[type-arg]
        if not erasure.holds_anything(ctx, user):
            raise Refusal(
                f"Nobody with the {user.platform} id {user.user_id} in workspace {user.workspace} is registered."
            )
        data = privacy.subject_access(ctx, user)
        ctx.audit(None, OPERATOR, "mydata", rows=privacy.count_rows(data), by="operator")
        return data

    data = buddy.engine.run(work)
    args.output.mkdir(parents=True, exist_ok=True)
    stem = f"buddy-mydata-{args.platform}-{args.user_id}"
    readable, machine = args.output / f"{stem}.md", args.output / f"{stem}.json"
    readable.write_text(privacy.as_markdown(data), encoding="utf-8")
    machine.write_text(privacy.as_json(data), encoding="utf-8")
    print(
        f"wrote {readable} and {machine}: {privacy.count_rows(data)} records. Send both to the person securely."
    )
    return 0


def _audit(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.flows import privacy

    def work(ctx: Ctx) -> list[str]:
        cohort = None
        if args.cohort:
            cohort = ctx.uow.cohorts.by_name(args.cohort)
            if cohort is None:
                raise Refusal(f"There is no cohort called “{args.cohort}”.")
        return privacy.audit_lines(ctx, cohort, args.limit)

    lines = buddy.engine.run(work)
    for line in lines:
        print(line)
    print(f"{len(lines)} entries" + (f" for {args.cohort}" if args.cohort else ""))
    return 0


def _retention(buddy, args: argparse.Namespace, settings: Settings) -> int:  # type: ignore[no-untyped-def]
    from conversations.flows import retention

    policy = settings.retention
    for line in policy.describe():
        print(f"keep {line}")
    if args.dry_run:
        due = buddy.engine.run(lambda ctx: retention.plan(ctx, policy))
        for line in due.lines():
            print(f"would remove {line}")
        print(f"{due.total()} would go. Nothing changed (dry run).")
        return 0
    total = retention.Due()
    while True:
        done = buddy.engine.run(lambda ctx: retention.apply(ctx, policy))
        for name, value in vars(done).items():
            setattr(total, name, getattr(total, name) + value)
        if not done.total():
            break
    for line in total.lines():
        print(f"removed {line}")
    return 0


def _with_platforms(settings: Settings):  # type: ignore[no-untyped-def]
    """Buddy with the platforms configured in the environment, if any: an import looks people up by
    email there, and their welcomes wait in the outbox for the worker."""
    from bot.bootstrap import bootstrap
    from bot.serve import Platforms, configure_platforms
    from storage.database import make_engine
    from storage.migrate import upgrade

    db = make_engine(settings.database_url)
    upgrade(db)
    try:
        platforms = configure_platforms(environment(), db)
    except SettingsError as error:
        if "No platform is configured" not in str(error):
            raise
        platforms = Platforms()
    return bootstrap(db, platforms.messengers, seed=settings.seed, admins=settings.admins, migrate=False,
                     directories=platforms.directories)  # fmt: skip


def _forget(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.core.refs import UserRef
    from conversations.flows import erasure

    user = UserRef(args.platform, args.workspace, args.user_id)
    if not args.yes:
        found = buddy.engine.run(
            lambda ctx: [(p.display_name, p.cohort_id) for p in erasure.registrations(ctx, user)]
        )
        for name, cohort_id in found:
            print(
                f"would forget {name} (cohort {cohort_id}): profile, answers, consent records, messages carrying "
                "their name or words, their id in groups, proposals and the audit; a group ends"
            )
        print("Nothing changed. Run again with --yes to erase.")
        return 0
    _wire_caches(buddy, args.platform)
    report = buddy.engine.run(lambda ctx: erasure.forget(ctx, user))
    print(report.summary(user))
    print("Messages already delivered stay in people's Slack or Teams history; Buddy cannot delete those.")
    return 0


def _outbox(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.flows import failures

    if args.action == "held":
        rows = buddy.engine.run(failures.held)
        for item, names in rows:
            print(f"{item.id:6}  {item.created_at:%Y-%m-%d %H:%M}  {item.key}  to {names or item.recipient.get('kind')}"
                  f"  ({item.error})")  # fmt: skip
        print(
            f"{len(rows)} held"
            + (": settle each with `buddybot outbox settle ID --arrived|--resend`" if rows else "")
        )
        return 0
    if args.id is None or not (args.arrived or args.resend):
        print("buddybot: outbox settle needs an ID and --arrived or --resend", file=sys.stderr)
        return 2
    message = buddy.engine.run(lambda ctx: failures.settle(ctx, None, str(args.id), resend=args.resend))
    print(message.text + (" The running worker sends it." if args.resend else ""))
    return 0


def _tasks(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.flows.bank import load_more

    if args.action == "load":
        if args.file is None:
            print("buddybot: tasks load needs a FILE", file=sys.stderr)
            return 2
        keys = buddy.engine.run(lambda ctx: load_more(ctx, args.file))
        print(f"loaded {len(keys)} tasks: {', '.join(keys)}")
        return 0
    for task in buddy.engine.run(lambda ctx: ctx.uow.tasks.all()):
        print(f"{task.key:28} {task.title} ({task.minutes} min, due in {task.due_days} days, {task.source})")
    return 0


def _cohort(buddy, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from conversations.core.model import Cohort, Coordinator

    if args.action == "list":
        for c in buddy.engine.run(lambda ctx: ctx.uow.cohorts.all()):
            print(f"{c.name} ({c.platform} {c.workspace}) round {c.current_round}")
        return 0
    if not args.name or not args.workspace or not args.coordinator:
        print(
            "buddybot: cohort create needs NAME, --workspace and at least one --coordinator", file=sys.stderr
        )
        return 2

    def work(ctx: Ctx) -> str:
        if ctx.uow.cohorts.by_name(args.name):
            raise Refusal(f"a cohort called “{args.name}” already exists")
        cohort = ctx.uow.cohorts.add(Cohort(name=args.name, platform=args.platform, workspace=args.workspace,
                                            region=args.region, created_at=ctx.now))  # fmt: skip
        for user_id in args.coordinator:
            ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, args.platform, args.workspace, user_id))
        return cohort.name

    print(f"created cohort {buddy.engine.run(work)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
