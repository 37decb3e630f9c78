"""``buddybot doctor``: checks a deployment and says, in plain words, what is wrong and how to fix it.

Each check gives ``ok``, ``warning`` (works, but worth a look) or ``PROBLEM`` (something will not
work) with the fix. The exit code is 1 when there is a problem, 0 otherwise. Secrets are never
printed: a database URL is shown without its password, tokens not at all.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.logs import LogSettingsError, log_settings
from bot.settings import Settings, SettingsError

OK, WARNING, PROBLEM = "ok", "warning", "PROBLEM"
TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
MAX_CLOCK_SKEW = 60  # seconds; Slack rejects signatures 300 s away, Teams tokens 5 minutes
NETWORK_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "glusterfs", "ceph")


@dataclass
class Finding:
    status: str
    check: str
    what: str
    fix: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, status: str, check: str, what: str, fix: str = "") -> None:
        self.findings.append(Finding(status, check, what, fix))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status == PROBLEM]

    def render(self, out: TextIO) -> None:
        for f in self.findings:
            print(f"{f.status:8} {f.check}: {f.what}", file=out)
            if f.fix:
                print(f"{'':8} fix: {f.fix}", file=out)
        problems, warnings = len(self.problems), sum(f.status == WARNING for f in self.findings)
        if problems:
            print(f"\n{problems} problem{'s' * (problems != 1)}, {warnings} warning{'s' * (warnings != 1)}: "
                  "fix the problems above, then run `buddybot doctor` again.", file=out)  # fmt: skip
        else:
            print(f"\nNo problems ({warnings} warning{'s' * (warnings != 1)}).", file=out)


def run_doctor(env: Mapping[str, str], out: TextIO, *, teams_login_url: str = TEAMS_LOGIN_URL) -> int:
    report = Report()
    settings = _settings(env, report)
    slack = _slack_settings(env, report)
    teams = _teams_settings(env, report)
    if slack is None and teams is None and not any(f.check in ("slack", "teams") for f in report.findings):
        report.add(PROBLEM, "platforms", "neither Slack nor Teams is configured",
                   "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (docs/slack.md) or MICROSOFT_APP_ID and "
                   "MICROSOFT_APP_PASSWORD (docs/teams.md)")  # fmt: skip
    if slack is not None:
        _check_slack(slack, report, settings.database_url if settings is not None else None)
    if teams is not None:
        _check_teams(teams, report, teams_login_url)
    if settings is not None:
        _check_database(settings, report)
    _check_time_zone(env, report)
    print("Buddy doctor", file=out)
    report.render(out)
    return 1 if report.problems else 0


# ---- settings ---------------------------------------------------------------------------------


def _settings(env: Mapping[str, str], report: Report) -> Settings | None:
    settings = None
    try:
        settings = Settings.from_env(env, web=True)
        _database_url(settings.database_url)
    except SettingsError as error:
        settings = None
        report.add(PROBLEM, "settings", str(error), "correct it in the environment or the .env file")
    try:
        log_settings(env)
    except LogSettingsError as error:
        report.add(PROBLEM, "settings", str(error), "correct it in the environment or the .env file")
    from adapters.slack.settings import SlackSettingsError, workspace_rate

    try:
        workspace_rate(env)
    except SlackSettingsError as error:
        report.add(PROBLEM, "settings", str(error), "correct it in the environment or the .env file")
    if settings is not None:
        report.add(OK, "settings", f"database {_safe_url(settings.database_url)}, listening on "
                   f"{settings.host}:{settings.port}")  # fmt: skip
        if not settings.admins:
            report.add(WARNING, "settings", "BUDDY_ADMINS is empty: nobody can create a cohort from chat",
                       "set BUDDY_ADMINS to your Slack member id or Teams user id (comma-separated for several)")  # fmt: skip
        if settings.host not in ("127.0.0.1", "localhost", "::1"):
            report.add(WARNING, "settings", f"HOST={settings.host}: Buddy listens beyond this machine",
                       "put it behind the TLS reverse proxy and set HOST=127.0.0.1 (docs/operations.md)")  # fmt: skip
    return settings


def _slack_settings(env: Mapping[str, str], report: Report) -> Any:
    from adapters.slack.settings import SlackSettings, SlackSettingsError

    if not SlackSettings.is_configured(env):
        return None
    try:
        return SlackSettings.from_env(env)
    except SlackSettingsError as error:
        report.add(PROBLEM, "slack", str(error), "see docs/slack.md for the variables each mode needs")
        return None


def _teams_settings(env: Mapping[str, str], report: Report) -> Any:
    from adapters.teams import TeamsConfigError, TeamsSettings

    if not (env.get("MICROSOFT_APP_ID", "").strip() or env.get("BUDDY_TEAMS_DEV_MODE", "").strip()):
        return None
    try:
        return TeamsSettings.from_env(env)
    except TeamsConfigError as error:
        report.add(PROBLEM, "teams", str(error), "see docs/teams.md")
        return None


# ---- Slack --------------------------------------------------------------------------------------


def _check_slack(slack: Any, report: Report, database_url: str | None) -> None:
    from adapters.slack.settings import Mode

    if slack.mode != Mode.OAUTH:
        _check_slack_token(slack, slack.bot_token, "SLACK_BOT_TOKEN", report, clock=True)
        return
    if database_url is None:
        return
    try:
        installs = _installed_tokens(slack, database_url)
    except Exception as error:  # noqa: BLE001 - reported in words; the database check says more
        from adapters.slack.installation import TokenDecryptionError

        why = str(error) if isinstance(error, TokenDecryptionError) else type(error).__name__  # no URLs
        report.add(PROBLEM, "slack", f"cannot read the Slack installs ({why})",
                   "check SLACK_TOKEN_ENCRYPTION_KEY (the key the tokens were saved with must be in it) "
                   "and that the database is reachable")  # fmt: skip
        return
    if not installs:
        report.add(WARNING, "slack", "OAuth installs: no workspace has installed Buddy yet",
                   "open https://<your host>/slack/install in a browser and install it to a workspace")  # fmt: skip
        return
    for i, (team, token) in enumerate(installs):
        _check_slack_token(slack, token, f"the token installed for workspace {team}", report, clock=i == 0)


def _installed_tokens(slack: Any, database_url: str) -> list[tuple[str, str]]:
    """Each installed workspace's bot token, decrypted as Buddy would."""
    import asyncio

    from sqlalchemy import MetaData, Table, select

    from adapters.slack.installation import build_oauth_stores
    from storage.database import make_engine

    engine = make_engine(database_url)
    try:
        bots = Table("slack_bots", MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            teams = sorted({row[0] for row in connection.execute(
                select(bots.c.team_id).where(bots.c.client_id == slack.client_id))})  # fmt: skip
        store, _states = build_oauth_stores(engine, client_id=slack.client_id,
                                            encryption_keys=slack.token_encryption_key, create_tables=False)  # fmt: skip

        async def tokens() -> list[tuple[str, str]]:
            found = []
            for team in teams:
                bot = await store.async_find_bot(enterprise_id=None, team_id=team)
                if bot is not None and bot.bot_token:
                    found.append((team, bot.bot_token))
            return found

        return asyncio.run(tokens())
    finally:
        engine.dispose()


def _check_slack_token(slack: Any, token: str, name: str, report: Report, *, clock: bool) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from adapters.slack.settings import BOT_SCOPES

    client = WebClient(token=token, base_url=slack.api_base_url or WebClient.BASE_URL, timeout=10)
    client.retry_handlers = []  # one try: the doctor reports, it does not wait
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # its errors are reported below, in words
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown") if error.response is not None else "unknown"
        report.add(PROBLEM, "slack", f"Slack refused {name} ({code})",
                   "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page; if the "
                   "app was uninstalled or the token revoked, reinstall the app to the workspace first")  # fmt: skip
        return
    except Exception as error:  # noqa: BLE001 - network failures of every kind
        report.add(PROBLEM, "slack", f"cannot reach Slack ({type(error).__name__})",
                   "allow outbound HTTPS to slack.com from this server (or set HTTPS_PROXY)")  # fmt: skip
        return
    team = answer.get("team_id", "?")
    report.add(OK, "slack", f"{name}: valid for workspace {team} (bot user {answer.get('user_id', '?')})")
    headers = {k.lower(): v for k, v in answer.headers.items()}
    scopes_header = headers.get("x-oauth-scopes")
    if isinstance(scopes_header, list):  # some HTTP clients give each header as a list
        scopes_header = ",".join(scopes_header)
    granted = {s.strip() for s in (scopes_header or "").split(",") if s.strip()}
    if scopes_header is None:
        report.add(WARNING, "slack", "Slack did not say which scopes the token has; they were not checked")
    else:
        missing = [s for s in BOT_SCOPES if s not in granted]
        extra = sorted(granted - set(BOT_SCOPES))
        if missing:
            report.add(PROBLEM, "slack", f"{name} lacks scopes Buddy needs: {', '.join(missing)}",
                       "add them under OAuth & Permissions (or paste manifest.yml again), then reinstall the "
                       "app and copy the new token")  # fmt: skip
        else:
            report.add(OK, "slack", f"{name} has every scope in manifest.yml ({len(BOT_SCOPES)})")
        if extra:
            report.add(WARNING, "slack", f"{name} has scopes Buddy does not use: {', '.join(extra)}",
                       "remove them from the app (least privilege) and reinstall")  # fmt: skip
    if clock:
        _check_clock(headers, report)


def _check_clock(headers: Mapping[str, str], report: Report) -> None:
    date = next((v for k, v in headers.items() if k.lower() == "date"), "")
    if not date:
        return
    try:
        skew = time.time() - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return
    if abs(skew) > MAX_CLOCK_SKEW:
        report.add(PROBLEM, "time", f"this server's clock is {abs(skew):.0f} s "
                   f"{'ahead of' if skew > 0 else 'behind'} Slack's: signed requests are refused beyond 300 s",
                   "turn on time synchronisation: `timedatectl set-ntp true`")  # fmt: skip
    else:
        report.add(OK, "time", f"the clock agrees with Slack's (within {MAX_CLOCK_SKEW} s)")


# ---- Teams --------------------------------------------------------------------------------------


def _check_teams(teams: Any, report: Report, login_url: str) -> None:
    if not teams.app_id:
        report.add(WARNING, "teams", "development mode (BUDDY_TEAMS_DEV_MODE=1): Teams requests are not "
                   "authenticated", "never in production: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD "
                   "and unset BUDDY_TEAMS_DEV_MODE")  # fmt: skip
        return
    if not teams.app_password:
        report.add(PROBLEM, "teams", "MICROSOFT_APP_PASSWORD is empty: Buddy cannot send to Teams",
                   "create a client secret for the app registration in Azure and set it")  # fmt: skip
        return
    tenant = teams.app_tenant_id or "botframework.com"
    url = f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": teams.app_id,
                                   "client_secret": teams.app_password, "scope": BOT_FRAMEWORK_SCOPE}).encode()  # fmt: skip
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as answer:
            token = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        code = _aad_error(error)
        report.add(PROBLEM, "teams", f"Microsoft refused MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD ({code})",
                   "check the app id and create a new client secret under the app registration's "
                   "Certificates & secrets (secrets expire); for a single-tenant bot set MICROSOFT_APP_TYPE="
                   "SingleTenant and MICROSOFT_APP_TENANT_ID")  # fmt: skip
        return
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        report.add(PROBLEM, "teams", f"cannot reach {host} to get a token ({reason}); the app id and "
                   "password could not be checked, and Buddy cannot send to Teams from here",
                   f"allow outbound HTTPS to {host} and smba.trafficmanager.net (or set HTTPS_PROXY)")  # fmt: skip
        return
    if token.get("access_token"):
        report.add(OK, "teams", "the app id and password get a Bot Framework token")
    else:
        report.add(PROBLEM, "teams", "Microsoft answered without a token", "check MICROSOFT_APP_ID")


