"""Files in Teams. Sending one to a person: a bot may only do so after the person accepts a file
consent card in their 1:1 chat. The file waits in ``teams_pending_files`` until they accept (Teams
then gives an upload URL in their OneDrive), decline, or a day passes. Receiving one: a file
attached in the 1:1 chat arrives with a short-lived download URL (``supportsFiles``).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from botbuilder.schema import Attachment
from sqlalchemy import Engine, delete, insert, select

from adapters.teams.tables import pending_files
from adapters.uploads import MAX_BYTES, decode_text
from conversations.core.views import FileAttachment

DOWNLOAD_CONTENT_TYPE = "application/vnd.microsoft.teams.file.download.info"  # a file sent to the bot
CONSENT_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
INFO_CONTENT_TYPE = "application/vnd.microsoft.teams.card.file.info"
KEEP_FOR = timedelta(days=1)
UPLOAD_SECONDS = 30
UNREACHABLE = "I couldn't fetch that file from Teams just now. Please send it again."
BINARY = "data:application/octet-stream;base64,"  # how a binary file's content is kept while it waits


class PendingFiles:
    """Synchronous (SQLAlchemy Core): call from async code with ``asyncio.to_thread``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def offer(self, tenant_id: str, user_id: str, file: FileAttachment) -> str:
        now = datetime.now(UTC)
        file_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(delete(pending_files).where(pending_files.c.created_at < now - KEEP_FOR))
            conn.execute(insert(pending_files).values(file_id=file_id, tenant_id=tenant_id, user_id=user_id,
                                                      filename=file.filename, content=_stored(file), created_at=now))  # fmt: skip
        return file_id

    def take(self, file_id: str, tenant_id: str, user_id: str) -> FileAttachment | None:
        """The file, if it is still waiting and was offered to this person; it stops waiting."""
        p = pending_files.c
        mine = (p.file_id == file_id) & (p.tenant_id == tenant_id) & (p.user_id == user_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(p.filename, p.content).where(mine)).first()
            if row is None:
                return None
            conn.execute(delete(pending_files).where(mine))
        if row.content.startswith(BINARY):
            return FileAttachment(row.filename, "", data=base64.b64decode(row.content[len(BINARY) :]))
        return FileAttachment(row.filename, row.content)


BINARY = "base64:"  # a binary file (a spreadsheet) waits as text with this prefix


def _stored(file: FileAttachment) -> str:
    return BINARY + base64.b64encode(file.data).decode("ascii") if file.data else file.content


def consent_card(file: FileAttachment, file_id: str) -> Attachment:
    """The attachment that asks the person to accept the file."""
    content = {
        "description": file.title or file.filename,
        "sizeInBytes": len(file.payload()),
        "acceptContext": {"buddy_file": file_id},
        "declineContext": {"buddy_file": file_id},
    }
    return Attachment(content_type=CONSENT_CONTENT_TYPE, name=file.filename, content=content)


def info_card(upload_info: Any) -> Attachment:
    """The attachment that shows the uploaded file in the chat."""
    content = {"uniqueId": upload_info.unique_id, "fileType": upload_info.file_type}
    return Attachment(content_type=INFO_CONTENT_TYPE, content_url=upload_info.content_url, name=upload_info.name,
                      content=content)  # fmt: skip


async def upload(upload_url: str, file: FileAttachment) -> None:
    """Put the bytes in the place Teams gave (one range: the whole file). Raises on failure."""
    data = file.payload()
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    timeout = aiohttp.ClientTimeout(total=UPLOAD_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.put(upload_url, data=data, headers=headers) as response:
            if response.status not in (200, 201):
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)


def shared_files(activity: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, download URL) of each file attached to a message."""
    found = []
    for attachment in activity.get("attachments") or []:
        if (attachment or {}).get("contentType") == DOWNLOAD_CONTENT_TYPE:
            url = (attachment.get("content") or {}).get("downloadUrl")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                found.append((str(attachment.get("name") or "file"), url))
    return found


async def fetch(url: str) -> tuple[str, str]:
    """(text, "") or ("", why not) for a file's download URL (it needs no token)."""
    timeout = aiohttp.ClientTimeout(total=UPLOAD_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            if response.status != 200:
                return "", UNREACHABLE
            body = await response.content.read(MAX_BYTES + 1)
    except (TimeoutError, aiohttp.ClientError):
        return "", UNREACHABLE
    return decode_text(body)
