"""Teams over HTTP: Action.Execute answers, replies refused within a turn, export in a group chat,
hidden characters and an unreachable database."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.exc import OperationalError

from adapters.runner import OUTAGE
from conversations.core.interactions import ButtonPressed, CommandInvoked, Reply
from conversations.core.views import FileAttachment, Message
from tests.teams.fake_teams import activity, invoke, message

EXECUTE = {"action": {"type": "Action.Execute", "data": {"action_id": "status", "value": ""}}}


async def test_action_execute_answers_200_with_the_text_and_a_redelivery_gets_the_same(harness):
    harness.engine.answer = lambda _i: Reply(Message.simple("Your **status**"))
    card = invoke(harness.service_url, "adaptiveCard/action", EXECUTE, activity_id="exec-1")
    status, body = await harness.post(card)
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Your status",
    }
    again_status, again = await harness.post(card)
    assert (again_status, again) == (200, body)
    assert len([i for i in harness.engine.interactions if isinstance(i, ButtonPressed)]) == 1  # acted once


async def _with_undelivered(harness, seen):
    app = web.Application()
    harness.teams.add_routes(app, harness.engine.handle, undelivered=lambda *args: seen.append(args))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    harness.server = server
    return server


async def test_a_reply_refused_with_429_is_retried_within_the_turn(harness):
    harness.engine.answer = lambda _i: Reply(Message.simple("Hello"))
    seen: list = []
    server = await _with_undelivered(harness, seen)
    harness.connector.fail_next(429, times=2, **{"Retry-After": "1"})
    status, _ = await harness.post(message(harness.service_url, "status"))
    assert status == 200
    assert any("Hello" in str(c.body) for c in harness.connector.sent()) and not seen
    assert sum(1 for s in harness.time.sleeps if s >= 1) >= 2  # Retry-After honoured, twice
    await server.close()


async def test_a_reply_refused_for_longer_than_the_turn_goes_to_the_outbox(harness):
    harness.engine.answer = lambda _i: Reply(Message.simple("Hello"))
    seen: list = []
    server = await _with_undelivered(harness, seen)
    harness.connector.fail_next(429, times=10, **{"Retry-After": "5"})
    status, _ = await harness.post(message(harness.service_url, "status"))
    assert status == 200
    [(user, conversation, sent, error, key)] = seen
    assert sent.text == "Hello" and error.retryable and not error.unreachable and key.startswith("reply:")
    assert conversation is not None and user.user_id == "alice"
    await server.close()


async def test_a_person_who_blocked_buddy_is_handed_over_as_unreachable(harness):
    harness.engine.answer = lambda _i: Reply(Message.simple("Hello"))
    seen: list = []
    server = await _with_undelivered(harness, seen)
    harness.connector.fail_next(403, code="ConversationBlockedByUser")
    status, _ = await harness.post(message(harness.service_url, "status"))
    assert status == 200
    [(_user, _conv, _sent, error, _key)] = seen
    assert error.unreachable
    await server.close()


async def test_export_in_a_group_chat_says_it_works_in_the_personal_chat(harness):
    harness.engine.answer = lambda _i: Reply(
        Message.simple("**Alpha**: 3 people. The CSV file is in our direct messages.").__class__(
            "Export", (), file=FileAttachment("a.csv", "x")
        )
    )
    group = {"id": "19:group@thread.v2", "conversationType": "groupChat", "tenantId": "tenant-1"}
    status, _ = await harness.post(
        activity("message", harness.service_url, conversation=group, text="export")
    )
    assert status == 200
    [sent] = harness.connector.sent()
    text = str(sent.body)
    assert "1:1 chat" in text and "direct messages" not in text and "haven't sent" in text


async def test_hidden_characters_are_refused_with_a_message(harness):
    status, _ = await harness.post(message(harness.service_url, "join \u202eAlpha"))
    assert status == 200
    assert not [i for i in harness.engine.interactions if isinstance(i, CommandInvoked)]
    assert "right-to-left override (U+202E)" in str(harness.connector.sent()[-1].body)


async def test_an_unreachable_database_is_told_and_logged_once(harness, caplog):
    def down(_interaction):
        raise OperationalError("connect", {}, Exception("could not connect to db.internal:5432"))

    OUTAGE.down = False  # one outage per process: start this one afresh
    harness.engine.answer = down
    caplog.set_level(logging.INFO)
    for n in range(2):
        status, _ = await harness.post(message(harness.service_url, f"status {n}"))
        assert status == 200
    answers = [str(c.body) for c in harness.connector.sent()]
    assert len(answers) == 2 and all("try again in a minute" in a for a in answers)
    assert caplog.text.count("database unreachable") == 1 and "db.internal" not in caplog.text


async def test_a_message_longer_than_teams_allows_is_answered_without_parsing(harness):
    status, _ = await harness.post(message(harness.service_url, "match swap " * 4000))
    assert status == 200
    assert not harness.engine.interactions
    assert "too long for a command" in str(harness.connector.sent()[-1].body)
