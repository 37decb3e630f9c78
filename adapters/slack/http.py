"""Slack on the project's aiohttp server: ``POST /slack/events`` (events, commands and
interactivity all use the one URL), plus the OAuth install pages when OAuth is configured."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack import guard
from adapters.slack.background import Background

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def add_routes(
    web_app: web.Application,
    bolt_app: AsyncApp,
    *,
    background: Background | None = None,
    signing_secret: str | None = None,
) -> None:
    secret = signing_secret if signing_secret is not None else getattr(bolt_app, "_signing_secret", "")

    async def events(request: web.Request) -> web.Response:
        """Checked by :mod:`adapters.slack.guard` first: 401 unsigned, 400 malformed, 200 for what
        Buddy has no use for; only the rest reaches Bolt. A listener that still fails is a 200 with
        nothing changed rather than a 500 that Slack would retry."""
        raw = await request.read()
        if not guard.signed(secret, raw, request.headers):
            log.info("rejected an unsigned Slack request")
            return web.json_response({"error": "invalid signature"}, status=401)
        verdict = guard.inspect(raw, request.headers.get("Content-Type", ""))
        if not verdict.passes:
            if verdict.status == 400:
                log.info("refused a malformed Slack request: %s", verdict.reason)
            if verdict.body is None:
                return web.Response(status=verdict.status)
            return web.Response(
                status=verdict.status, text=json.dumps(verdict.body), content_type="application/json"
            )
        try:
            bolt_request = _bolt_request(raw.decode("utf-8"), verdict.parsed, request)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as error:
            log.info("refused a Slack request Bolt cannot read: %s", type(error).__name__)
            return web.json_response({"error": "the body cannot be read"}, status=400)
        response = await bolt_app.async_dispatch(bolt_request)
        if response.status == 404:  # no listener for a well-formed request: nothing to do
            return web.Response(status=200)
        if response.status >= 500:
            log.error("a Slack listener failed (%s); answered 200", response.status)
            return web.Response(status=200)
        return await to_aiohttp_response(response)

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


def _bolt_request(text: str, parsed: Any, request: web.Request) -> AsyncBoltRequest:
    """Bolt's request, carrying the body as the guard read and checked it: Bolt would otherwise
    parse it again (the form, then the JSON inside it), and what it reads could differ from what
    was checked. Bolt takes a parsed body only in its Socket Mode; the request is then put back in
    HTTP mode with its raw text, so Bolt still verifies the signature over the bytes as sent."""
    bolt_request = AsyncBoltRequest(
        body=parsed if isinstance(parsed, dict) else {},
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
        mode="socket_mode",
    )
    bolt_request.raw_body, bolt_request.mode = text, "http"
    return bolt_request
