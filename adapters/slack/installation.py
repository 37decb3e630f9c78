"""Multi-workspace installs: slack_sdk's SQLAlchemy stores, with tokens encrypted at rest.

slack_sdk stores bot and user tokens in plain text. :class:`EncryptedInstallationStore` encrypts
them with Fernet before they reach the table and decrypts them on the way out, so a database dump
holds no usable token. ``SLACK_TOKEN_ENCRYPTION_KEY`` may list several comma-separated keys: the
first encrypts, all decrypt (rotate by putting a new key first, re-saving, then dropping the old).

The sync slack_sdk stores run in a worker thread: they accept the same ``sqlite:///`` and
``postgresql+psycopg://`` engines as the rest of Buddy (no async driver needed).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from adapters.slack.messenger import TokenProvider

TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
TOKEN_COLUMN_LENGTH = 1000  # a Fernet token is ~2.7x the plain token; slack_sdk's String(200) is too short
STATE_EXPIRY_SECONDS = 600

T = TypeVar("T", Bot, Installation)


class TokenDecryptionError(RuntimeError):
    """A stored token could not be decrypted: wrong SLACK_TOKEN_ENCRYPTION_KEY, or stored unencrypted."""


def make_cipher(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


class WideTokenInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's tables, with token columns wide enough for ciphertext."""

    @classmethod
    def build_installations_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return _widen(super().build_installations_table(sa.MetaData(), table_name), metadata)

    @classmethod
    def build_bots_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return _widen(super().build_bots_table(sa.MetaData(), table_name), metadata)


def _widen(table: sa.Table, metadata: sa.MetaData) -> sa.Table:
    copy_ = table.to_metadata(metadata)
    for name in TOKEN_FIELDS:
        if name in copy_.c:
            copy_.c[name].type = sa.String(TOKEN_COLUMN_LENGTH)
    return copy_


class EncryptedInstallationStore(AsyncInstallationStore):
    """An async installation store over a sync one, encrypting every token it saves."""

    def __init__(self, inner: SQLAlchemyInstallationStore, cipher: MultiFernet) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def logger(self) -> Any:
        return self.inner.logger

    def _seal(self, record: T) -> T:
        sealed = copy.copy(record)
        for name in TOKEN_FIELDS:
            value = getattr(sealed, name, None)
            if value:
                setattr(sealed, name, self.cipher.encrypt(value.encode()).decode())
        return sealed

    def _open(self, record: T | None) -> T | None:
        if record is None:
            return None
        for name in TOKEN_FIELDS:
            value = getattr(record, name, None)
            if value:
                try:
                    setattr(record, name, self.cipher.decrypt(value.encode()).decode())
                except InvalidToken:
                    raise TokenDecryptionError(
                        f"cannot decrypt {name} for team {record.team_id}: check SLACK_TOKEN_ENCRYPTION_KEY"
                    ) from None
        return record

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.inner.save, self._seal(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.inner.save_bot, self._seal(bot))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        bot = await asyncio.to_thread(
            self.inner.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._open(bot)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = await asyncio.to_thread(
            self.inner.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._open(installation)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.inner.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.inner.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class ThreadedStateStore(AsyncOAuthStateStore):
    """The async face Bolt's AsyncApp needs, over slack_sdk's sync SQLAlchemy state store."""

    def __init__(self, inner: SQLAlchemyOAuthStateStore) -> None:
        self.inner = inner

    @property
    def logger(self) -> Any:
        return self.inner.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.inner.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.inner.consume, state)


def build_oauth_stores(
    engine: sa.Engine, *, client_id: str, encryption_keys: str, create_tables: bool = True
) -> tuple[EncryptedInstallationStore, ThreadedStateStore]:
    """The installation and OAuth state stores on Buddy's database (tables ``slack_installations``,
    ``slack_bots``, ``slack_oauth_states``)."""
    inner = WideTokenInstallationStore(client_id=client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine)
    if create_tables:
        inner.create_tables()
        states.create_tables()
    return EncryptedInstallationStore(inner, make_cipher(encryption_keys)), ThreadedStateStore(states)


def installation_tokens(
    store: AsyncInstallationStore, ttl: float = 60.0, now: Callable[[], float] = time.monotonic
) -> TokenProvider:
    """Each workspace's bot token from its install, cached for ``ttl`` seconds."""
    cache: dict[str, tuple[float, str]] = {}

    async def provide(workspace: str) -> str:
        hit = cache.get(workspace)
        if hit and now() - hit[0] < ttl:
            return hit[1]
        bot = await store.async_find_bot(enterprise_id=None, team_id=workspace)
        if bot is None or not bot.bot_token:
            raise LookupError(f"Buddy is not installed in Slack workspace {workspace}")
        cache[workspace] = (now(), bot.bot_token)
        return bot.bot_token

    return provide
