"""Consent as records: what a person agreed to or withdrew, the privacy notice's version, when.

Revision ID: 0012
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index("ix_consent_records_user", "consent_records", ["platform", "workspace", "user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_consent_records_user", table_name="consent_records")
    op.drop_table("consent_records")
