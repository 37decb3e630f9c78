"""OAuth multi-workspace install end to end: install page, redirect, encrypted storage, then a
signed command from the new workspace answered with that workspace's token."""

from __future__ import annotations

import re

import aiohttp
import sqlalchemy as sa
from cryptography.fernet import Fernet

from adapters.slack.app import build_app, oauth_settings_for
from adapters.slack.client import make_web_client
from adapters.slack.installation import build_oauth_stores, installation_tokens
from adapters.slack.settings import SlackSettings
from conversations.core.interactions import CommandInvoked, Installed, Reply
from conversations.core.views import Message
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SIGNING_SECRET, ScriptedEngine, SlackHarness

NEW_TEAM = "T0NEW001"


async def test_install_then_use(fake: FakeSlack, tmp_path) -> None:
    settings = SlackSettings.from_env(
        {
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "client-secret",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
    )
    db = sa.create_engine(f"sqlite:///{tmp_path / 'buddy.db'}")
    store, states = build_oauth_stores(
        db, client_id=settings.client_id, encryption_keys=settings.token_encryption_key
    )
    engine = ScriptedEngine(lambda i: Reply(Message.simple("hello")))
    session = aiohttp.ClientSession()
    bolt = build_app(
        engine,
        signing_secret=settings.signing_secret,
        client=make_web_client(base_url=fake.api_url, session=session),
        oauth_settings=oauth_settings_for(settings, store, states, engine),
    )
    slack = await SlackHarness(fake, engine, bolt_app=bolt).start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as browser:
            async with browser.get(slack.url + "/slack/install") as resp:
                page = await resp.text()
                cookie = resp.headers["Set-Cookie"].split(";")[0]  # Secure: a browser on https sends it back
            assert resp.status == 200
            link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page)
            assert (
                link
                and "client_id=111.222" in link.group(1)
                and "mpim%3Awrite" in link.group(1).replace(":", "%3A")
            )
            state = re.search(r"state=([^&\"]+)", link.group(1)).group(1)  # type: ignore[union-attr]
            fake.oauth_codes["code-1"] = (NEW_TEAM, "U0COORD1")
            redirect = slack.url + f"/slack/oauth_redirect?code=code-1&state={state}"
            async with browser.get(redirect, headers={"Cookie": cookie}) as resp:
                assert resp.status == 200, await resp.text()

        assert Installed in {type(i) for i in engine.seen}
        installed = next(i for i in engine.seen if isinstance(i, Installed))
        assert installed.actor.ref.workspace == NEW_TEAM and installed.actor.ref.user_id == "U0COORD1"
        with db.connect() as conn:
            stored = conn.execute(sa.text("SELECT bot_token FROM slack_bots")).scalar_one()
        assert stored and "xoxb-" not in stored
        assert await installation_tokens(store)(NEW_TEAM) == "xoxb-t0new001-installed"

        body = slack.command_body("help").replace("T0TEAM01", NEW_TEAM)
        sent = await slack.post(body, "application/x-www-form-urlencoded")
        assert sent.status == 200 and sent.json()["text"] == "hello"
        command = next(i for i in engine.seen if isinstance(i, CommandInvoked))
        assert command.actor.ref.workspace == NEW_TEAM
        await slack.settle()
        assert fake.calls_to("users.info")[-1].token == "xoxb-t0new001-installed"

        unknown = slack.command_body("help").replace("T0TEAM01", "T0STRANGER")
        assert (await slack.post(unknown, "application/x-www-form-urlencoded")).status == 200
        assert len([i for i in engine.seen if isinstance(i, CommandInvoked)]) == 1  # not installed there
    finally:
        await slack.close()
        await session.close()
        db.dispose()
