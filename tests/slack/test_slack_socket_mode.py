"""Socket Mode over a real WebSocket on loopback: malformed envelopes get the checks HTTP requests
get (adapters/slack/guard.py), each is acknowledged once (or Slack would send it again), none
reaches the engine, nothing escapes, and the connection still serves the next good command."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.app import build_app
from adapters.slack.client import make_web_client
from adapters.slack.socket_mode import GuardedSocketModeHandler
from conversations.core.interactions import CommandInvoked, Reply
from conversations.core.views import Message
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.slack.harness import ScriptedEngine


class SocketServer:
    """Slack's side of Socket Mode: ``apps.connections.open`` hands out a ws:// URL; the socket
    says hello, then carries the envelopes the test sends and the acknowledgements the app sends."""

    def __init__(self) -> None:
        self.socket: web.WebSocketResponse | None = None
        self.acks: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self.url = ""

    async def start(self) -> SocketServer:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/link", self._link)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self

    async def _open(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer xapp-1-test"
        return web.json_response({"ok": True, "url": self.url.replace("http", "ws") + "/link"})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=8 * 1024**2)
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.socket = socket
        self.connected.set()
        async for frame in socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                self.acks.append(json.loads(frame.data))
        return socket

    async def send(self, frame: Any) -> None:
        assert self.socket is not None
        await self.socket.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def ack_for(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        for _ in range(int(timeout / 0.01)):
            found = [a for a in self.acks if a.get("envelope_id") == envelope_id]
            if found:
                return found[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"{envelope_id} was never acknowledged; acks: {self.acks}")


COMMAND = {"token": "t", "team_id": TEAM, "team_domain": "fake-nhs", "channel_id": "D0CMDCHAN",
           "user_id": "U0AAA001", "user_name": "asha", "command": "/buddy", "text": "help",
           "api_app_id": "A0BUDDY1", "is_enterprise_install": "false", "trigger_id": "1.2.3"}  # fmt: skip
ACTION = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "U0AAA001", "team_id": TEAM},
          "trigger_id": "1.2.3", "actions": [{"type": "button", "action_id": "status", "value": "1"}]}  # fmt: skip
EVENT = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev1", "api_app_id": "A1",
         "event": {"type": "app_home_opened", "user": "U0AAA001", "tab": "home"}}  # fmt: skip

DEEP: Any = {}
for _ in range(100):
    DEEP = {"type": "message", "x": DEEP}

MALFORMED: list[tuple[str, Any]] = [
    ("slash_commands", ["x"]),
    ("slash_commands", "help"),
    ("slash_commands", None),
    ("slash_commands", {k: v for k, v in COMMAND.items() if k != "user_id"}),
    ("slash_commands", {**COMMAND, "user_id": 7}),
    ("slash_commands", {**COMMAND, "command": ""}),
    ("slash_commands", {**COMMAND, "is_enterprise_install": "perhaps"}),
    ("interactive", {**ACTION, "actions": "status"}),
    ("interactive", {**ACTION, "actions": [{"type": "button"}]}),
    ("interactive", {**ACTION, "user": None}),
    ("interactive", {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "U1"},
                     "view": {"callback_id": "register", "state": {"values": {"b": {"a": {"value": "x"}}}}}}),
    ("interactive", {"type": "view_submission", "team": {"id": TEAM}, "view": {"callback_id": "register"}}),
    ("interactive", [ACTION]),
    ("events_api", {**EVENT, "event": "x"}),
    ("events_api", {**EVENT, "event": {"type": "app_home_opened"}}),
    ("events_api", {**EVENT, "event_id": None}),
    ("events_api", {"type": 5}),
    ("events_api", {**EVENT, "event": DEEP}),
    ("events_api", {**EVENT, "pad": "x" * (1024**2 + 1)}),
]  # fmt: skip


@pytest.fixture
async def socket_server() -> AsyncIterator[SocketServer]:
    server = await SocketServer().start()
    yield server
    await server.runner.cleanup()


async def test_malformed_envelopes_are_refused_and_acknowledged_and_the_next_command_is_served(
    fake: FakeSlack, socket_server: SocketServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    engine = ScriptedEngine(lambda _i: Reply(Message.simple("Here's what I can do.")))
    async with aiohttp.ClientSession() as session:
        bolt = build_app(engine, signing_secret="unused-in-socket-mode", token=BOT_TOKEN,
                         client=make_web_client(base_url=fake.api_url, session=session))  # fmt: skip
        handler = GuardedSocketModeHandler(
            bolt,
            "xapp-1-test",
            web_client=make_web_client(base_url=socket_server.url + "/api/", session=session),
        )
        await handler.connect_async()
        try:
            await asyncio.wait_for(socket_server.connected.wait(), 10)
            await socket_server.send("this is not JSON")
            await socket_server.send({"type": "events_api", "envelope_id": "no-payload"})
            for number, (kind, payload) in enumerate(MALFORMED):
                await socket_server.send({"type": kind, "envelope_id": f"bad-{number}", "payload": payload,
                                          "accepts_response_payload": True})  # fmt: skip
            await socket_server.send({"type": "slash_commands", "envelope_id": "too-long", "accepts_response_payload": True,
                                      "payload": {**COMMAND, "text": "match swap " * 1000}})  # fmt: skip
            await socket_server.send({"type": "events_api", "envelope_id": "rate", "payload": {
                "type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 1, "api_app_id": "A1"}})  # fmt: skip
            await socket_server.send({"type": "slash_commands", "envelope_id": "good", "payload": COMMAND,
                                      "accepts_response_payload": True})  # fmt: skip

            for number in range(len(MALFORMED)):
                ack = await socket_server.ack_for(f"bad-{number}")
                assert "error" in json.dumps(ack.get("payload") or {"error": "none"}), (
                    MALFORMED[number],
                    ack,
                )
            await socket_server.ack_for("no-payload")
            too_long = await socket_server.ack_for("too-long")
            assert "too long for a command" in too_long["payload"]["text"]
            await socket_server.ack_for("rate")
            good = await socket_server.ack_for("good")
            assert "what I can do" in json.dumps(good) or await fake.wait_for(
                lambda: "what I can do" in json.dumps([c.args for c in fake.calls] + fake.responses),
                timeout=5,
            ), good
        finally:
            await handler.close_async()
    ids = [a["envelope_id"] for a in socket_server.acks]
    assert len(ids) == len(set(ids)) == len(MALFORMED) + 4  # each acknowledged once
    assert [i.text for i in engine.seen if isinstance(i, CommandInvoked)] == ["help"]
    assert len(engine.seen) == 1
    assert "Traceback" not in caplog.text and "Failed to" not in caplog.text
    assert "app_rate_limited" in caplog.text and "refused a malformed Socket Mode envelope" in caplog.text
