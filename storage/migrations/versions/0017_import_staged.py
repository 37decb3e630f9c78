"""Survey imports staged a slice at a time: the people wait in ``import_staged``, unseen, until
one short transaction moves them into participants (all or nothing, no long write lock).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_staged",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("specialist_area", sa.String(length=32), nullable=False),
        sa.Column("profession", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=False),
        sa.Column("specialty", sa.String(length=40), nullable=False),
        sa.Column("employer", sa.String(length=120), nullable=False),
        sa.Column("employer_type", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("consent_data", sa.Boolean(), nullable=False),
        sa.Column("consent_share", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"], name=op.f("fk_import_staged_batch_id_import_batches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_staged")),
        sa.UniqueConstraint("batch_id", "user_id", name="uq_import_staged_person"),
    )
    with op.batch_alter_table("import_staged", schema=None) as batch_op:
        batch_op.create_index("ix_import_staged_batch_participant", ["batch_id", "participant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_staged", schema=None) as batch_op:
        batch_op.drop_index("ix_import_staged_batch_participant")
    op.drop_table("import_staged")
