"""``buddybot serve`` wires Slack and Teams onto one aiohttp server with the real engine."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from bot.leader import LeadershipRefused
from bot.serve import prepare
from bot.settings import Settings, SettingsError
from bot.worker import WORKER
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.teams.fake_teams import FakeConnector, message

SECRET = "serve-test-signing-secret"


def signed(body: str, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip


@pytest.fixture
async def servers(tmp_path):
    slack = await FakeSlack().start()
    connector = FakeConnector()
    await connector.server.start_server()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "BUDDY_TEAMS_DEV_MODE": "1",
    }
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'serve.db'}", admins=("T0:U0ADMIN",))
    yield settings, env, slack, connector
    await connector.server.close()
    await slack.close()


async def test_one_server_answers_slack_and_teams_and_reports_health(servers):
    settings, env, slack, connector = servers
    _buddy, app = prepare(settings, "all", env)
    async with TestClient(TestServer(app)) as client:
        health = await client.get("/healthz")
        assert (await health.json()) == {"status": "ok", "role": "all", "platforms": ["slack", "teams"],
                                         "outbox": {"pending": 0, "held": 0, "failed": 0, "stuck_sending": 0}}  # fmt: skip

        body = urlencode({"command": "/buddy", "text": "help", "team_id": TEAM, "user_id": "U0AAA",
                          "user_name": "asha", "channel_id": "D1", "response_url": slack.response_url(),
                          "trigger_id": slack.trigger()})  # fmt: skip
        answer = await client.post("/slack/events", data=body, headers=signed(body))
        assert answer.status == 200
        assert "What I can do" in await answer.text()

        forged = await client.post("/slack/events", data=body, headers=signed(body, "wrong-secret"))
        assert forged.status == 401

        reply = await client.post("/api/messages", json=message(connector.url, "help"))
        assert reply.status in (200, 201)
        [sent] = connector.sent()
        assert "What I can do" in str(sent.body)


async def test_a_web_only_process_runs_no_sender(servers):
    settings, env, _slack, _connector = servers
    _buddy, app = prepare(settings, "web", env)
    async with TestClient(TestServer(app)) as client:
        assert (await (await client.get("/healthz")).json())["role"] == "web"
        assert WORKER not in client.server.app


async def test_the_whole_process_runs_a_worker_and_a_second_one_on_sqlite_is_refused(servers):
    settings, env, _slack, _connector = servers
    _buddy, app = prepare(settings, "all", env)
    assert WORKER in app
    async with TestClient(TestServer(app)):
        with pytest.raises(LeadershipRefused, match="scheduler"):
            prepare(settings, "worker", env)


def test_missing_or_contradictory_settings_name_the_setting(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(SettingsError, match="No platform is configured: set SLACK_BOT_TOKEN"):
        prepare(settings, "all", {})
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        prepare(settings, "all", {"SLACK_BOT_TOKEN": "xoxb-1"})


async def test_health_is_503_when_the_database_cannot_be_reached(servers, caplog):
    settings, env, _slack, _connector = servers
    buddy, app = prepare(settings, "web", env)

    def unreachable():  # type: ignore[no-untyped-def]
        raise OperationalError("connect", {}, Exception(f"could not connect to {settings.database_url}"))

    buddy.engine.uow_factory = unreachable
    async with TestClient(TestServer(app)) as client:
        health = await client.get("/healthz")
        assert health.status == 503
        body = await health.json()
        assert body == {"status": "unavailable", "role": "web", "platforms": ["slack", "teams"],
                        "reason": "database unreachable"}  # fmt: skip
    assert settings.database_url not in str(body) and "OperationalError" in caplog.text


async def test_health_reports_posts_stuck_in_sending_past_their_lease(servers):
    from datetime import timedelta

    from conversations.core.refs import UserRef
    from conversations.core.views import Message
    from conversations.delivery.outbox import queue, to_user

    settings, env, _slack, _connector = servers
    buddy, app = prepare(settings, "web", env)

    def stuck(ctx):  # type: ignore[no-untyped-def]
        for n in range(3):
            queue(ctx.uow, f"k{n}", to_user(UserRef("slack", TEAM, f"U{n}")), Message.simple("hi"), ctx.now)
        ctx.uow.session.flush() if hasattr(ctx.uow, "session") else None
        ctx.uow.outbox.claim(ctx.now - timedelta(minutes=20), 2, "a-sender-that-died")  # two, long ago

    buddy.engine.run(stuck)
    buddy.engine.run(lambda ctx: ctx.uow.outbox.claim(ctx.now, 1, "a-live-sender"))  # one, just now
    async with TestClient(TestServer(app)) as client:
        outbox = (await (await client.get("/healthz")).json())["outbox"]
    assert outbox == {"pending": 0, "held": 0, "failed": 0, "stuck_sending": 2}


async def test_the_worker_looks_up_a_survey_imports_people_and_sends_the_preview(servers):
    """Email lookups run in the worker, not in a request: the preview reaches the coordinator's DM."""
    from pathlib import Path

    from adapters.uploads import decode_text
    from conversations.core import survey
    from conversations.core.model import Cohort, Coordinator
    from conversations.core.refs import UserRef
    from conversations.flows import survey_import

    settings, env, slack, _connector = servers
    buddy, app = prepare(settings, "all", {**env, "BUDDY_SLACK_LOOKUP_RATE": "3000"})
    assert set(buddy.directories) == {"slack"}  # Teams without Graph cannot look people up
    text, _ = decode_text(
        (Path(__file__).parent.parent / "surveys" / "fixtures" / "google_forms.csv").read_bytes()
    )

    def stage(ctx):  # type: ignore[no-untyped-def]
        cohort = ctx.uow.cohorts.add(
            Cohort("North", "slack", TEAM, settings={"import_mapping": survey.guess(survey.read(text))})
        )
        ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, "slack", TEAM, "U0COORD1"))
        return survey_import.begin(ctx, UserRef("slack", TEAM, "U0COORD1"), cohort, "survey.csv", text)

    async with TestClient(TestServer(app)):
        assert "looking up 5 people" in str(buddy.engine.run(stage))
        dm = slack.open_dm("U0COORD1")
        await slack.wait_for(
            lambda: any("4 found, 1 not found" in m["text"] for m in slack.messages_in(dm)), 20
        )
        assert len(slack.calls_to("users.lookupByEmail")) == 5