def _aad_error(error: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(error.read() or b"{}")
    except ValueError:
        return f"HTTP {error.code}"
    codes = detail.get("error_codes") or []
    name = detail.get("error", f"HTTP {error.code}")
    return f"{name}, AADSTS{codes[0]}" if codes else str(name)


# ---- database -----------------------------------------------------------------------------------


def _check_database(settings: Settings, report: Report) -> None:
    from sqlalchemy import text

    from storage.database import make_engine
    from storage.migrate import current, head, pending

    shown = _safe_url(settings.database_url)
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None and not sqlite_file.is_file():  # connecting would create an empty one
        report.add(PROBLEM, "database", f"there is no database file at {sqlite_file}",
                   "check DATABASE_URL (a relative path is from the working directory), or create it with "
                   "`buddybot db upgrade`")  # fmt: skip
        return
    try:
        engine = make_engine(settings.database_url, **_connect_timeout(settings.database_url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - every way a database can be unreachable
        report.add(PROBLEM, "database", f"cannot connect to {shown} ({type(error).__name__})",
                   "check DATABASE_URL, that the server is running and accepts this user, and for SQLite that "
                   "the directory exists and is writable by Buddy's user")  # fmt: skip
        return
    try:
        at, newest = current(engine), head()
        if at is None:
            report.add(PROBLEM, "database", f"{shown} has no Buddy tables yet",
                       "run `buddybot db upgrade` (serve also does it at start)")  # fmt: skip
            return
        if at == newest:
            report.add(OK, "database", f"reachable, migrations current (revision {at})")
        else:
            try:
                steps = pending(engine)
            except Exception:  # noqa: BLE001 - a revision this code does not know
                steps = None
            if steps is None:
                report.add(PROBLEM, "database", f"the database is at revision {at}, which this version of Buddy "
                           f"does not know (it knows up to {newest})",
                           "a newer Buddy has upgraded this database: run that version, or restore the backup "
                           "taken before the upgrade")  # fmt: skip
            else:
                report.add(PROBLEM, "database", f"{len(steps)} migration{'s' * (len(steps) != 1)} pending "
                           f"({', '.join(r for r, _ in steps)})",
                           "back up (`buddybot db backup FILE` or pg_dump), then `buddybot db upgrade`")  # fmt: skip
            return
        _check_cohort_zones(engine, report)
        _check_scheduler(settings.database_url, engine, report)
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    from storage.database import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _connect_timeout(url: str) -> dict[str, Any]:
    return {} if url.startswith("sqlite") else {"connect_args": {"connect_timeout": 5}}


def _check_cohort_zones(engine: Any, report: Report) -> None:
    from sqlalchemy import select

    from storage.tables import cohorts

    with engine.connect() as connection:
        rows = connection.execute(select(cohorts.c.name, cohorts.c.cadence_timezone)).all()
    for name, zone in rows:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            report.add(PROBLEM, "time zone", f"cohort “{name}” posts in an unknown time zone {zone!r}",
                       f"a coordinator sets it again, e.g. `/buddy cadence weekly monday 09:00 cohort={name}`")  # fmt: skip


def _check_scheduler(database_url: str, engine: Any, report: Report) -> None:
    from bot.leader import LOCK_KEY, SqliteLeadership, leadership_for

    leadership = leadership_for(database_url)
    if isinstance(leadership, SqliteLeadership):
        fs = _filesystem(leadership.path.parent)
        if fs in NETWORK_FILESYSTEMS:
            report.add(PROBLEM, "scheduler", f"the SQLite database is on a network filesystem ({fs}): its lock "
                       "does not hold across machines, so a second scheduler could run and post twice",
                       "keep the SQLite file on a local disk with one worker, or move to PostgreSQL")  # fmt: skip
        if leadership.try_acquire():
            leadership.release()
            report.add(WARNING, "scheduler", "no scheduler is running on this SQLite database",
                       "start one worker: `buddybot serve` (or `--role worker`)")  # fmt: skip
        else:
            report.add(OK, "scheduler", f"one scheduler runs (process {leadership.holder()}); SQLite allows no "
                       "second: run more processes with `--role web`, or move to PostgreSQL for a standby")  # fmt: skip
        return
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as connection:
            holders = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                     "AND objid = :key"), {"key": LOCK_KEY}).scalar_one()  # fmt: skip
        if holders:
            report.add(OK, "scheduler", "a worker holds the scheduler lock")
        else:
            report.add(WARNING, "scheduler", "no worker holds the scheduler lock: nothing is scheduled",
                       "start a worker: `buddybot serve --role worker` (two for a standby)")  # fmt: skip


def _filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (Linux), or ''."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return ""
    target, best = str(path.resolve()), ("", "")
    for parts in mounts:
        if len(parts) >= 3 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/")):
            if len(parts[1]) >= len(best[0]):
                best = (parts[1], parts[2])
    return best[1]


# ---- time zone ----------------------------------------------------------------------------------


def _check_time_zone(env: Mapping[str, str], report: Report, zone: Callable[[str], Any] = ZoneInfo) -> None:
    try:
        zone("Europe/London")
    except ZoneInfoNotFoundError:
        report.add(PROBLEM, "time zone", "this system has no time zone data (Europe/London is unknown), so "
                   "weekly posts cannot be placed in local time", "install the tzdata package "
                   "(`apt install tzdata`, or `pip install tzdata` in Buddy's environment)")  # fmt: skip
        return
    tz = env.get("TZ", os.environ.get("TZ", "")).strip().lstrip(":")
    if tz and not tz.startswith("/"):
        try:
            zone(tz)
        except (ZoneInfoNotFoundError, ValueError):
            report.add(WARNING, "time zone", f"TZ={tz!r} is not a known time zone; log times may be wrong",
                       "unset TZ or set it to e.g. Europe/London (Buddy keeps UTC and each cohort's own zone)")  # fmt: skip
            return
    report.add(OK, "time zone", "time zone data present; Buddy stores UTC and posts in each cohort's zone "
               "(Europe/London by default)")  # fmt: skip


def _database_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.database import normalise_url

    try:
        backend = make_url(normalise_url(url)).get_backend_name()
    except ArgumentError:
        raise SettingsError("DATABASE_URL is not a database URL: use sqlite:///buddy.db or "
                            "postgresql://user@host/dbname") from None  # fmt: skip
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(f"DATABASE_URL names {backend}: Buddy runs on SQLite or PostgreSQL")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    from storage.database import normalise_url

    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: say so without echoing it
        return "(a malformed DATABASE_URL)"
