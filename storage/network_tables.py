"""The network's tables (channels, events, RSVPs, subscriptions, coffee, experts): migration 0016."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.tables import metadata
from storage.types import UTCDateTime


def _who() -> list[Column[str]]:
    return [Column("platform", String(16), nullable=False), Column("workspace", String(64), nullable=False)]


organisers = Table(
    "network_organisers", metadata,
    Column("id", Integer, primary_key=True), *_who(), Column("user_id", String(64), nullable=False),
    UniqueConstraint("platform", "workspace", "user_id", name="uq_network_organisers_user"),
)  # fmt: skip

channels = Table(
    "network_channels", metadata,
    Column("id", Integer, primary_key=True), *_who(),
    Column("name", String(80), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("url", String(500), nullable=False, default=""),
    Column("channel_id", String(64), nullable=False, default=""),
    Column("region", String(64), nullable=False, default=""),
    Column("topics", JSON, nullable=False, default=list),
    UniqueConstraint("platform", "workspace", "name", name="uq_network_channels_name"),
)  # fmt: skip

events = Table(
    "network_events", metadata,
    Column("id", Integer, primary_key=True), *_who(),
    Column("number", Integer, nullable=False),
    Column("title", String(120), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("timezone", String(64), nullable=False, default="Europe/London"),
    Column("place", String(200), nullable=False, default=""),
    Column("link", String(500), nullable=False, default=""),
    Column("capacity", Integer, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("region", String(64), nullable=False, default=""),
    Column("topics", JSON, nullable=False, default=list),
    Column("volunteer_roles", JSON, nullable=False, default=list),
    Column("organisers", JSON, nullable=False, default=list),
    Column("cancelled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime),
    UniqueConstraint("platform", "workspace", "number", name="uq_network_events_number"),
)  # fmt: skip

rsvps = Table(
    "network_rsvps", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("network_events.id", ondelete="CASCADE"), nullable=False),
    *_who(), Column("user_id", String(64), nullable=False),
    Column("answer", String(16), nullable=False),
    Column("role", String(60), nullable=False, default=""),
    Column("at", UTCDateTime),
    UniqueConstraint("event_id", "platform", "workspace", "user_id", name="uq_network_rsvps_person"),
)  # fmt: skip

subscriptions = Table(
    "network_subscriptions", metadata,
    Column("id", Integer, primary_key=True), *_who(), Column("user_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(64), nullable=False),
    UniqueConstraint("platform", "workspace", "user_id", "kind", "value", name="uq_network_subscriptions_one"),
)  # fmt: skip

coffee_optins = Table(
    "coffee_optins", metadata,
    Column("id", Integer, primary_key=True), *_who(), Column("user_id", String(64), nullable=False),
    Column("every_weeks", Integer, nullable=False, default=2),
    Column("regions", JSON, nullable=False, default=list),
    Column("employer", String(120), nullable=False, default=""),
    Column("region", String(64), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("next_at", UTCDateTime),
    UniqueConstraint("platform", "workspace", "user_id", name="uq_coffee_optins_user"),
)  # fmt: skip

coffee_intros = Table(
    "coffee_intros", metadata,
    Column("id", Integer, primary_key=True), *_who(),
    Column("first", String(64), nullable=False),
    Column("second", String(64), nullable=False),
    Column("made_at", UTCDateTime, nullable=False),
    Column("met", String(16), nullable=False, default=""),
    Index("ix_coffee_intros_pair", "platform", "workspace", "first", "second"),
)  # fmt: skip

experts = Table(
    "network_experts", metadata,
    Column("id", Integer, primary_key=True), *_who(), Column("user_id", String(64), nullable=False),
    Column("name", String(80), nullable=False),
    Column("topics", JSON, nullable=False, default=list),
    UniqueConstraint("platform", "workspace", "user_id", name="uq_network_experts_user"),
)  # fmt: skip

expert_requests = Table(
    "expert_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("expert_id", Integer, ForeignKey("network_experts.id", ondelete="CASCADE"), nullable=False),
    Column("match_id", Integer, ForeignKey("matches.id", ondelete="CASCADE"), nullable=False),
    Column("topic", String(80), nullable=False),
    Column("status", String(16), nullable=False, default="asked"),
    Column("at", UTCDateTime),
)  # fmt: skip

double_dates = Table(
    "double_dates", metadata,
    Column("id", Integer, primary_key=True),
    Column("first_match", Integer, ForeignKey("matches.id", ondelete="CASCADE"), nullable=False),
    Column("second_match", Integer, ForeignKey("matches.id", ondelete="CASCADE"), nullable=False),
    Column("made_at", UTCDateTime, nullable=False),
    UniqueConstraint("first_match", "second_match", name="uq_double_dates_pair"),
)  # fmt: skip
