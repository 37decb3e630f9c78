"""Microsoft Graph, app-only: create a group chat for an introduction and install the bot in it;
install the bot for a person so it can write to them first; add someone to a team whose channel
they asked to join.

A bot cannot create a group chat; Graph can (``POST /chats``, application permission
``Chat.Create``), and ``POST /chats/{id}/installedApps`` (``TeamsAppInstallation.
ReadWriteSelfForChat.All``) puts the app into it so the bot can post there. Likewise a bot can
open a 1:1 chat only with someone who has its app: ``POST /users/{id}/teamwork/installedApps``
(``TeamsAppInstallation.ReadWriteSelfForUser.All``) installs it in their personal scope first
("Proactive installation of apps using Graph API"; 409 Conflict when they have it already). The token comes from
the client-credentials grant; base URLs are settings so tests point at fakes. Secrets and tokens
are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.teams.retry import (
    DEFAULT_POLICY,
    RETRY_STATUSES,
    RetryPolicy,
    Sleep,
    backoff_delay,
    parse_retry_after,
)
from adapters.teams.settings import GraphSettings
from conversations.ports.messenger import DeliveryError

log = logging.getLogger(__name__)
SCOPE = "https://graph.microsoft.com/.default"


class GraphClient:
    def __init__(
        self,
        settings: GraphSettings,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def _access_token(self, session: aiohttp.ClientSession) -> str:
        async with self._token_lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            url = f"{self.settings.login_url}/{self.settings.tenant_id}/oauth2/v2.0/token"
            form = {
                "grant_type": "client_credentials",
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
                "scope": SCOPE,
            }
            try:
                async with session.post(url, data=form) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200 or "access_token" not in body:
                        code = (body or {}).get("error", f"http_{response.status}")
                        raise DeliveryError(f"graph_token_{code}", retryable=response.status >= 500)
            except aiohttp.ClientError as error:
                raise DeliveryError("graph_token_unreachable", retryable=True) from error
            lifetime = float(body.get("expires_in", 3600))
            self._token = (body["access_token"], time.monotonic() + max(60.0, lifetime - 120))
            return self._token[0]

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None, *, idempotent: bool
    ) -> dict[str, Any]:
        url = self.settings.base_url + path
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for attempt in range(1, self.policy.attempts + 1):
                token = await self._access_token(session)
                headers = {"Authorization": f"Bearer {token}"}
                try:
                    async with session.request(method, url, json=payload, headers=headers) as response:
                        status = response.status
                        body = (
                            await response.json(content_type=None) if response.content_length != 0 else None
                        )
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                except aiohttp.ClientConnectorError as error:
                    status, body, retry_after = 0, None, None  # never reached the server: safe to retry
                    log.warning("graph %s %s: cannot connect (%s)", method, path, type(error).__name__)
                except (TimeoutError, aiohttp.ClientError) as error:
                    if not idempotent:
                        raise DeliveryError("graph_outcome_unknown", unknown=True) from error
                    status, body, retry_after = 0, None, None
                if 200 <= status < 300:
                    return body or {}
                if status == 401:
                    self._token = None
                code = _error_code(body) or f"http_{status}"
                retryable = status in RETRY_STATUSES or status in (0, 401)
                if not retryable:
                    raise DeliveryError(f"graph_{code}")
                if attempt == self.policy.attempts or (retry_after or 0) > self.policy.max_retry_after:
                    raise DeliveryError(f"graph_{code}", retryable=True, retry_after=retry_after)
                await self.sleep(backoff_delay(attempt, self.policy, self.rng, retry_after))
        raise AssertionError("unreachable")

    async def create_group_chat(self, member_ids: Sequence[str], topic: str = "") -> str:
        """A new group chat with these people (AAD object ids); returns its id (``19:...@thread.v2``)."""
        payload: dict[str, Any] = {
            "chatType": "group",
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "roles": ["owner"],
                    "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{member}')",
                }
                for member in member_ids
            ],
        }
        if topic:
            payload["topic"] = topic[:250]
        # not idempotent: a lost answer could leave a chat behind, and a retry would make a second
        body = await self._call("POST", "/chats", payload, idempotent=False)
        chat_id = body.get("id")
        if not chat_id:
            raise DeliveryError("graph_chat_without_id")
        return str(chat_id)

    async def add_team_member(self, team_id: str, user_id: str) -> None:
        """Add the person (an AAD object id) to the team as a member (``POST /teams/{team-id}/members``,
        ``roles`` empty for a member; application permission ``TeamMember.ReadWriteNonOwnerRole.All``)."""
        payload = {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": [],
            "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{user_id}')",
        }
        try:  # adding a member twice leaves one membership: safe to retry
            await self._call("POST", f"/teams/{quote(team_id, safe='')}/members", payload, idempotent=True)
        except DeliveryError as error:
            if "Conflict" not in error.code and "http_409" not in error.code:
                raise

    async def user_by_mail(self, mail: str) -> dict[str, Any] | None:
        """The person with this email (``GET /users/{mail}``, ``User.ReadBasic.All``): their AAD
        object id and name; None when the tenant has nobody with it (404)."""
        path = f"/users/{quote(mail, safe='@')}?$select=id,displayName,mail,userPrincipalName"
        try:
            return await self._call("GET", path, None, idempotent=True)
        except DeliveryError as error:
            if "NotFound" in error.code or error.code == "graph_http_404":  # Request_ResourceNotFound
                return None
            raise

    async def install_for_user(self, user_id: str) -> bool:
        """Install the bot's app in the person's personal scope (their AAD object id), so the bot
        can open a 1:1 chat with them; False when they had it already (409 Conflict)."""
        payload = {"teamsApp@odata.bind": self._catalog_app()}
        try:
            await self._call("POST", f"/users/{quote(user_id, safe='')}/teamwork/installedApps", payload,
                             idempotent=True)  # fmt: skip
        except DeliveryError as error:
            if "Conflict" in error.code or "http_409" in error.code:
                return False
            raise
        return True

    def _catalog_app(self) -> str:
        return f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{self.settings.catalog_app_id}"

    async def install_app(self, chat_id: str) -> None:
        """Install the bot's app into the chat; an app already there counts as installed."""
        payload = {"teamsApp@odata.bind": self._catalog_app()}
        try:
            await self._call("POST", f"/chats/{chat_id}/installedApps", payload, idempotent=True)
        except DeliveryError as error:
            if "Conflict" not in error.code and "http_409" not in error.code:
                raise


def _error_code(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code", ""))
    return ""
