"""Event dedupe and the encrypted installation store, on real databases."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.dedupe import MemoryDedupe, SqlDedupe
from adapters.slack.installation import TokenDecryptionError, build_oauth_stores, installation_tokens

BOT_TOKEN = "xoxb-1111-2222-" + "a" * 24


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'slack.db'}"
    url = os.environ.get("BUDDY_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("BUDDY_REQUIRE_POSTGRES"):
            pytest.fail("BUDDY_REQUIRE_POSTGRES is set but BUDDY_TEST_POSTGRES_URL is not")
        pytest.skip("BUDDY_TEST_POSTGRES_URL not set")
    return url


async def test_memory_dedupe_expires_and_releases() -> None:
    clock = [0.0]
    d = MemoryDedupe(ttl=10, now=lambda: clock[0])
    assert await d.claim("Ev1") and not await d.claim("Ev1")
    await d.release("Ev1")
    assert await d.claim("Ev1")
    clock[0] = 11
    assert await d.claim("Ev1")


async def test_sql_dedupe_is_shared_by_processes(db_url: str) -> None:
    engines = [sa.create_engine(db_url) for _ in range(2)]  # two web processes, one database
    first, second = SqlDedupe(engines[0]), SqlDedupe(engines[1])
    first.create_table()
    try:
        with engines[0].begin() as conn:
            conn.execute(sa.text("DELETE FROM slack_event_ids"))
        results = await asyncio.gather(*[(first if i % 2 else second).claim("Ev42") for i in range(8)])
        assert sorted(results) == [False] * 7 + [True]
        await second.release("Ev42")
        assert await first.claim("Ev42")
    finally:
        for e in engines:
            e.dispose()


async def test_tokens_are_encrypted_at_rest(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'oauth.db'}")
    key = Fernet.generate_key().decode()
    store, states = build_oauth_stores(engine, client_id="111.222", encryption_keys=key)
    installation = Installation(
        app_id="A1",
        team_id="T0TEAM01",
        user_id="U0COORD1",
        bot_token=BOT_TOKEN,
        bot_id="B1",
        bot_user_id="U0BOT001",
        bot_scopes="commands,chat:write",
        user_token="xoxp-secret-user-token",
    )
    await store.async_save(installation)

    with engine.connect() as conn:
        raw = " ".join(
            str(v)
            for table in ("slack_installations", "slack_bots")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
            for v in row
        )
    assert BOT_TOKEN not in raw and "xoxp-secret-user-token" not in raw
    assert installation.bot_token == BOT_TOKEN  # the caller's object is untouched

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0TEAM01")
    assert bot is not None and bot.bot_token == BOT_TOKEN
    found = await store.async_find_installation(enterprise_id=None, team_id="T0TEAM01")
    assert found is not None and found.user_token == "xoxp-secret-user-token"
    assert await installation_tokens(store)("T0TEAM01") == BOT_TOKEN
    with pytest.raises(LookupError):
        await installation_tokens(store)("T0OTHER1")

    rotated, _ = build_oauth_stores(
        engine, client_id="111.222", encryption_keys=f"{Fernet.generate_key().decode()},{key}"
    )
    assert (await rotated.async_find_bot(enterprise_id=None, team_id="T0TEAM01")).bot_token == BOT_TOKEN
    wrong, _ = build_oauth_stores(engine, client_id="111.222", encryption_keys=Fernet.generate_key().decode())
    with pytest.raises(TokenDecryptionError) as caught:
        await wrong.async_find_bot(enterprise_id=None, team_id="T0TEAM01")
    assert BOT_TOKEN not in str(caught.value)

    state = await states.async_issue()
    assert await states.async_consume(state) and not await states.async_consume(state)
    engine.dispose()
