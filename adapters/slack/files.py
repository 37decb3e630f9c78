"""Files uploaded through a modal's ``file_input``: fetched with the bot token (scope
``files:read``) before the submission reaches the engine, which sees only their text.

A fetch must fit inside the submission's 3 s acknowledgement, so it has a short deadline and a size
cap; anything that goes wrong becomes an error beside the file field, never a lost submission.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.uploads import MAX_BYTES, TOO_BIG, decode_text

log = logging.getLogger(__name__)

JSON = dict[str, Any]

FETCH_SECONDS = 1.2  # of the 3 s Slack gives a submission; the engine needs the rest

NOT_ALLOWED = ("Slack didn't let me read that file. Whoever installed Buddy may need to reinstall it so "
               "that it has the files:read permission.")  # fmt: skip
UNREACHABLE = "I couldn't fetch that file from Slack just now. Please try again."


def uploads(view: JSON) -> list[tuple[str, JSON]]:
    """(block id, Slack file object) for every file in the view's ``file_input`` elements."""
    found: list[tuple[str, JSON]] = []
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            if element.get("type") == "file_input":
                found += [(block_id, f) for f in element.get("files") or [] if isinstance(f, dict)]
    return found


async def fetch_uploads(client: AsyncWebClient, view: JSON) -> tuple[dict[str, str], dict[str, str]]:
    """The text of each uploaded file by file id, and an error by block id for those that failed."""
    found = uploads(view)
    if not found:
        return {}, {}
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    shared: aiohttp.ClientSession | None = getattr(client, "session", None)
    session = shared or aiohttp.ClientSession()
    try:
        results = await asyncio.gather(*(_fetch(session, client.token or "", f) for _, f in found))
    finally:
        if shared is None:
            await session.close()
    for (block_id, file), (text, error) in zip(found, results, strict=True):
        if error:
            errors.setdefault(block_id, error)
        else:
            texts[str(file.get("id"))] = text
    return texts, errors


async def _fetch(session: aiohttp.ClientSession, token: str, file: JSON) -> tuple[str, str]:
    """(text, "") or ("", why not)."""
    if int(file.get("size") or 0) > MAX_BYTES:
        return "", TOO_BIG
    url = file.get("url_private_download") or file.get("url_private")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return "", UNREACHABLE
    try:
        async with asyncio.timeout(FETCH_SECONDS):
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(url, headers=headers) as response:
                # Without files:read Slack answers with (a redirect to) its sign-in page: HTML.
                if response.status in (401, 403) or "text/html" in response.content_type:
                    log.warning("file %s: Slack refused the download (%s)", file.get("id"), response.status)
                    return "", NOT_ALLOWED
                if response.status != 200:
                    return "", UNREACHABLE
                body = await response.content.read(MAX_BYTES + 1)
    except (TimeoutError, aiohttp.ClientError) as error:
        log.warning("file %s: download failed: %s", file.get("id"), type(error).__name__)
        return "", UNREACHABLE
    if len(body) > MAX_BYTES:
        return "", TOO_BIG
    return decode_text(body)
