"""scale-out: shared pacing slots, staged match rounds, a shared Slack profile cache

Revision ID: 0005
Revises: 0004

``pace_slots`` lets several workers on PostgreSQL share each platform's rate limits (a row per
pacing key and limit). ``matches.stage_token`` and ``match_proposals.introduced_at`` let
``match confirm`` stage a big round in slices and reveal it in one short transaction. The
``slack_profiles`` table (the Slack adapter's, as in 0003) shares ``users.info`` answers between
web processes.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pace_slots",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("tat", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pace_slots")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_token", sa.String(length=36), nullable=False, server_default=""))
    with op.batch_alter_table("match_proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("introduced_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "slack_profiles",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_index(op.f("ix_slack_profiles_fetched_at"), "slack_profiles", ["fetched_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_profiles_fetched_at"), table_name="slack_profiles")
    op.drop_table("slack_profiles")
    with op.batch_alter_table("match_proposals", schema=None) as batch_op:
        batch_op.drop_column("introduced_at")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("stage_token")
    op.drop_table("pace_slots")
