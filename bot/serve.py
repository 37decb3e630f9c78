"""``buddybot serve``: the web server (health now; Slack and Teams routes as their adapters land)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.bootstrap import bootstrap
from bot.settings import Settings
from conversations.delivery import drain_forever

log = logging.getLogger(__name__)


def build_web_app(settings: Settings) -> web.Application:
    app = web.Application()

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", health)
    return app


def serve(settings: Settings, role: str) -> int:
    buddy = bootstrap(settings.database_url, {}, seed=settings.seed, admins=settings.admins)
    app = build_web_app(settings)
    if role in ("all", "worker"):
        wake = asyncio.Event()

        async def start_sender(_app: web.Application) -> None:
            _app["sender_task"] = asyncio.create_task(drain_forever(buddy.sender, wake))

        app.on_startup.append(start_sender)
    web.run_app(app, host=settings.host, port=settings.port, print=log.info)
    return 0
