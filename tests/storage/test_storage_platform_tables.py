"""Migrations 0003, 0004 and 0005 create the platform adapters' tables exactly as the adapters define them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from adapters.slack.dedupe import metadata as slack_dedupe
from adapters.slack.installation import WideTokenInstallationStore
from adapters.slack.profiles import metadata as slack_profiles
from adapters.teams.tables import metadata as teams
from storage.database import make_engine
from storage.migrate import upgrade


def adapters_metadata() -> sa.MetaData:
    md = sa.MetaData()
    for table in [*teams.tables.values(), *slack_dedupe.tables.values(), *slack_profiles.tables.values()]:
        table.to_metadata(md)
    WideTokenInstallationStore.build_installations_table(md, "slack_installations")
    WideTokenInstallationStore.build_bots_table(md, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(md, "slack_oauth_states")
    return md


def test_the_migrated_platform_tables_match_the_adapters(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    md = adapters_metadata()
    only_platform = lambda name, type_, _p: type_ != "table" or name in md.tables  # noqa: E731
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": only_platform})
        assert compare_metadata(ctx, md) == []
    engine.dispose()
