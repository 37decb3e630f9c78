"""The whole of ``buddybot serve --role web`` (Slack and Teams on one aiohttp server, the real engine
on a SQLite file) running on loopback in a thread of its own, so that plain synchronous tests, and
hypothesis, can send it requests over HTTP; with a dump of every table to prove nothing changed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import MetaData, create_engine, select

from bot.serve import prepare
from bot.settings import Settings
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.teams.fake_teams import FakeConnector

SECRET = "malformed-suite-signing-secret"
ADMIN = "U0ADMIN01"


def signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: bytes


class LiveApp:
    def __init__(self, database: str, admins: tuple[str, ...] = ()) -> None:
        self.database = database
        self.admins = admins or (f"{TEAM}:{ADMIN}",)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self.connector_url = ""

    def start(self) -> LiveApp:
        self.thread.start()
        self.call(self._start())
        return self

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _start(self) -> None:
        self.fake_slack = await FakeSlack().start()
        self.connector = FakeConnector()
        await self.connector.server.start_server()
        self.connector_url = self.connector.url
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": self.fake_slack.api_url, "BUDDY_TEAMS_DEV_MODE": "1"}  # fmt: skip
        settings = Settings(database_url=f"sqlite:///{self.database}", admins=self.admins)
        self.buddy, app = prepare(settings, "web", env)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    def close(self) -> None:
        async def stop() -> None:
            await self.runner.cleanup()
            await self.connector.server.close()
            await self.fake_slack.close()

        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    # ---- requests --------------------------------------------------------------------------

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read())

    def slack(self, body: bytes, content_type: str, *, timestamp: str | None = None,
              sig: str | None = None) -> Answer:  # fmt: skip
        ts = str(int(time.time())) if timestamp is None else timestamp
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": signature(body, ts) if sig is None else sig}  # fmt: skip
        return self.post("/slack/events", body, headers)

    def teams(self, body: bytes, headers: dict[str, str] | None = None) -> Answer:
        return self.post("/api/messages", body, {"Content-Type": "application/json", **(headers or {})})

    def healthy(self) -> bool:
        with urllib.request.urlopen(self.url + "/healthz", timeout=30) as response:
            return response.status == 200

    # ---- what is stored --------------------------------------------------------------------

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in a stable order."""
        engine = create_engine(f"sqlite:///{self.database}")
        try:
            meta = MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                return {
                    name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                    for name, table in sorted(meta.tables.items())
                }
        finally:
            engine.dispose()
