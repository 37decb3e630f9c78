"""Alembic environment: the connection comes from ``storage.migrate`` (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
