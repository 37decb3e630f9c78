"""A fake Slack Web API on a real loopback aiohttp server.

It records every call and rejects what Slack would reject: missing token or arguments, unknown
users and channels, views and messages over Slack's limits, expired ``trigger_id``s. Tests point
an ``AsyncWebClient`` at :attr:`FakeSlack.api_url` with ``base_url``.

Trigger ids carry their issue time (``trig.<epoch ms>.<n>``, see :meth:`FakeSlack.trigger`) so
the 3-second expiry is checked for real. ``response_url``s point back at this server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from adapters.slack.settings import BOT_SCOPES

JSON = dict[str, Any]

TEAM = "T0TEAM01"
BOT_USER = "U0BOT001"
BOT_TOKEN = "xoxb-test-token"
TRIGGER_TTL = 3.0
# Per method, per workspace: at most this many calls in any minute, then HTTP 429 with Retry-After.
# users.lookupByEmail is Tier 3 ("50+ per minute"); the fake holds it to exactly 50.
RATE_LIMITS = {"users.lookupByEmail": 50.0}


@dataclass
class Call:
    method: str
    args: JSON
    token: str | None


@dataclass
class Conversation:
    id: str
    members: frozenset[str]
    kind: str  # "im", "mpim", "channel"
    messages: list[JSON] = field(default_factory=list)


@dataclass
class Fault:
    error: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection after reading the request


class FakeSlack:
    def __init__(self, users: dict[str, JSON] | None = None, tokens: dict[str, str] | None = None) -> None:
        self.users: dict[str, JSON] = users if users is not None else default_users()
        self.tokens = tokens if tokens is not None else {BOT_TOKEN: TEAM}
        self.calls: list[Call] = []
        self.responses: list[JSON] = []  # bodies posted to response_url
        self.conversations: dict[str, Conversation] = {}
        self.views: dict[str, JSON] = {}  # view id -> view (modals)
        self.homes: dict[str, JSON] = {}  # user id -> published home view
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (name, content)
        self.files_readable = True  # False: the app lacks files:read, so downloads get the sign-in page
        self.pending_uploads: dict[
            str, tuple[str, int, bytes | None]
        ] = {}  # file id -> (name, length, bytes)
        self._faults: dict[str, list[Fault]] = {}
        self.scopes: tuple[str, ...] | None = BOT_SCOPES  # the x-oauth-scopes header; None: not sent
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering
        self.rate_limits = dict(RATE_LIMITS)  # calls per minute; a benchmark may scale them (and says so)
        self.throttled: dict[str, int] = {}  # method -> calls answered 429 by the enforced rate
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._by_email: dict[tuple[str, str], JSON] = {}
        self._indexed = -1
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    # ---- helpers for tests ---------------------------------------------------------------

    def trigger(self, issued_at: float | None = None) -> str:
        """A trigger id as Slack would send it, issued ``issued_at`` (default: now)."""
        issued = time.time() if issued_at is None else issued_at
        return f"trig.{int(issued * 1000)}.{next(self._ids)}"

    def response_url(self) -> str:
        return f"{self.base}/respond/{next(self._ids)}"

    def fail(self, method: str, error: str, *, times: int = 1, status: int = 200) -> None:
        self._faults.setdefault(method, []).extend([Fault(error, status)] * times)

    def drop_after(self, method: str) -> None:
        """Perform the next ``method`` call, then reset the connection instead of answering."""
        self._faults.setdefault(method, []).append(Fault("", drop=True))

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        fault = Fault("ratelimited", 429, {"Retry-After": str(retry_after)})
        self._faults.setdefault(method, []).extend([fault] * times)

    def upload(self, name: str, content: bytes, mimetype: str = "text/csv") -> JSON:
        """A file someone picked in a ``file_input``, as Slack reports it in ``view.state``."""
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = (name, content)
        return {
            "id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rpartition(".")[2],
            "size": len(content), "url_private": f"{self.base}/files-pri/{TEAM}-{file_id}/{name}",
            "url_private_download": f"{self.base}/files-pri/{TEAM}-{file_id}/download/{name}",
        }  # fmt: skip

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def open_dm(self, user: str) -> str:
        """The app's DM with ``user`` (as conversations.open would give), e.g. to type in it."""
        return str(self._m_conversations_open({"users": user}, TEAM)["channel"]["id"])

    def add_channel(self, channel_id: str, members: set[str]) -> None:
        self.conversations[channel_id] = Conversation(channel_id, frozenset(members), "channel")

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy (the app does some work after its ack)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return predicate()

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        await self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
        return self.calls_to(method)

    def messages_in(self, channel: str) -> list[JSON]:
        return self.conversations[channel].messages

    # ---- HTTP ----------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        await self._notify()
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """``url_private_download``: the bytes for a bot token with files:read; otherwise, as Slack
        does, its sign-in page (HTML) with status 200."""
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        file_id = request.match_info["team_file"].rpartition("-")[2]
        self.calls.append(Call("files.download", {"file": file_id}, token))
        await self._notify()
        if token not in self.tokens or not self.files_readable or file_id not in self.files:
            return web.Response(
                text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>", content_type="text/html"
            )
        name, content = self.files[file_id]
        return web.Response(body=content, content_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of an external upload: the bytes, to the URL files.getUploadURLExternal gave."""
        file_id = request.match_info["file_id"]
        if file_id not in self.pending_uploads:
            return web.Response(status=404, text="unknown upload")
        name, length, _ = self.pending_uploads[file_id]
        content = await request.read()
        if len(content) != length:
            return web.Response(status=400, text=f"expected {length} bytes, got {len(content)}")
        self.pending_uploads[file_id] = (name, length, content)
        return web.Response(text="OK - " + str(length))

    def _m_files_getUploadURLExternal(self, args: JSON, team: str) -> JSON:
        name = _required(args, "filename")
        length = int(_required(args, "length"))
        if length <= 0:
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self.pending_uploads[file_id] = (name, length, None)
        return {"upload_url": f"{self.base}/upload/v1/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: JSON, team: str) -> JSON:
        wanted = _json_arg(_required(args, "files"))
        conv = self._conversation(_required(args, "channel_id")) if args.get("channel_id") else None
        shared = []
        for entry in wanted:
            name, _, content = self.pending_uploads.get(entry.get("id"), ("", 0, None))
            if content is None:
                raise SlackError("file_not_found")
            self.files[entry["id"]] = (name, content)
            shared.append(
                {"id": entry["id"], "name": name, "title": entry.get("title") or name, "size": len(content)}
            )
        if conv is not None:
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            conv.messages.append({"ts": ts, "text": args.get("initial_comment", ""), "blocks": [], "user": BOT_USER,
                                  "files": shared})  # fmt: skip
        return {"files": shared}

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _read_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else args.get("token")
        self.calls.append(Call(method, args, token))
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        try:
            faults = self._faults.get(method)
            fault = faults.pop(0) if faults else None
            if fault and not fault.drop:
                body = {"ok": False, "error": fault.error}
                return web.json_response(body, status=fault.status, headers=fault.headers)
            wait = self._over_rate(method, self.tokens.get(token or "", ""))
            if wait is not None:
                self.throttled[method] = self.throttled.get(method, 0) + 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            response = self._call(method, args, token)
            if fault and fault.drop:
                # The call took effect but its answer is lost: the case a sender must not resend blindly.
                assert request.transport is not None
                request.transport.abort()
            return response
        finally:
            await self._notify()

    def _over_rate(self, method: str, team: str) -> float | None:
        """Seconds until another call is allowed, if this one is over the method's rate."""
        per_minute = self.rate_limits.get(method)
        if per_minute is None or not team:
            return None
        window, count = 60.0, max(1, int(per_minute))
        if per_minute > 60:  # a scaled rate: the same pace over a shorter window
            window, count = 60.0 / per_minute * 50, 50
        recent = self._recent.setdefault((method, team), deque())
        now = time.monotonic()
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= count:
            return recent[0] + window - now
        recent.append(now)
        return None

    def _call(self, method: str, args: JSON, token: str | None) -> web.Response:
        if method == "oauth.v2.access":
            return self._oauth_access(args)
        if not token:
            return _error("not_authed")
        if token not in self.tokens:
            return _error("invalid_auth")
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        try:
            result = handler(args, self.tokens[token])
        except SlackError as e:
            return web.json_response({"ok": False, "error": e.code, **e.extra}, headers=self._scope_header())
        return web.json_response({"ok": True, **result}, headers=self._scope_header())

    def _scope_header(self) -> dict[str, str]:
        """Slack answers every call made with a valid token with the token's scopes."""
        return {} if self.scopes is None else {"X-OAuth-Scopes": ",".join(self.scopes)}

    # ---- methods -------------------------------------------------------------------------

    oauth_codes: dict[str, tuple[str, str]] = {}  # code -> (team id, installer); set by tests

    def _oauth_access(self, args: JSON) -> web.Response:
        code = args.get("code", "")
        if code not in self.oauth_codes:
            return _error("invalid_code")
        team, installer = self.oauth_codes.pop(code)
        bot_token = f"xoxb-{team.lower()}-installed"
        self.tokens[bot_token] = team
        return web.json_response({
            "ok": True, "access_token": bot_token, "token_type": "bot", "scope": "commands,chat:write",
            "bot_user_id": BOT_USER, "app_id": "A0BUDDY1", "team": {"id": team, "name": "New Trust"},
            "enterprise": None, "authed_user": {"id": installer}, "is_enterprise_install": False,
        })  # fmt: skip

    def _m_auth_test(self, args: JSON, team: str) -> JSON:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake NHS",
            "team_id": team,
            "user": "buddy",
            "user_id": BOT_USER,
            "bot_id": "B0BOT001",
            "is_enterprise_install": False,
        }

    def _m_users_info(self, args: JSON, team: str) -> JSON:
        user = self._user(_required(args, "user"))
        return {"user": user}

    def _m_users_lookupByEmail(self, args: JSON, team: str) -> JSON:
        """Needs ``users:read.email``; an email nobody in the workspace has is ``users_not_found``."""
        email = str(_required(args, "email")).strip().lower()
        if self._indexed != len(self.users):  # an index, so a benchmark's 20,000 people stay quick
            self._indexed = len(self.users)
            self._by_email = {(u.get("team_id", TEAM), (u.get("profile") or {}).get("email", "").lower()): u
                              for u in self.users.values()}  # fmt: skip
        user = self._by_email.get((team, email))
        if user is None:
            raise SlackError("users_not_found")
        return {"user": user}

    def _m_conversations_open(self, args: JSON, team: str) -> JSON:
        if args.get("channel"):
            conv = self._conversation(args["channel"])
            return {"channel": {"id": conv.id}}
        raw = _required(args, "users")
        ids = [u.strip() for u in (raw if isinstance(raw, list) else str(raw).split(",")) if u.strip()]
        if len(ids) > 8:
            raise SlackError("too_many_users")
        for uid in ids:
            if uid == BOT_USER:
                raise SlackError("cannot_dm_bot")
            user = self._user(uid)
            if user.get("deleted"):
                raise SlackError("user_disabled")
        members = frozenset(ids) | {BOT_USER}
        kind = "im" if len(ids) == 1 else "mpim"
        for conv in self.conversations.values():
            if conv.members == members and conv.kind == kind:
                return {"channel": {"id": conv.id}, "already_open": True}
        cid = ("D" if kind == "im" else "G") + f"0{next(self._ids):07d}"
        self.conversations[cid] = Conversation(cid, members, kind)
        return {"channel": {"id": cid}}

    def _m_conversations_invite(self, args: JSON, team: str) -> JSON:
        """As documented: the caller must be in the channel (else ``not_in_channel``); up to 1000
        users; ``already_in_channel`` when the one invited is a member; ``cant_invite_self`` for
        the bot itself."""
        conv = self._conversation(_required(args, "channel"))
        if conv.kind != "channel":
            raise SlackError("method_not_supported_for_channel_type")
        raw = _required(args, "users")
        ids = [u.strip() for u in str(raw).split(",") if u.strip()]
        if not ids or len(ids) > 1000:  # "Up to 1000 users may be listed"
            raise SlackError("invalid_arguments" if not ids else "too_many_users")
        for uid in ids:
            if uid == BOT_USER:
                raise SlackError("cant_invite_self")
            self._user(uid)
        if len(ids) == 1 and ids[0] in conv.members:
            raise SlackError("already_in_channel")
        conv.members = conv.members | frozenset(ids)
        return {"channel": {"id": conv.id, "is_channel": True}}

    def _m_chat_postMessage(self, args: JSON, team: str) -> JSON:
        channel = _required(args, "channel")
        if channel.startswith(("U", "W")):  # posting to a member id lands in the app's DM with them
            channel = self._m_conversations_open({"users": channel}, team)["channel"]["id"]
        conv = self._conversation(channel)
        blocks = _json_arg(args.get("blocks"))
        if not args.get("text") and not blocks:
            raise SlackError("no_text")
        if blocks:
            check_message_blocks(blocks)
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": blocks or [],
            "user": BOT_USER,
            "unfurl_links": args.get("unfurl_links"),
            "unfurl_media": args.get("unfurl_media"),
        }
        metadata = _json_arg(args.get("metadata"))
        if metadata:
            if not metadata.get("event_type") or not isinstance(metadata.get("event_payload"), dict):
                raise SlackError("invalid_metadata_format")
            message["metadata"] = metadata
        conv.messages.append(message)
        return {
            "channel": conv.id,
            "ts": ts,
            "message": {k: v for k, v in message.items() if k != "metadata"},
        }

    def _m_chat_update(self, args: JSON, team: str) -> JSON:
        conv = self._conversation(_required(args, "channel"))
        ts = _required(args, "ts")
        blocks = _json_arg(args.get("blocks"))
        if blocks:
            check_message_blocks(blocks)
        for message in conv.messages:
            if message["ts"] == ts:
                message.update(text=args.get("text", message["text"]), blocks=blocks or [])
                return {"channel": conv.id, "ts": ts}
        raise SlackError("message_not_found")

    def _m_chat_postEphemeral(self, args: JSON, team: str) -> JSON:
        conv = self._conversation(_required(args, "channel"))
        user = _required(args, "user")
        if user not in conv.members:
            raise SlackError("user_not_in_channel")
        blocks = _json_arg(args.get("blocks"))
        if blocks:
            check_message_blocks(blocks)
        return {"message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    def _m_conversations_history(self, args: JSON, team: str) -> JSON:
        conv = self._conversation(_required(args, "channel"))
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(args.get("limit", 100))
        out = []
        for message in reversed(conv.messages):
            m = dict(message)
            if not with_meta:
                m.pop("metadata", None)
            out.append(m)
        return {"messages": out[:limit], "has_more": len(out) > limit}

    def _m_views_open(self, args: JSON, team: str) -> JSON:
        trigger = _required(args, "trigger_id")
        view = _json_arg(_required(args, "view"))
        try:
            _, issued_ms, _ = trigger.split(".")
            issued = int(issued_ms) / 1000
        except ValueError:
            raise SlackError("invalid_trigger_id") from None
        if time.time() - issued > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        check_view(view, "modal")
        vid = f"V0{next(self._ids):07d}"
        self.views[vid] = view
        return {"view": {"id": vid, **view}}

    def _m_views_update(self, args: JSON, team: str) -> JSON:
        vid = _required(args, "view_id")
        view = _json_arg(_required(args, "view"))
        if vid not in self.views:
            raise SlackError("not_found")
        check_view(view, "modal")
        self.views[vid] = view
        return {"view": {"id": vid, **view}}

    def _m_views_publish(self, args: JSON, team: str) -> JSON:
        user = _required(args, "user_id")
        self._user(user)
        view = _json_arg(_required(args, "view"))
        check_view(view, "home")
        self.homes[user] = view
        return {"view": {"id": f"V0{next(self._ids):07d}", **view}}

    # ---- lookups -------------------------------------------------------------------------

    def _user(self, user_id: str) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _conversation(self, channel: str) -> Conversation:
        conv = self.conversations.get(channel)
        if conv is None:
            raise SlackError("channel_not_found")
        if BOT_USER not in conv.members:
            raise SlackError("not_in_channel")
        return conv


class SlackError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


def _required(args: JSON, name: str) -> Any:
    value = args.get(name)
    if value in (None, ""):
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {name}"]}
        )
    return value


