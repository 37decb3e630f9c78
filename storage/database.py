"""Database engines: a SQLite file by default, ``DATABASE_URL`` for PostgreSQL."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Engine, create_engine, event

DEFAULT_URL = "sqlite:///buddy.db"


def normalise_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str = DEFAULT_URL, *, checkpoint_in_background: bool = False, **kwargs: Any) -> Engine:
    """``checkpoint_in_background``: SQLite never checkpoints inside a commit; the caller runs a
    :class:`storage.checkpoint.WalCheckpointer` instead (no effect on PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, automatic=not checkpoint_in_background))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, automatic: bool = True) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL with NORMAL survives any crash of the process; a power cut may lose the last commits, which
    # the outbox tolerates (an unconfirmed post is checked with find_tagged before any resend)
    cursor.execute("PRAGMA synchronous=NORMAL")
    if not automatic:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()
