"""SlackRuntime: the wiring bot/ uses, in HTTP mode against the fake Slack."""

from __future__ import annotations

import time

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from adapters.slack.dedupe import SqlDedupe
from adapters.slack.runtime import SlackRuntime
from adapters.slack.settings import SlackSettings
from conversations.core.interactions import Reply
from conversations.core.refs import UserRef
from conversations.core.views import Message
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.slack.harness import SIGNING_SECRET, ScriptedEngine, sign


async def test_http_mode_wiring(fake: FakeSlack, tmp_path) -> None:
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url}
    )
    db = sa.create_engine(f"sqlite:///{tmp_path / 'buddy.db'}")
    runtime = SlackRuntime.create(settings, db=db)
    assert isinstance(runtime.dedupe, SqlDedupe)
    engine = ScriptedEngine(lambda i: Reply(Message.simple("hi")))
    runtime.attach(engine)
    web_app = web.Application()
    runtime.add_routes(web_app)
    await runtime.start()
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        body = f"team_id={TEAM}&user_id=U0AAA001&user_name=a&command=%2Fbuddy&text=help&trigger_id=t.1.1"
        ts = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as r,
        ):
            assert r.status == 200 and (await r.json())["text"] == "hi"
        dm = await runtime.messenger.open_dm(UserRef("slack", TEAM, "U0BBB002"))
        await runtime.messenger.post(dm, Message.simple("hello"))
        assert fake.calls_to("chat.postMessage")[-1].token == BOT_TOKEN
    finally:
        await runtime.close()
        await runner.cleanup()
        db.dispose()
