"""Fakes on loopback for the Teams tests: a Bot Connector service, Microsoft Graph with its token
endpoint, and Activity builders. They speak HTTP and JSON only, so the tests hold whatever SDK
the adapter uses."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.test_utils import TestServer

TENANT = "tenant-1"
BOT_ID = "28:bot-app-id"
BOT_NAME = "Buddy"


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str]

    @property
    def conversation_id(self) -> str:
        parts = self.path.split("/")
        return unquote(parts[3]) if len(parts) > 3 else ""


@dataclass
class Scripted:
    status: int
    code: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (outcome unknown)


class FakeConnector:
    """The Bot Connector at an activity's ``serviceUrl``: records what the bot sends."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Scripted] = []
        self.members: dict[str, dict[str, Any]] = {}
        # who has the bot's app (AAD object ids); None: everyone. A 1:1 chat with anyone else is
        # refused with 403 BotNotInConversationRoster, as Teams does
        self.apps_installed: set[str] | None = None
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_put("/onedrive/{name}", self._upload)
        app.router.add_get("/downloads/{name}", self._download)
        self.shared: dict[str, bytes] = {}  # files people attached in a chat, by name
        self.uploads: dict[str, tuple[bytes, dict[str, str]]] = {}  # name -> (bytes, headers)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))

    def attach(self, name: str, content: bytes) -> dict[str, Any]:
        """A file someone attaches in a chat with the bot, as the activity carries it."""
        self.shared[name] = content
        url = str(self.server.make_url(f"/downloads/{name}"))
        return {"contentType": "application/vnd.microsoft.teams.file.download.info", "name": name,
                "content": {"downloadUrl": url, "uniqueId": f"u-{name}", "fileType": name.rpartition(".")[2]}}  # fmt: skip

    async def _download(self, request: web.Request) -> web.Response:
        content = self.shared.get(request.match_info["name"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    def upload_url(self, name: str) -> str:
        """Where Teams would let the bot put a file the person accepted (their OneDrive)."""
        return str(self.server.make_url(f"/onedrive/{name}"))

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        total = len(data)
        if request.headers.get("Content-Range") != f"bytes 0-{total - 1}/{total}":
            return web.json_response({"error": "bad Content-Range"}, status=400)
        self.uploads[request.match_info["name"]] = (data, dict(request.headers))
        return web.json_response({"id": "onedrive-1", "name": request.match_info["name"]}, status=201)

    def fail_next(self, status: int, times: int = 1, code: str = "", **headers: str) -> None:
        self.failures.extend(Scripted(status, code, dict(headers)) for _ in range(times))

    def drop_next(self) -> None:
        self.failures.append(Scripted(0, drop=True))

    def sent(self, conversation_id: str | None = None) -> list[Call]:
        """Activities the bot posted or updated (optionally in one conversation)."""
        return [
            c
            for c in self.calls
            if "/activities" in c.path and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def cards(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            a["content"] for c in self.sent(conversation_id) for a in (c.body or {}).get("attachments") or []
        ]

    async def _record(self, request: web.Request) -> Call:
        body = await request.json() if request.can_read_body else None
        call = Call(request.method, request.path, body, dict(request.headers))
        self.calls.append(call)
        return call

    async def _scripted(self, request: web.Request) -> web.StreamResponse | None:
        if not self.failures:
            return None
        failure = self.failures.pop(0)
        if failure.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        body = {"error": {"code": failure.code or "Failure", "message": "scripted"}}
        return web.json_response(body, status=failure.status, headers=failure.headers)

    async def _create(self, request: web.Request) -> web.StreamResponse:
        call = await self._record(request)
        scripted = await self._scripted(request)
        if scripted is not None:
            return scripted
        body = call.body or {}
        if self.apps_installed is not None and not body.get("isGroup"):
            for member in body.get("members") or []:
                if member.get("id", "").removeprefix("29:") not in self.apps_installed:
                    return web.json_response({"error": {"code": "BotNotInConversationRoster",
                                                        "message": "The bot is not part of the conversation roster."}},
                                             status=403)  # fmt: skip
        return web.json_response({"id": f"a:created-{next(self._ids)}"})

    async def _send(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        scripted = await self._scripted(request)
        if scripted is not None:
            return scripted
        return web.json_response({"id": request.match_info.get("aid") or f"activity-{next(self._ids)}"})

    async def _member(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        member = self.members.get(unquote(request.match_info["mid"]))
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)


class FakeGraph:
    """Microsoft Graph and its token endpoint, recording chats created and apps installed."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tokens_issued = 0
        self.failures: list[Scripted] = []
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/login/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/graph/chats", self._chats)
        app.router.add_post("/graph/chats/{chat}/installedApps", self._install)
        app.router.add_get("/graph/users/{mail}", self._user)
        app.router.add_post("/graph/teams/{team}/members", self._add_member)
        # teams by id, with their members' AAD object ids; blocked people cannot be added (404)
        self.teams: dict[str, set[str]] = {}
        self.blocked: set[str] = set()
        app.router.add_post("/graph/users/{user}/teamwork/installedApps", self._install_for_user)
        # the app's id in the tenant's catalogue; who has it in their personal scope (AAD object ids)
        self.catalog_app_id = "catalog-app-1"
        self.apps_installed: set[str] = set()
        self.refuse_installs = False  # answer installs 403 Forbidden (permission not granted)
        # people by email (GET /users/{mail}); a lookup of anyone else is 404 Request_ResourceNotFound
        self.users: dict[str, dict[str, Any]] = {}
        self.user_lookups_per_second: float | None = None  # when set, faster lookups are answered 429
        self.throttled = 0
        self._lookups: list[float] = []
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/graph"))

    @property
    def login_url(self) -> str:
        return str(self.server.make_url("/login"))

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        self.calls.append(Call("POST", request.path, dict(form), dict(request.headers)))
        if form.get("client_secret") != "graph-secret" or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens_issued += 1
        return web.json_response({"access_token": f"graph-token-{self.tokens_issued}", "expires_in": 3600})

    async def _authorised(self, request: web.Request) -> Call:
        call = Call(request.method, request.path, await request.json(), dict(request.headers))
        self.calls.append(call)
        return call

    async def _chats(self, request: web.Request) -> web.StreamResponse:
        call = await self._authorised(request)
        if not call.headers.get("Authorization", "").startswith("Bearer graph-token-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.failures:
            f = self.failures.pop(0)
            return web.json_response(
                {"error": {"code": f.code or "Failure"}}, status=f.status, headers=f.headers
            )
        return web.json_response(
            {"id": f"19:chat-{next(self._ids)}@thread.v2", "chatType": "group"}, status=201
        )

    def add_user(self, object_id: str, name: str, mail: str) -> None:
        self.users[mail.lower()] = {
            "id": object_id,
            "displayName": name,
            "mail": mail,
            "userPrincipalName": mail,
        }

    async def _user(self, request: web.Request) -> web.StreamResponse:
        call = Call(request.method, request.path_qs, None, dict(request.headers))
        self.calls.append(call)
        if not call.headers.get("Authorization", "").startswith("Bearer graph-token-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.user_lookups_per_second:
            now = time.monotonic()
            self._lookups = [t for t in self._lookups if t > now - 1.0]
            if len(self._lookups) >= self.user_lookups_per_second:
                self.throttled += 1
                return web.json_response({"error": {"code": "TooManyRequests"}}, status=429,
                                         headers={"Retry-After": "1"})  # fmt: skip
            self._lookups.append(now)
        user = self.users.get(request.match_info["mail"].lower())
        if user is None:
            return web.json_response({"error": {"code": "Request_ResourceNotFound",
                                                "message": f"Resource '{request.match_info['mail']}' does not exist"}},
                                     status=404)  # fmt: skip
        wanted = request.query.get("$select", "")
        return web.json_response({k: v for k, v in user.items() if not wanted or k in wanted.split(",")})

    async def _add_member(self, request: web.Request) -> web.StreamResponse:
        """``POST /teams/{team-id}/members`` as documented: an ``aadUserConversationMember`` with
        ``roles`` (empty for a member, ``owner`` for an owner) and ``user@odata.bind``; 201 Created
        with the conversationMember; 404 for an unknown team or a disabled or blocked user."""
        call = await self._authorised(request)
        if not call.headers.get("Authorization", "").startswith("Bearer graph-token-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        body = call.body if isinstance(call.body, dict) else {}
        bind = str(body.get("user@odata.bind", ""))
        prefix, suffix = "https://graph.microsoft.com/v1.0/users('", "')"
        roles = body.get("roles")
        if body.get("@odata.type") != "#microsoft.graph.aadUserConversationMember" or not isinstance(roles, list) \
                or not set(roles) <= {"owner", "guest"} or not (bind.startswith(prefix) and bind.endswith(suffix)):  # fmt: skip
            return web.json_response({"error": {"code": "BadRequest", "message": "Invalid conversationMember"}},
                                     status=400)  # fmt: skip
        user = bind[len(prefix) : -len(suffix)]
        members = self.teams.get(unquote(request.match_info["team"]))
        if members is None or user in self.blocked:
            return web.json_response({"error": {"code": "NotFound", "message": "Not found"}}, status=404)
        members.add(user)
        return web.json_response({"@odata.type": "#microsoft.graph.aadUserConversationMember",
                                  "id": f"member-{user}", "roles": roles, "userId": user}, status=201)  # fmt: skip

    async def _install_for_user(self, request: web.Request) -> web.StreamResponse:
        """``POST /users/{id}/teamwork/installedApps``: 201 with no body; 409 Conflict when the
        person has the app already; 404 for nobody in the tenant; 400 for another app."""
        call = await self._authorised(request)
        if not call.headers.get("Authorization", "").startswith("Bearer graph-token-"):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.refuse_installs:
            return web.json_response({"error": {"code": "Forbidden", "message": "Missing role permissions"}},
                                     status=403)  # fmt: skip
        wanted = f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{self.catalog_app_id}"
        if (call.body or {}).get("teamsApp@odata.bind") != wanted:
            return web.json_response({"error": {"code": "BadRequest", "message": "unknown app"}}, status=400)
        user = unquote(request.match_info["user"])
        if user not in {u["id"] for u in self.users.values()}:
            return web.json_response({"error": {"code": "NotFound", "message": "user not found"}}, status=404)
        if user in self.apps_installed:
            return web.json_response({"error": {"code": "Conflict", "message": "App is already installed."}},
                                     status=409)  # fmt: skip
        self.apps_installed.add(user)
        return web.Response(status=201)

    async def _install(self, request: web.Request) -> web.StreamResponse:
        await self._authorised(request)
        return web.Response(status=201)


# ---- activities -----------------------------------------------------------------------------

_activity_ids = itertools.count(1)


def account(user: str, name: str = "") -> dict[str, Any]:
    """A person: Bot Framework id ``29:<user>`` and AAD object id ``<user>``."""
    return {"id": f"29:{user}", "name": name or user.title(), "aadObjectId": user}


def personal_conversation(user: str) -> dict[str, Any]:
    return {"id": f"a:personal-{user}", "conversationType": "personal", "tenantId": TENANT}


def activity(
    kind: str,
    service_url: str,
    user: str = "alice",
    *,
    conversation: dict[str, Any] | None = None,
    activity_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": activity_id or f"f:{next(_activity_ids)}",
        "timestamp": "2025-01-06T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": account(user),
        "conversation": conversation or personal_conversation(user),
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-GB",
        **fields,
    }


def message(service_url: str, text: str, user: str = "alice", **fields: Any) -> dict[str, Any]:
    return activity("message", service_url, user, text=text, textFormat="plain", **fields)


def invoke(service_url: str, name: str, value: Any, user: str = "alice", **fields: Any) -> dict[str, Any]:
    return activity("invoke", service_url, user, name=name, value=value, **fields)


def bot_added(service_url: str, user: str = "alice", **fields: Any) -> dict[str, Any]:
    return activity(
        "conversationUpdate", service_url, user, membersAdded=[{"id": BOT_ID}, account(user)], **fields
    )
