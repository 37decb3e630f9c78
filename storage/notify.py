"""Wake-ups across processes: PostgreSQL ``LISTEN/NOTIFY`` on the outbox.

A unit of work that queued posts sends ``NOTIFY buddy_outbox`` inside its transaction (PostgreSQL
delivers it on commit, and not at all on rollback); every worker listens on a connection of its
own and drains at once, instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import make_url

from storage.database import normalise_url

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "buddy_outbox"


def conninfo(database_url: str) -> str:
    """A libpq connection string for psycopg from a SQLAlchemy URL."""
    url = make_url(normalise_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen(
    database_url: str,
    on_notify: Callable[[], None],
    channel: str = OUTBOX_CHANNEL,
    retry_seconds: float = 5.0,
) -> None:
    """Call ``on_notify`` for every notification on ``channel``, and once each time the listening
    connection is (re)opened, to catch up on anything queued while it was not. Runs until cancelled."""
    import psycopg

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(database_url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                on_notify()
                async for _note in conn.notifies():
                    on_notify()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the server may restart: listen again
            log.warning("outbox notifications lost (%s); listening again in %.0f s", type(error).__name__,
                        retry_seconds)  # fmt: skip
        await asyncio.sleep(retry_seconds)
