"""/metrics, scraped from a running server: inbound requests by platform and kind, engine calls by
lane, sends by outcome (a 429 included), the outbox by status, the scheduler and matching; and the
request id that follows a Slack event from its ack to the outbox row it queued."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.demo import demo_csv
from bot.logs import configure_logging
from bot.serve import prepare
from bot.settings import Settings
from bot.worker import WORKER
from conversations.core.model import Cohort, Coordinator
from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.teams.fake_teams import FakeConnector, message

SECRET = "ops-test-signing-secret"
ADMIN = "U0COORD1"


def signed(body: str, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


def command(slack: FakeSlack, text: str, user: str) -> str:
    return urlencode({"command": "/buddy", "text": text, "team_id": TEAM, "user_id": user, "user_name": "x",
                      "channel_id": "D1", "response_url": slack.response_url(), "trigger_id": slack.trigger()})  # fmt: skip


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def platforms(tmp_path):
    slack = await FakeSlack().start()
    connector = FakeConnector()
    await connector.server.start_server()
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
           "BUDDY_TEAMS_DEV_MODE": "1"}  # fmt: skip
    yield env, slack, connector
    await connector.server.close()
    await slack.close()


async def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_scrape_shows_what_the_server_did(platforms, tmp_path, restore_logging):
    env, slack, connector = platforms
    log = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG"}, log)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'm.db'}", admins=(f"{TEAM}:{ADMIN}",), metrics=True
    )
    buddy, app = prepare(settings, "all", env)
    now = datetime.now(UTC)

    def setup(ctx):  # type: ignore[no-untyped-def]
        cohort = ctx.uow.cohorts.add(Cohort(name="North", platform="slack", workspace=TEAM, created_at=now))
        ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, "slack", TEAM, ADMIN))
        queue(ctx.uow, "stuck", to_user(UserRef("slack", TEAM, "U0CCC003")), Message.simple("hi"), now)

    buddy.engine.run(setup)
    buddy.engine.run(lambda ctx: [setattr(r, "status", "held") for r in ctx.uow.outbox.by_status("pending")])
    report = buddy.engine.import_csv("North", demo_csv().replace("T-DEMO", TEAM))
    assert report.imported
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)  # the welcome's first try gets a 429

    async with TestClient(TestServer(app)) as client:
        body = command(slack, "help", "U0AAA001")
        assert (
            await client.post(
                "/slack/events", data=body, headers=signed(body, "application/x-www-form-urlencoded")
            )
        ).status == 200
        body = command(slack, "match preview", ADMIN)
        answer = await client.post(
            "/slack/events", data=body, headers=signed(body, "application/x-www-form-urlencoded")
        )
        assert answer.status == 200 and "score" in (await answer.text()).lower()
        event = json.dumps({"token": "t", "team_id": TEAM, "api_app_id": "A0BUDDY1", "type": "event_callback",
                            "event_id": "Ev0OPS1", "event_time": int(time.time()),
                            "event": {"type": "member_joined_channel", "user": "U0BBB002", "channel": "C0COMM"}})  # fmt: skip
        assert (
            await client.post("/slack/events", data=event, headers=signed(event, "application/json"))
        ).status == 200
        assert (await client.post("/api/messages", json=message(connector.url, "help"))).status in (200, 201)

        sent = lambda: buddy.engine.run(lambda ctx: ctx.uow.outbox.count("sent"))  # noqa: E731
        await wait_until(lambda: sent() == 1)  # the welcome, after its 429 and Retry-After
        worker = client.server.app[WORKER]
        await wait_until(lambda: worker.scheduler is not None)
        worker.scheduler.scheduler.modify_job("buddy:sync", next_run_time=datetime.now(UTC))
        await wait_until(lambda: 'last_run_timestamp_seconds{job="sync"}' in _scrape_now(client.server.app))

        scrape = await client.get("/metrics")
        assert scrape.status == 200 and scrape.headers["Content-Type"].startswith("text/plain")
        found = samples(await scrape.text())

    inbound = "buddy_inbound_request_seconds_count"
    assert value(found, inbound, platform="slack", kind="command") == 2
    assert value(found, inbound, platform="slack", kind="event") == 1
    assert value(found, inbound, platform="teams", kind="command") == 1
    assert value(found, "buddy_inbound_ack_deadline_missed_total", platform="slack", kind="command") == 0
    assert value(found, "buddy_engine_call_seconds_count", lane="member") >= 3  # help x2, the join event
    assert value(found, "buddy_engine_call_seconds_count", lane="coordinator") == 1  # match preview
    assert value(found, "buddy_outbox_sends_total", platform="slack", outcome="sent") == 1
    assert value(found, "buddy_rate_limited_total", platform="slack") == 1  # waited out by the client
    assert value(found, "buddy_outbox_send_seconds_count", platform="slack") == 1
    assert value(found, "buddy_outbox_send_seconds_sum", platform="slack") >= 1.0  # its Retry-After
    assert value(found, "buddy_outbox_rows", status="held") == 1
    assert value(found, "buddy_outbox_rows", status="pending") == 0
    assert value(found, "buddy_database_up") == 1
    assert value(found, "buddy_scheduler_leader") == 1
    assert value(found, "buddy_scheduler_last_run_timestamp_seconds", job="sync") > time.time() - 60
    assert value(found, "buddy_matching_seconds_count") == 1
    matchable = buddy.engine.run(lambda ctx: sum(p.consent_data for p in ctx.uow.participants.in_cohort(1)))
    assert value(found, "buddy_matching_people_sum") == matchable > 20

    # the request id of the member_joined_channel request is on the row it queued
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    [queued] = [e for e in entries if e["message"].startswith("outbox: queued welcome:")]
    [answered] = [e for e in entries if e["logger"] == "bot.inbound" and " event " in e["message"]]
    assert queued["request_id"] == answered["request_id"] and len(queued["request_id"]) == 16
    ids = {e.get("request_id") for e in entries if e["logger"] == "bot.inbound"}
    assert len(ids) == 4  # one per request


def _scrape_now(app) -> str:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    from bot.serve import METRICS

    return generate_latest(app[METRICS].registry).decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_metrics_are_off_unless_asked_for_or_on_their_own_port(platforms, tmp_path):
    env, _slack, _connector = platforms
    off = Settings(database_url=f"sqlite:///{tmp_path / 'off.db'}")
    _buddy, app = prepare(off, "web", env)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics")).status == 404

    port = _free_port()
    aside = Settings(database_url=f"sqlite:///{tmp_path / 'aside.db'}", metrics_port=port)
    _buddy, app = prepare(aside, "web", env)
    async with TestClient(TestServer(app)) as client, aiohttp.ClientSession() as session:
        assert (await client.get("/metrics")).status == 404  # not on the public port
        async with session.get(f"http://127.0.0.1:{port}/metrics") as scrape:
            assert scrape.status == 200
            found = samples(await scrape.text())
    assert value(found, "buddy_outbox_rows", status="pending") == 0 and value(found, "buddy_database_up") == 1


def test_metrics_settings_are_checked():
    from bot.settings import SettingsError

    assert Settings.from_env({"BUDDY_METRICS": "1"}).metrics
    assert Settings.from_env({"BUDDY_METRICS_PORT": "9464"}).metrics_port == 9464
    with pytest.raises(SettingsError, match="BUDDY_METRICS must be 1"):
        Settings.from_env({"BUDDY_METRICS": "yes"})
    with pytest.raises(SettingsError, match="BUDDY_METRICS_PORT must be a port number"):
        Settings.from_env({"BUDDY_METRICS_PORT": "99999"})


async def test_an_answer_later_than_the_platform_waits_is_counted_as_a_miss(monkeypatch):
    from aiohttp import web

    from bot.inbound import middleware
    from bot.metrics import ACK_DEADLINES, Metrics

    monkeypatch.setitem(ACK_DEADLINES, "slack", 0.2)  # Slack's 3 s, scaled down
    metrics = Metrics()

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query["wait"]))
        return web.Response(text="ok")

    app = web.Application(middlewares=[middleware(metrics)])
    app.router.add_post("/slack/events", slow)
    async with TestClient(TestServer(app)) as client:
        for wait in (0.0, 0.3, 0.05, 0.4):
            assert (await client.post(f"/slack/events?wait={wait}")).status == 200
    found = samples(_text(metrics))
    assert value(found, "buddy_inbound_request_seconds_count", platform="slack", kind="event") == 4
    assert value(found, "buddy_inbound_ack_deadline_missed_total", platform="slack", kind="event") == 2


def _text(metrics) -> str:  # type: ignore[no-untyped-def]
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def test_calls_committed_together_are_each_timed_in_their_own_lane():
    from bot.logs import REQUEST
    from bot.metrics import Metrics, metered_many
    from conversations.core.interactions import Actor, CommandInvoked

    metrics = Metrics()
    kinds: list[str] = []

    def handle_many(interactions, run_in):  # type: ignore[no-untyped-def]
        def work(i: int) -> str:
            scope = REQUEST.get()
            kinds.append(scope.kind if scope else "")
            return interactions[i].text

        return [run_in(i, lambda i=i: work(i)) for i in range(len(interactions))]

    people = [Actor(UserRef("slack", TEAM, f"U{n}"), f"P{n}") for n in range(3)]
    calls = [CommandInvoked(people[0], "pause"), CommandInvoked(people[1], "match preview"),
             CommandInvoked(people[2], "resume")]  # fmt: skip
    many = metered_many(handle_many, lambda i: "coordinator" if "match" in i.text else "member", metrics)
    assert many(calls, lambda _i, work: work()) == ["pause", "match preview", "resume"]
    from prometheus_client import generate_latest

    found = samples(generate_latest(metrics.registry).decode())
    assert value(found, "buddy_engine_call_seconds_count", lane="member") == 2
    assert value(found, "buddy_engine_call_seconds_count", lane="coordinator") == 1
    assert kinds == ["command"] * 3  # each call's request knows what it was
