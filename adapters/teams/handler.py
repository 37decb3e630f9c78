"""The ``/api/messages`` HTTP endpoint: authenticate, run the turn, write the answer.

Authentication runs before the turn and any failure of it answers 401. botbuilder would answer
500 for a malformed ``Authorization`` header while authentication is off, and for a garbage bearer
token while it is on; neither is a server error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import BotFrameworkAuthentication

from adapters.teams import guard
from adapters.teams.bot import RAW_ACTIVITY_KEY, BuddyTeamsBot
from adapters.teams.serialise import invoke_body
from adapters.teams.settings import TeamsSettings

log = logging.getLogger(__name__)


def make_authentication(settings: TeamsSettings) -> BotFrameworkAuthentication:
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    endpoints = settings.auth_endpoints
    if endpoints is not None:
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = endpoints.openid_metadata_url
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = endpoints.openid_metadata_url
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = endpoints.token_issuer
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = endpoints.login_url
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = endpoints.oauth_scope
        config.VALIDATE_AUTHORITY = True
    return ConfigurationBotFrameworkAuthentication(config)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def messages_handler(
    adapter: CloudAdapter, authentication: BotFrameworkAuthentication, bot: BuddyTeamsBot
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "expected application/json")
        try:
            body = guard.parse(await request.read())
        except guard.Malformed as problem:
            return _problem(400, str(problem))
        auth_header = request.headers.get("Authorization", "")
        service_url = body.get("serviceUrl") if isinstance(body, dict) else None
        channel_id = body.get("channelId") if isinstance(body, dict) else None
        claims = Activity(  # what authentication reads, so a malformed body is still a 401 first
            service_url=service_url if isinstance(service_url, str) else None,
            channel_id=channel_id if isinstance(channel_id, str) else None,
        )
        try:
            authenticated = await authentication.authenticate_request(claims, auth_header)
        except Exception as error:  # noqa: BLE001 - any failure to authenticate is a 401
            log.info("rejected an unauthenticated Teams request: %s", type(error).__name__)
            return _problem(401, "unauthorized")
        verdict = guard.inspect(body)
        if verdict.status:
            if verdict.status == 400:
                log.info("refused a malformed Teams activity: %s", verdict.reason)
                return _problem(400, verdict.reason)
            if verdict.body is None:
                return web.Response(status=verdict.status)
            return web.json_response(verdict.body, status=verdict.status)
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest raises a few kinds of errors on odd input
            return _problem(400, "body is not an activity")

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[RAW_ACTIVITY_KEY] = body
            await bot.on_turn(turn_context)

        try:
            invoke_response = await adapter.process_activity(authenticated, activity, logic)
        except Exception:  # the turn failed after the checks: logged, nothing half-claimed, no 500
            log.exception("a Teams turn failed")
            return web.Response(status=200)
        if invoke_response is None:
            return web.Response(status=200)
        payload = invoke_body(invoke_response)
        if payload is None:
            return web.Response(status=int(invoke_response.status))
        return web.Response(
            status=int(invoke_response.status), text=json.dumps(payload), content_type="application/json"
        )

    return messages
