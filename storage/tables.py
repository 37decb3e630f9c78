"""Table definitions. Alembic migrations in ``storage/migrations`` create exactly these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)

from storage.types import PhasesJSON, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("region", String(64), nullable=False, default=""),
    Column("registration_open", Boolean, nullable=False, default=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("cadence_weekday", Integer, nullable=False, default=0),
    Column("cadence_time", String(5), nullable=False, default="09:00"),
    Column("cadence_timezone", String(64), nullable=False, default="Europe/London"),
    Column("cadence_every_weeks", Integer, nullable=False, default=1),
    Column("nudge_pair_days", Integer, nullable=False, default=4),
    Column("nudge_individual_days", Integer, nullable=False, default=7),
    Column("alert_coordinator_days", Integer, nullable=False, default=10),
    Column("allow_trios", Boolean, nullable=False, default=False),
    Column("settings", JSON, nullable=False, default=dict),
    Column("current_round", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime),
)

coordinators = Table(
    "coordinators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    UniqueConstraint("cohort_id", "platform", "workspace", "user_id", name="uq_coordinators_identity"),
)


def profile_columns() -> list[Column[Any]]:
    """What a person tells Buddy about themselves: a participant's columns, and those of a survey
    import's people staged on their way in (fresh Column objects each call: a column has one table)."""
    return [
        Column("display_name", String(120), nullable=False),
        Column("email", String(254), nullable=False, default=""),
        Column("role", String(32), nullable=False),
        Column("specialist_area", String(32), nullable=False, default=""),
        Column("profession", String(32), nullable=False, default=""),
        Column("grade", String(40), nullable=False, default=""),
        Column("specialty", String(40), nullable=False, default=""),
        Column("employer", String(120), nullable=False, default=""),
        Column("employer_type", String(32), nullable=False, default=""),
        Column("region", String(40), nullable=False, default=""),
        Column("interests", JSON, nullable=False, default=list),
        Column("consent_data", Boolean, nullable=False, default=False),
        Column("consent_share", Boolean, nullable=False, default=False),
    ]


participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    *profile_columns(),
    Column("status", String(16), nullable=False),
    Column("registered_at", UTCDateTime),
    Column("last_active_at", UTCDateTime),
    Column("unreachable", Boolean, nullable=False, default=False),
    UniqueConstraint("cohort_id", "platform", "workspace", "user_id", name="uq_participants_identity"),
    Index("ix_participants_identity", "platform", "workspace", "user_id"),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False),
    Column("conversation", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    # a group staged by a ``match confirm`` still under way (status "staged"): its attempt's token (0005)
    Column("stage_token", String(36), nullable=False, default="", server_default=""),
    Index("ix_matches_cohort_status", "cohort_id", "status"),
)

match_members = Table(
    "match_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("match_id", Integer, ForeignKey("matches.id", ondelete="CASCADE"), nullable=False),
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("match_id", "participant_id", name="uq_match_members_pair"),
    Index("ix_match_members_participant", "participant_id"),
)

match_proposals = Table(
    "match_proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("created_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("introduced_at", UTCDateTime),  # every introduction of the confirmed round queued (0005)
)

task_definitions = Table(
    "task_definitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("title", String(120), nullable=False),
    Column("summary", Text, nullable=False),
    Column("instructions", Text, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("due_days", Integer, nullable=False),
    Column("phases", PhasesJSON, nullable=False),
    Column("competencies", JSON, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("source", String(255), nullable=False, default="builtin"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("match_id", Integer, ForeignKey("matches.id", ondelete="CASCADE"), nullable=False),
    Column("task_key", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    UniqueConstraint("match_id", "task_key", name="uq_assignments_match_task"),
)

responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment_id", Integer, ForeignKey("assignments.id", ondelete="CASCADE"), nullable=False),
    Column("phase", String(40), nullable=False),
    Column("owner_id", Integer, nullable=False),
    Column("author_id", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    UniqueConstraint("assignment_id", "phase", "owner_id", name="uq_responses_owner"),
)

nudges = Table(
    "nudges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment_id", Integer, ForeignKey("assignments.id", ondelete="CASCADE"), nullable=False),
    Column("level", String(16), nullable=False),
    Column("participant_id", Integer, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    UniqueConstraint("assignment_id", "level", "participant_id", name="uq_nudges_once"),
)

programme_entries = Table(
    "programme_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("participant_id", Integer, nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("subject", Integer, nullable=False),
    Column("key", String(40), nullable=False),
    Column("value", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "subject", "participant_id", "key", name="uq_programme_entries_once"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="SET NULL"), nullable=True),
    Column("actor", String(120), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Column("at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("recipient", JSON, nullable=False),
    Column("message", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("error", Text, nullable=False, default=""),
    Column("result", JSON, nullable=False, default=dict),
    Column("match_id", Integer, nullable=True),
    Column("claimed_at", UTCDateTime),  # when a sender took the row; a lease for recovery (0002)
    Column("claimed_by", String(64), nullable=False, default=""),  # which sender took it (0002)
    Index("ix_outbox_status_not_before", "status", "not_before"),
)

consent_records = Table(  # issue 12: consent as records (migration 0012)
    "consent_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("cohort_id", Integer, nullable=True),
    Column("kind", String(32), nullable=False),
    Column("agreed", Boolean, nullable=False),
    Column("notice_version", String(64), nullable=False),
    Column("wording", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("source", String(32), nullable=False, default="form"),
    Index("ix_consent_records_user", "platform", "workspace", "user_id"),
)

inbox_messages = Table(  # issue 13: buddies' messages to their coordinators, and the replies
    "inbox_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("participant_id", Integer, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("author", String(120), nullable=False, default=""),
    Column("thread_id", Integer, nullable=True, index=True),
    Column("resolved_at", UTCDateTime),
    Column("reminded_at", UTCDateTime),
)

import_batches = Table(  # survey imports on their way in (0014)
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("filename", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("mapping", JSON, nullable=False, default=dict),
    Column("checks", JSON, nullable=False, default=list),
    Column("created_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Index("ix_import_batches_status", "status"),
)

import_rows = Table(  # one person of a survey import (0014)
    "import_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("email", String(254), nullable=False, default=""),
    Column("profile", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),
    Column("user_id", String(64), nullable=False, default=""),
    Column("reason", String(200), nullable=False, default=""),
    Index("ix_import_rows_batch_state", "batch_id", "state"),
)

import_staged = (
    Table(  # a survey import's people on their way into participants, unseen until revealed (0017)
        "import_staged",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("batch_id", Integer, ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False),
        Column("participant_id", Integer, nullable=True),  # someone already in the cohort: updated, not added
        Column("user_id", String(64), nullable=False),
        *profile_columns(),
        UniqueConstraint("batch_id", "user_id", name="uq_import_staged_person"),
        Index("ix_import_staged_batch_participant", "batch_id", "participant_id"),
    )
)

# APScheduler 3's SQLAlchemyJobStore table, declared here (same shape, 0002) so that migrations own
# it and autogenerate does not propose dropping it.
scheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

# Shared pacing (PostgreSQL, several workers): one row per pacing key and limit, holding the
# limit's theoretical arrival time (GCRA) in seconds on the database's clock (0005).
pace_slots = Table(
    "pace_slots",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("tat", Float(53), nullable=False),
)

# The network's tables live in their own module; importing it registers them on ``metadata``.
import storage.network_tables  # noqa: E402,F401
