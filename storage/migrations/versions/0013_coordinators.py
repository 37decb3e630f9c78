"""Coordinators' inbox: what buddies write to their coordinators in chat, and the replies (issue 13).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name=op.f("fk_inbox_messages_cohort_id_cohorts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
    )
    op.create_index(op.f("ix_inbox_messages_participant_id"), "inbox_messages", ["participant_id"], unique=False)
    op.create_index(op.f("ix_inbox_messages_thread_id"), "inbox_messages", ["thread_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_messages_thread_id"), table_name="inbox_messages")
    op.drop_index(op.f("ix_inbox_messages_participant_id"), table_name="inbox_messages")
    op.drop_table("inbox_messages")