def _json_arg(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


async def _read_args(request: web.Request) -> JSON:
    args: JSON = dict(request.query)
    body = await request.read()
    if not body:
        return args
    if request.content_type == "application/json":
        args.update(json.loads(body))
    else:
        args.update(parse_qsl(body.decode(), keep_blank_values=True))
    return args


# ---- Block Kit checks (the limits Slack enforces) ---------------------------------------------


def _invalid(reason: str) -> SlackError:
    return SlackError("invalid_blocks", response_metadata={"messages": [f"[ERROR] {reason}"]})


def _text(obj: Any, limit: int, where: str, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        raise _invalid(f"{where}: expected a text object of type {kinds}")
    text = obj.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        raise _invalid(f"{where}: text must be 1..{limit} characters")


def _check_block(block: JSON, i: int, surface: str) -> None:
    kind = block.get("type")
    where = f"blocks[{i}]"
    if len(block.get("block_id", "")) > 255:
        raise _invalid(f"{where}: block_id too long")
    if kind == "header":
        _text(block.get("text"), 150, where, ("plain_text",))
    elif kind == "divider":
        pass
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            raise _invalid(f"{where}: section needs text or fields")
        if "text" in block:
            _text(block["text"], 3000, where)
        fields = block.get("fields", [])
        if len(fields) > 10:
            raise _invalid(f"{where}: more than 10 fields")
        for f in fields:
            _text(f, 2000, where)
    elif kind == "context":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= 10:
            raise _invalid(f"{where}: context needs 1..10 elements")
        for e in elements:
            _text(e, 3000, where)
    elif kind == "actions":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= 25:
            raise _invalid(f"{where}: actions needs 1..25 elements")
        ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(ids) != len(set(ids)):
            raise _invalid(f"{where}: action_id values must be unique in a block")
        for e in elements:
            _check_element(e, where)
    elif kind == "input":
        if surface != "modal":
            raise _invalid(f"{where}: input blocks only in modals")
        _text(block.get("label"), 2000, where, ("plain_text",))
        if "hint" in block:
            _text(block["hint"], 2000, where, ("plain_text",))
        _check_element(block.get("element", {}), where)
    else:
        raise _invalid(f"{where}: unknown block type {kind!r}")


def _check_element(e: JSON, where: str) -> None:
    kind = e.get("type")
    if len(e.get("action_id", "")) > 255:
        raise _invalid(f"{where}: action_id too long")
    if kind == "button":
        _text(e.get("text"), 75, where, ("plain_text",))
        if len(e.get("value", "")) > 2000:
            raise _invalid(f"{where}: button value over 2000")
        if "value" in e and not e["value"]:
            raise _invalid(f"{where}: empty button value")
    elif kind == "plain_text_input":
        if not 1 <= int(e.get("max_length", 3000)) <= 3000:
            raise _invalid(f"{where}: max_length must be 1..3000")
        if "placeholder" in e:
            _text(e["placeholder"], 150, where, ("plain_text",))
    elif kind in ("static_select", "multi_static_select"):
        options = e.get("options")
        groups = e.get("option_groups")
        if (options is None) == (groups is None):
            raise _invalid(f"{where}: exactly one of options and option_groups")
        for group in groups or [{"options": options}]:
            if not 1 <= len(group["options"]) <= 100:
                raise _invalid(f"{where}: 1..100 options")
            for o in group["options"]:
                _text(o.get("text"), 75, where, ("plain_text",))
                if not 1 <= len(o.get("value", "")) <= 150:
                    raise _invalid(f"{where}: option value 1..150")
    elif kind == "checkboxes":
        if not 1 <= len(e.get("options", [])) <= 10:
            raise _invalid(f"{where}: checkboxes take 1..10 options")
    elif kind == "datepicker":
        pass
    elif kind == "file_input":
        types = e.get("filetypes", [])
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise _invalid(f"{where}: filetypes must be a list of extensions")
        if not 1 <= int(e.get("max_files", 10)) <= 10:
            raise _invalid(f"{where}: max_files must be 1..10")
    else:
        raise _invalid(f"{where}: unknown element {kind!r}")


def check_message_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list):
        raise _invalid("blocks must be a list")
    if len(blocks) > 50:
        raise _invalid("no more than 50 items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        _check_block(block, i, "message")


def check_view(view: Any, kind: str) -> None:
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] view type must be {kind}"]}
        )
    blocks = view.get("blocks", [])
    if len(blocks) > 100:
        raise _invalid("no more than 100 items allowed [json-pointer:/view/blocks]")
    for i, block in enumerate(blocks):
        _check_block(block, i, kind)
    if kind == "modal":
        _text(view.get("title"), 24, "title", ("plain_text",))
        for name in ("submit", "close"):
            if name in view:
                _text(view[name], 24, name, ("plain_text",))
        if any(b.get("type") == "input" for b in blocks) and "submit" not in view:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] submit required"]})
    if len(view.get("private_metadata", "")) > 3000:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": ["[ERROR] private_metadata over 3000"]}
        )
    if len(view.get("callback_id", "")) > 255:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": ["[ERROR] callback_id over 255"]}
        )
    if len(json.dumps(view)) > 250_000:
        raise SlackError("view_too_large")


