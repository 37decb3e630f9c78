"""``buddybot doctor`` against the fake Slack, a fake Microsoft login, real databases and broken
configurations: each problem is named with its fix, and the exit code says whether there was one."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from aiohttp import web

from adapters.slack.settings import BOT_SCOPES
from bot.doctor import run_doctor
from conversations.core.model import Cohort
from storage.database import make_engine
from storage.migrate import head, upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.processes import ROOT
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack


def doctor(env: dict[str, str], **kw) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    code = run_doctor(env, out, **kw)
    return code, out.getvalue()


async def in_thread(env: dict[str, str], **kw) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The doctor is synchronous: run it off the loop that serves the fakes."""
    return await asyncio.to_thread(doctor, env, **kw)


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'buddy.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def slack_env(fake: FakeSlack, database: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s3cret", "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database, "BUDDY_ADMINS": "T0TEAM01:U0COORD1"}  # fmt: skip


async def test_a_healthy_slack_deployment_passes(slack_env, fake):
    code, out = await in_thread(slack_env)
    assert code == 0, out
    assert f"ok       slack: SLACK_BOT_TOKEN: valid for workspace {TEAM}" in out
    assert f"SLACK_BOT_TOKEN has every scope in manifest.yml ({len(BOT_SCOPES)})" in out
    assert f"migrations current (revision {head()})" in out
    assert "the clock agrees with Slack's" in out
    assert "warning  scheduler: no scheduler is running on this SQLite database" in out
    assert "No problems (1 warning)." in out
    assert "s3cret" not in out and BOT_TOKEN not in out
    assert [c.method for c in fake.calls] == ["auth.test"]


async def test_missing_and_extra_scopes_are_named(slack_env, fake):
    fake.scopes = tuple(s for s in BOT_SCOPES if s not in ("files:write", "im:history")) + ("admin",)
    code, out = await in_thread(slack_env)
    assert code == 1
    assert "PROBLEM  slack: SLACK_BOT_TOKEN lacks scopes Buddy needs: im:history, files:write" in out
    assert "reinstall the app" in out
    assert "warning  slack: SLACK_BOT_TOKEN has scopes Buddy does not use: admin" in out


async def test_no_scopes_header_is_a_warning_not_a_pass(slack_env, fake):
    fake.scopes = None
    code, out = await in_thread(slack_env)
    assert code == 0 and "did not say which scopes" in out


async def test_a_refused_or_unreachable_slack_token(slack_env, fake):
    code, out = await in_thread({**slack_env, "SLACK_BOT_TOKEN": "xoxb-revoked"})
    assert code == 1 and "PROBLEM  slack: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in out
    assert "Bot User OAuth Token" in out and "xoxb-revoked" not in out
    code, out = await in_thread({**slack_env, "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert code == 1 and "cannot reach Slack" in out


def test_a_broken_configuration_names_each_setting(database):
    env = {"PORT": "eighty", "SLACK_BOT_TOKEN": "abc", "BUDDY_LOG_FORMAT": "xml",
           "BUDDY_SLACK_WORKSPACE_RATE": "fast", "DATABASE_URL": database}  # fmt: skip
    code, out = doctor(env)
    assert code == 1
    assert "PROBLEM  settings: PORT must be a port number from 1 to 65535, not 'eighty'" in out
    assert "BUDDY_LOG_FORMAT must be text or json, not 'xml'" in out
    assert "BUDDY_SLACK_WORKSPACE_RATE must be a positive number" in out
    assert "PROBLEM  slack: SLACK_BOT_TOKEN must be a bot token starting with xoxb-" in out
    assert "4 problems" in out
    code, out = doctor({"DATABASE_URL": "mysql://buddy:pw@db/buddy"})
    assert "DATABASE_URL names mysql: Buddy runs on SQLite or PostgreSQL" in out and "pw" not in out
    assert "PROBLEM  platforms: neither Slack nor Teams is configured" in out


def test_the_database_missing_behind_or_unreachable(tmp_path):
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"})
    assert code == 1 and "there is no database file at" in out and not (tmp_path / "none.db").exists()
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")
    engine.dispose()
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": url})
    assert code == 1 and "PROBLEM  database: " in out and "migrations pending (0003, 0004" in out
    assert "`buddybot db upgrade`" in out and "back up" in out
    assert "warning  teams: development mode" in out
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1",
                        "DATABASE_URL": "postgresql://buddy:hunter2@127.0.0.1:9/buddy"})  # fmt: skip
    assert code == 1 and "cannot connect to postgresql+psycopg://buddy:***@127.0.0.1:9/buddy" in out
    assert "hunter2" not in out


def test_a_cohort_in_an_unknown_time_zone(database):
    uow = SqlUnitOfWorkFactory(make_engine(database))
    with uow() as work:
        work.cohorts.add(Cohort(name="North", platform="slack", workspace=TEAM, created_at=datetime.now(UTC),
                                cadence_timezone="Mars/Olympus"))  # fmt: skip
        work.commit()
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": database})
    assert code == 1 and "cohort “North” posts in an unknown time zone 'Mars/Olympus'" in out
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": database, "TZ": "Europe/Nowhere"})
    assert "TZ='Europe/Nowhere' is not a known time zone" in out


def test_a_scheduler_already_running_on_sqlite_is_named(database):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-m", "tests.delivery.leader_process", database], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "leader"
        code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": database})
        assert (
            f"ok       scheduler: one scheduler runs (process {holder.pid}); SQLite allows no second" in out
        )
        assert "`--role web`" in out
    finally:
        holder.kill()
        holder.wait()


