"""Conversation references and people, kept in the database so proactive sends survive restarts.

Every incoming activity (install, conversationUpdate, message, invoke) saves the reference of its
conversation; a personal chat's reference is also found by the person's AAD object id. Calls are
synchronous: run them with ``asyncio.to_thread`` from async code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, or_, select

from adapters.teams.tables import conversation_references, pending_files, seen_activities, upsert, users


@dataclass(frozen=True)
class TeamsUser:
    tenant_id: str
    user_id: str  # AAD object id
    bot_user_id: str = ""
    display_name: str = ""
    upn: str = ""


def reference_from_activity(activity: dict[str, Any]) -> dict[str, Any]:
    """The Bot Framework ConversationReference (JSON form) of an incoming activity."""
    return {
        "activityId": activity.get("id"),
        "user": activity.get("from"),
        "bot": activity.get("recipient"),
        "conversation": activity.get("conversation"),
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }


def tenant_of(activity: dict[str, Any]) -> str:
    conversation = activity.get("conversation") or {}
    tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
    return str(tenant or conversation.get("tenantId") or "")


class ReferenceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, reference: dict[str, Any], tenant_id: str) -> None:
        conversation = reference.get("conversation") or {}
        conversation_id = conversation.get("id")
        if not conversation_id or not reference.get("serviceUrl"):
            return
        kind = conversation.get("conversationType") or ""
        person = reference.get("user") or {}
        user_id = (person.get("aadObjectId") or None) if kind == "personal" else None
        row = {
            "conversation_id": conversation_id,
            "tenant_id": tenant_id,
            "conversation_type": kind,
            "service_url": reference["serviceUrl"],
            "user_id": user_id,
            "reference": json.dumps(reference, sort_keys=True),
            "updated_at": datetime.now(UTC),
        }
        if user_id is None:
            row.pop("user_id")  # keep the personal-chat owner a later group activity must not erase
        with self.engine.begin() as conn:
            conn.execute(upsert(self.engine, conversation_references, row, ["conversation_id"]))

    def get(self, conversation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            text = conn.execute(
                select(conversation_references.c.reference).where(
                    conversation_references.c.conversation_id == conversation_id
                )
            ).scalar()
        return json.loads(text) if text else None

    def personal_for(self, tenant_id: str, user_id: str) -> dict[str, Any] | None:
        t = conversation_references
        with self.engine.connect() as conn:
            text = conn.execute(
                select(t.c.reference)
                .where(
                    t.c.tenant_id == tenant_id, t.c.user_id == user_id, t.c.conversation_type == "personal"
                )
                .order_by(t.c.updated_at.desc())
                .limit(1)
            ).scalar()
        return json.loads(text) if text else None

    def service_url_for(self, tenant_id: str) -> str | None:
        """The most recent service URL seen for a tenant (Teams uses one per region)."""
        t = conversation_references
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.c.service_url)
                .where(t.c.tenant_id == tenant_id)
                .order_by(t.c.updated_at.desc())
                .limit(1)
            ).scalar()

    def bot_account(self, tenant_id: str) -> dict[str, Any] | None:
        """The bot's channel account as seen in this tenant (``28:<app id>``)."""
        t = conversation_references
        with self.engine.connect() as conn:
            text = conn.execute(
                select(t.c.reference)
                .where(t.c.tenant_id == tenant_id)
                .order_by(t.c.updated_at.desc())
                .limit(1)
            ).scalar()
        return (json.loads(text).get("bot") if text else None) or None

    def save_user(self, user: TeamsUser) -> None:
        row = {
            "tenant_id": user.tenant_id,
            "user_id": user.user_id,
            "bot_user_id": user.bot_user_id,
            "display_name": user.display_name,
            "upn": user.upn,
            "updated_at": datetime.now(UTC),
        }
        if not user.upn:
            row.pop("upn")  # do not forget a UPN learned earlier
        with self.engine.begin() as conn:
            conn.execute(upsert(self.engine, users, row, ["tenant_id", "user_id"]))

    def user(self, tenant_id: str, user_id: str) -> TeamsUser | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.tenant_id == tenant_id, users.c.user_id == user_id)
            ).first()
        if row is None:
            return None
        return TeamsUser(row.tenant_id, row.user_id, row.bot_user_id, row.display_name, row.upn)

    def user_by_bot_id(self, tenant_id: str, bot_user_id: str) -> TeamsUser | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.tenant_id == tenant_id, users.c.bot_user_id == bot_user_id)
            ).first()
        if row is None:
            return None
        return TeamsUser(row.tenant_id, row.user_id, row.bot_user_id, row.display_name, row.upn)

    def forget_user(self, tenant_id: str, user_id: str, needles: Sequence[str] = ()) -> int:
        """Drop what the adapter knows of a person (name, UPN, their 1:1 chat reference and any
        file offered to them), on an erasure request; with ``needles`` (their name, their words),
        also files offered to others and replayed answers that carry them. The number of rows removed."""
        c = conversation_references.c
        words = [n for n in needles if n]
        with self.engine.begin() as conn:
            removed = conn.execute(
                delete(users).where(users.c.tenant_id == tenant_id, users.c.user_id == user_id)
            )
            chats = conn.execute(
                delete(conversation_references).where(c.tenant_id == tenant_id, c.user_id == user_id)
            )
            files = conn.execute(
                delete(pending_files).where(
                    pending_files.c.tenant_id == tenant_id, pending_files.c.user_id == user_id
                )
            )
            count = int(removed.rowcount or 0) + int(chats.rowcount or 0) + int(files.rowcount or 0)
            if words:
                for table, column in ((pending_files, pending_files.c.content), (seen_activities, seen_activities.c.response),
                                      (conversation_references, c.reference)):  # fmt: skip
                    found = conn.execute(
                        delete(table).where(or_(*(column.contains(w, autoescape=True) for w in words)))
                    )
                    count += int(found.rowcount or 0)
        return count

    def export_user(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        """What the adapter keeps about a person, for a subject access request."""
        c = conversation_references.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.tenant_id == tenant_id, users.c.user_id == user_id)
            ).first()
            chats = conn.execute(select(c.conversation_id, c.conversation_type, c.updated_at).where(
                c.tenant_id == tenant_id, c.user_id == user_id)).all()  # fmt: skip
            files = conn.execute(select(pending_files.c.filename, pending_files.c.created_at).where(
                pending_files.c.tenant_id == tenant_id, pending_files.c.user_id == user_id)).all()  # fmt: skip
        return {
            "directory entry": {"name": row.display_name, "upn": row.upn, "teams_id": row.bot_user_id} if row else {},
            "chats with Buddy": [{"type": r.conversation_type, "last_used": r.updated_at.isoformat()} for r in chats],
            "files waiting for you to accept": [{"file": r.filename, "offered_at": r.created_at.isoformat()}
                                                for r in files],
        }  # fmt: skip

    def display_names(self, tenant_id: str, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users.c.user_id, users.c.display_name).where(
                    users.c.tenant_id == tenant_id, users.c.user_id.in_(sorted(user_ids))
                )
            ).all()
        return {r.user_id: r.display_name for r in rows if r.display_name}