def default_users() -> dict[str, JSON]:
    people = {
        "U0AAA001": ("asha", "Dr Asha Patel", "asha.patel@nhs.net"),
        "U0BBB002": ("ben", "Ben Okafor", "ben.okafor@nhs.net"),
        "U0CCC003": ("chloe", "Dr Chloe Wright", "chloe.wright@nhs.net"),
        "U0DDD004": ("dev", "Dev Sharma", "dev.sharma@nhs.net"),
        "U0EEE005": ("ella", "Ella Brown", "ella.brown@nhs.net"),
        "U0FFF006": ("femi", "Femi Ade", "femi.ade@nhs.net"),
        "U0GGG007": ("gita", "Gita Rao", "gita.rao@nhs.net"),
        "U0HHH008": ("hal", "Hal Jones", "hal.jones@nhs.net"),
        "U0III009": ("ivy", "Ivy Chen", "ivy.chen@nhs.net"),
        "U0COORD1": ("coord", "Carol Coordinator", "carol.coordinator@nhs.net"),
    }
    users = {
        uid: {
            "id": uid,
            "team_id": TEAM,
            "name": name,
            "real_name": real,
            "deleted": False,
            "profile": {"display_name": real, "real_name": real, "email": email},
        }
        for uid, (name, real, email) in people.items()
    }
    users["U0GONE01"] = {"id": "U0GONE01", "team_id": TEAM, "name": "gone", "deleted": True, "profile": {}}
    users[BOT_USER] = {
        "id": BOT_USER,
        "team_id": TEAM,
        "name": "buddy",
        "is_bot": True,
        "deleted": False,
        "profile": {"display_name": "Buddy"},
    }
    return users
