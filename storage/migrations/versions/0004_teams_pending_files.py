"""Files a Teams person has been offered (an export) and not yet accepted: Teams bots send files
only after the person accepts a file consent card, so the content waits here until then.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_pending_files",
        sa.Column("file_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id"),
    )
    op.create_index(op.f("ix_teams_pending_files_created_at"), "teams_pending_files", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_teams_pending_files_created_at"), table_name="teams_pending_files")
    op.drop_table("teams_pending_files")
