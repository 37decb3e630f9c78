"""The Teams adapter's own tables (its own MetaData: adapters may not import ``storage``).

``bot`` adds them to the Alembic migration; tests create them with ``metadata.create_all``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Engine, Index, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

conversation_references = Table(
    "teams_conversation_references",
    metadata,
    Column("conversation_id", String(512), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("conversation_type", String(32), nullable=False, default=""),
    Column("service_url", String(512), nullable=False),
    Column("user_id", String(64), nullable=True),  # the person's AAD id, for personal chats
    Column("reference", Text, nullable=False),  # ConversationReference as JSON
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_teams_conversation_references_user", "tenant_id", "user_id"),
)

users = Table(
    "teams_users",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("user_id", String(64), primary_key=True),  # AAD object id
    Column("bot_user_id", String(255), nullable=False, default=""),  # "29:..." Bot Framework id
    Column("display_name", String(255), nullable=False, default=""),
    Column("upn", String(320), nullable=False, default=""),  # user principal name (often the email)
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

seen_activities = Table(
    "teams_seen_activities",
    metadata,
    Column("activity_key", String(64), primary_key=True),  # sha256 of channel, conversation, activity id
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
    Column("response", Text, nullable=True),  # an invoke's answer, replayed to a duplicate
)


pending_files = Table(
    "teams_pending_files",
    metadata,
    Column("file_id", String(36), primary_key=True),  # random; echoed back by the file consent card
    Column("tenant_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),  # the AAD id of the only person who may accept it
    Column("filename", String(255), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)


def upsert(engine: Engine, table: Table, values: dict[str, Any], keys: list[str], update: bool = True) -> Any:
    """INSERT .. ON CONFLICT (keys) DO UPDATE/NOTHING, on SQLite and PostgreSQL alike."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    if update:
        changes = {k: stmt.excluded[k] for k in values if k not in keys}
        return stmt.on_conflict_do_update(index_elements=keys, set_=changes)
    return stmt.on_conflict_do_nothing(index_elements=keys)
