"""Slack on the project's aiohttp server: ``POST /slack/events`` (events, commands and
interactivity all use the one URL), plus the OAuth install pages when OAuth is configured."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.slack.background import Background

EVENTS_PATH = "/slack/events"


def add_routes(web_app: web.Application, bolt_app: AsyncApp, *, background: Background | None = None) -> None:
    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt_app.async_dispatch(await to_bolt_request(request)))

    web_app.router.add_post(EVENTS_PATH, events)

    flow = bolt_app.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

        async def redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

        web_app.router.add_get(flow.install_path, install)
        web_app.router.add_get(flow.redirect_uri_path, redirect)

    if background is not None:

        async def drain(_app: web.Application) -> None:
            try:
                await background.drain(timeout=10)
            except TimeoutError:
                pass

        web_app.on_shutdown.append(drain)
