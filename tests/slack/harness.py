"""Drive the Slack adapter as Slack does: signed HTTP requests into the app on loopback, with the
app's Web API calls going to :class:`FakeSlack`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.slack.app import build_app
from adapters.slack.background import Background
from adapters.slack.client import make_web_client
from adapters.slack.dedupe import EventDedupe
from adapters.slack.http import add_routes
from conversations.core.interactions import Interaction, NoReply, Outcome
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(secret: str, timestamp: int | str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class ScriptedEngine:
    """Stands in for ``Engine.handle``: records interactions, answers with ``script``."""

    def __init__(self, script: Callable[[Interaction], Outcome] | None = None) -> None:
        self.script = script or (lambda _i: NoReply())
        self.seen: list[Interaction] = []
        self._lock = threading.Lock()

    def __call__(self, interaction: Interaction) -> Outcome:
        with self._lock:
            self.seen.append(interaction)
        return self.script(interaction)


@dataclass
class Sent:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SlackHarness:
    def __init__(
        self,
        fake: FakeSlack,
        handle: Callable[[Interaction], Outcome],
        *,
        dedupe: EventDedupe | None = None,
        ack_budget: float = 2.0,
        bolt_app: Any = None,
    ) -> None:
        self.fake = fake
        self.handle = handle
        self.background = Background()
        self.session = aiohttp.ClientSession()
        self.client = make_web_client(base_url=fake.api_url, session=self.session)
        self.bolt = bolt_app or build_app(
            handle,
            signing_secret=SIGNING_SECRET,
            token=BOT_TOKEN,
            client=self.client,
            dedupe=dedupe,
            background=self.background,
            ack_budget=ack_budget,
        )
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> SlackHarness:
        web_app = web.Application()
        add_routes(web_app, self.bolt, background=self.background)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        await self.background.drain()
        if self._runner:
            await self._runner.cleanup()
        await self.session.close()

    async def settle(self) -> None:
        """Wait for the work the app does after its acks."""
        await self.background.drain()

    # ---- raw requests ----------------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Sent:
        ts = int(time.time()) if timestamp is None else timestamp
        h = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(SIGNING_SECRET, ts, body) if signature is None else signature,
            **(headers or {}),
        }
        if not h["X-Slack-Signature"]:
            del h["X-Slack-Signature"]
        async with self.session.post(self.url + path, data=body.encode(), headers=h) as resp:
            return Sent(resp.status, await resp.text(), dict(resp.headers))

    # ---- what Slack sends ------------------------------------------------------------------

    def command_body(self, text: str, user: str = "U0AAA001", *, trigger_id: str | None = None,
                     channel_id: str = "D0CMDCHAN", channel_name: str = "directmessage") -> str:  # fmt: skip
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "team_domain": "fake-nhs",
                "channel_id": channel_id,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": "handle-" + user.lower(),
                "command": "/buddy",
                "text": text,
                "api_app_id": "A0BUDDY1",
                "response_url": self.fake.response_url(),
                "trigger_id": trigger_id or self.fake.trigger(),
            }
        )

    async def command(self, text: str, user: str = "U0AAA001", **kw: Any) -> Sent:
        return await self.post(self.command_body(text, user, **kw), "application/x-www-form-urlencoded")

    async def interactive(self, payload: dict[str, Any]) -> Sent:
        return await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def action_payload(
        self,
        action_id: str,
        value: str,
        user: str = "U0AAA001",
        *,
        channel: str | None = "G0GROUP01",
        message_ts: str = "1700000000.000100",
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "fake-nhs"},
            "user": {
                "id": user,
                "username": "handle-" + user.lower(),
                "name": "handle-" + user.lower(),
                "team_id": TEAM,
            },
            "api_app_id": "A0BUDDY1",
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self.fake.trigger(),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "text": {"type": "plain_text", "text": "Go"},
                    "action_ts": "1700000001.000200",
                }
            ],
        }
        if channel:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel}
            payload["channel"] = {"id": channel, "name": "mpdm-buddies"}
            payload["message"] = {"ts": message_ts, "type": "message", "text": "x"}
            payload["response_url"] = self.fake.response_url()
        else:  # a button on the Home tab
            payload["container"] = {"type": "view", "view_id": "V0HOME001"}
            payload["view"] = {"id": "V0HOME001", "type": "home"}
        return payload

    async def press(self, action_id: str, value: str = "", user: str = "U0AAA001", **kw: Any) -> Sent:
        return await self.interactive(self.action_payload(action_id, value, user, **kw))

    def submission_payload(
        self, view: dict[str, Any], values: dict[str, Any], user: str = "U0AAA001"
    ) -> dict[str, Any]:
        """``view`` is what the app opened (as recorded by the fake); ``values`` maps block id to the
        element state Slack would report (see :func:`state_for`)."""
        return {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "fake-nhs"},
            "user": {
                "id": user,
                "username": "handle-" + user.lower(),
                "name": "handle-" + user.lower(),
                "team_id": TEAM,
            },
            "api_app_id": "A0BUDDY1",
            "token": "legacy-verification-token",
            "trigger_id": self.fake.trigger(),
            "view": {
                "id": "V0MODAL01",
                "team_id": TEAM,
                "type": "modal",
                "callback_id": view.get("callback_id", ""),
                "private_metadata": view.get("private_metadata", ""),
                "title": view.get("title"),
                "blocks": view.get("blocks", []),
                "state": {"values": values},
            },
            "response_urls": [],
        }

    async def submit(self, view: dict[str, Any], answers: dict[str, Any], user: str = "U0AAA001") -> Sent:
        return await self.interactive(self.submission_payload(view, state_for(view, answers), user))

    def event_body(self, event: dict[str, Any], event_id: str) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "api_app_id": "A0BUDDY1",
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM, "user_id": "U0BOT001", "is_bot": True}],
            }
        )

    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> Sent:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(self.event_body(event, event_id), "application/json", headers=headers)


def state_for(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Slack's ``view.state.values`` for ``answers`` (field id -> str | list | bool) typed into
    the inputs of ``view`` as rendered by the app."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        answer = answers.get(block["block_id"])
        kind = el["type"]
        state: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            state["value"] = answer
        elif kind == "static_select":
            state["selected_option"] = _find_option(el, answer) if answer else None
        elif kind == "multi_static_select":
            state["selected_options"] = [_find_option(el, a) for a in answer or []]
        elif kind == "checkboxes":
            state["selected_options"] = el["options"][:1] if answer else []
        elif kind == "datepicker":
            state["selected_date"] = answer
        elif kind == "file_input":
            state["files"] = list(answer or [])  # file objects from FakeSlack.upload
        values[block["block_id"]] = {el["action_id"]: state}
    return values


def _find_option(el: dict[str, Any], value: str) -> dict[str, Any]:
    groups = el.get("option_groups") or [{"options": el.get("options", [])}]
    for group in groups:
        for option in group["options"]:
            if option["value"] == value:
                return option
    raise AssertionError(f"no option {value!r} in {el['action_id']}")
