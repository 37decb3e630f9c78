"""Slack over HTTP: hidden characters refused, an unreachable database told and logged once,
Slack's app_rate_limited notice answered 200 and logged."""

from __future__ import annotations

import json
import logging

from sqlalchemy.exc import OperationalError

from adapters.runner import OUTAGE
from conversations.core.interactions import CommandInvoked, FormErrors
from tests.slack.harness import ScriptedEngine, SlackHarness


async def test_a_command_with_a_hidden_character_is_refused_with_a_message(fake):
    engine = ScriptedEngine()
    slack = await SlackHarness(fake, engine).start()
    sent = await slack.command("join Alpha\u200b")
    await slack.close()
    assert sent.status == 200 and "zero-width space (U+200B)" in sent.json()["text"]
    assert not [i for i in engine.seen if isinstance(i, CommandInvoked)]


async def test_a_form_with_a_nul_byte_is_refused_beside_the_field(fake):
    engine = ScriptedEngine()
    slack = await SlackHarness(fake, engine).start()
    view = {"callback_id": "register", "private_metadata": "", "blocks": [
        {"type": "input", "block_id": "display_name", "element": {"type": "plain_text_input", "action_id": "v"}}]}  # fmt: skip
    sent = await slack.submit(view, {"display_name": "Jane\x00Smith"})
    await slack.close()
    body = sent.json()
    assert body["response_action"] == "errors" and "NUL byte" in body["errors"]["display_name"]
    assert not engine.seen
    assert isinstance(FormErrors({}), FormErrors)


async def test_an_unreachable_database_is_told_and_logged_once(fake, caplog):
    def down(_interaction):
        raise OperationalError("connect", {}, Exception("could not connect to db.internal:5432"))

    OUTAGE.down = False
    slack = await SlackHarness(fake, ScriptedEngine(down)).start()
    caplog.set_level(logging.INFO)
    answers = [await slack.command("status") for _ in range(3)]
    await slack.close()
    assert all(a.status == 200 and "try again in a minute" in a.json()["text"] for a in answers)
    assert caplog.text.count("database unreachable") == 1 and "db.internal" not in caplog.text


async def test_app_rate_limited_is_answered_200_and_logged(fake, caplog):
    slack = await SlackHarness(fake, ScriptedEngine()).start()
    caplog.set_level(logging.INFO)
    body = json.dumps({"token": "t", "type": "app_rate_limited", "team_id": "T0FAKE001",
                       "minute_rate_limited": 1518467820, "api_app_id": "A1"})  # fmt: skip
    sent = await slack.post(body, "application/json")
    await slack.close()
    assert sent.status == 200 and "app_rate_limited" in caplog.text


async def test_a_direct_message_longer_than_a_command_is_answered_without_parsing(fake):
    engine = ScriptedEngine()
    slack = await SlackHarness(fake, engine).start()
    event = {"type": "message", "channel_type": "im", "user": "U0AAA001", "channel": "D0DM0001",
             "text": "match swap " * 1000, "ts": "1.2"}  # fmt: skip
    sent = await slack.event(event, "EvLONG1")
    await slack.settle()
    await slack.close()
    assert sent.status == 200 and not engine.seen
    assert any("too long for a command" in str(c.args) for c in fake.calls_to("chat.postMessage"))


async def test_a_command_carrying_is_enterprise_install_false_as_slack_sends_it_is_served(fake):
    """Slack's form for a command carries ``is_enterprise_install=false`` as text (Bolt reads "true")."""
    from urllib.parse import parse_qsl, urlencode

    engine = ScriptedEngine()
    slack = await SlackHarness(fake, engine).start()
    body = urlencode([*parse_qsl(slack.command_body("status")), ("is_enterprise_install", "false")])
    sent = await slack.post(body, "application/x-www-form-urlencoded")
    await slack.settle()
    await slack.close()
    assert sent.status == 200
    assert [i.text for i in engine.seen if isinstance(i, CommandInvoked)] == ["status"]
