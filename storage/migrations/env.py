"""Alembic environment: the connection comes from ``storage.migrate`` (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from storage.migrations.filters import include_name
from storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
