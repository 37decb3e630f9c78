"""Programme entries (issue 15): meeting check-ins, task ratings and comments, evaluation answers.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programme_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name=op.f("fk_programme_entries_cohort_id_cohorts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_entries")),
        sa.UniqueConstraint("kind", "subject", "participant_id", "key", name="uq_programme_entries_once"),
    )
    op.create_index(op.f("ix_programme_entries_cohort_id"), "programme_entries", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_programme_entries_participant_id"), "programme_entries", ["participant_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_programme_entries_participant_id"), table_name="programme_entries")
    op.drop_index(op.f("ix_programme_entries_cohort_id"), table_name="programme_entries")
    op.drop_table("programme_entries")