# ---- Teams --------------------------------------------------------------------------------------


async def test_teams_credentials_where_microsoft_cannot_be_reached(database):
    env = {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001", "MICROSOFT_APP_PASSWORD": "pw-secret",
           "DATABASE_URL": database}  # fmt: skip
    code, out = doctor(env)  # the real login.microsoftonline.com: unreachable from this test machine
    assert code == 1 and "pw-secret" not in out
    assert ("cannot reach login.microsoftonline.com" in out and "allow outbound HTTPS" in out) or (
        "Microsoft refused" in out  # a machine with internet access reaches it, and the made-up id is refused
    )


@pytest.fixture
async def login():  # type: ignore[no-untyped-def]
    """A fake Microsoft identity platform: one app id and secret get a token."""
    seen: list[dict[str, str]] = []

    async def token(request: web.Request) -> web.Response:
        form = dict(await request.post())
        seen.append({"tenant": request.match_info["tenant"], **{k: str(v) for k, v in form.items()}})
        if form.get("client_id") == "app-1" and form.get("client_secret") == "right":
            return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ..."})
        return web.json_response({"error": "invalid_client", "error_codes": [7000215],
                                  "error_description": "Invalid client secret provided."}, status=401)  # fmt: skip

    app = web.Application()
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_teams_credentials_that_get_a_token_or_are_refused(database, login):
    url, seen = login
    env = {"MICROSOFT_APP_ID": "app-1", "MICROSOFT_APP_PASSWORD": "right", "DATABASE_URL": database}
    code, out = await in_thread(env, teams_login_url=url)
    assert code == 0 and "ok       teams: the app id and password get a Bot Framework token" in out
    assert (
        seen[-1]["tenant"] == "botframework.com"
        and seen[-1]["scope"] == "https://api.botframework.com/.default"
    )
    code, out = await in_thread({**env, "MICROSOFT_APP_PASSWORD": "expired"}, teams_login_url=url)
    assert (
        code == 1
        and "Microsoft refused MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (invalid_client, AADSTS7000215)"
        in out
    )
    assert "Certificates & secrets" in out
    single = {**env, "MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_TENANT_ID": "tenant-9"}
    code, out = await in_thread(single, teams_login_url=url)
    assert code == 0 and seen[-1]["tenant"] == "tenant-9"


def test_the_command_exits_non_zero_and_says_what_to_fix(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PORT": "0", "SLACK_BOT_TOKEN": "xoxp-user"}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "buddybot"), "doctor"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "PROBLEM  settings: PORT must be a port number from 1 to 65535, not '0'" in done.stdout
    assert "SLACK_BOT_TOKEN must be a bot token starting with xoxb-" in done.stdout
    assert "fix the problems above, then run `buddybot doctor` again" in done.stdout


@pytest.fixture
def postgres_url(postgres_server):  # type: ignore[no-untyped-def]
    from tests.conftest import _reset

    engine = make_engine(postgres_server)
    _reset(engine)
    upgrade(engine)
    engine.dispose()
    yield postgres_server
    engine = make_engine(postgres_server)
    _reset(engine)
    engine.dispose()


def test_on_postgresql_the_doctor_says_whether_a_worker_holds_the_scheduler(postgres_url):
    from bot.leader import leadership_for

    db_url = postgres_url
    code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": db_url})
    assert code == 0 and "migrations current" in out
    assert "warning  scheduler: no worker holds the scheduler lock" in out
    leader = leadership_for(db_url)
    assert leader.try_acquire()
    try:
        code, out = doctor({"BUDDY_TEAMS_DEV_MODE": "1", "DATABASE_URL": db_url})
        assert "ok       scheduler: a worker holds the scheduler lock" in out
    finally:
        leader.release()


async def test_oauth_installs_each_workspace_token_is_checked(fake, database):
    from cryptography.fernet import Fernet
    from slack_sdk.oauth.installation_store import Installation

    from adapters.slack.installation import build_oauth_stores

    key = Fernet.generate_key().decode()
    env = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "cs", "SLACK_SIGNING_SECRET": "ss",
           "SLACK_TOKEN_ENCRYPTION_KEY": key, "SLACK_API_URL": fake.api_url, "DATABASE_URL": database,
           "BUDDY_ADMINS": "T0TEAM01:U0COORD1"}  # fmt: skip
    code, out = await in_thread(env)
    assert code == 0 and "no workspace has installed Buddy yet" in out and "/slack/install" in out

    store, _ = build_oauth_stores(make_engine(database), client_id="111.222", encryption_keys=key,
                                  create_tables=False)  # fmt: skip
    await store.async_save(Installation(app_id="A0BUDDY1", team_id=TEAM, user_id="U0COORD1", bot_token=BOT_TOKEN,
                                        bot_id="B0BOT001", bot_user_id="U0BOT001", bot_scopes=list(BOT_SCOPES)))  # fmt: skip
    code, out = await in_thread(env)
    assert code == 0, out
    assert f"ok       slack: the token installed for workspace {TEAM}: valid for workspace {TEAM}" in out
    assert BOT_TOKEN not in out

    other = Fernet.generate_key().decode()
    code, out = await in_thread({**env, "SLACK_TOKEN_ENCRYPTION_KEY": other})
    assert code == 1 and "PROBLEM  slack: cannot read the Slack installs" in out
    assert "check SLACK_TOKEN_ENCRYPTION_KEY" in out and key not in out and other not in out
