"""A sender in its own process, for the crash and concurrency tests: recover, drain, exit.

python -m tests.delivery.sender_process DB_URL LEDGER [--name N] [--block-after K] [--lease S]
       [--concurrency C] [--delay D] [--start-file F] [--heartbeat S]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta
from pathlib import Path

from conversations.core.clock import SystemClock
from conversations.delivery.sender import Sender, keep_alive
from storage.database import make_engine
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.ledger import PLATFORM, LedgerMessenger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--name", default="sender")
    parser.add_argument("--block-after", type=int, default=0)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--start-file", type=Path)
    parser.add_argument("--heartbeat", type=float, default=0.0, help="renew claims every S seconds")
    args = parser.parse_args()
    messenger = LedgerMessenger(args.ledger, args.name, delay=args.delay, block_after=args.block_after)
    uow = SqlUnitOfWorkFactory(make_engine(args.database_url))
    sender = Sender(uow, {PLATFORM: messenger}, SystemClock(), pacing={}, concurrency=args.concurrency,
                    lease=timedelta(seconds=args.lease), name=args.name)  # fmt: skip
    if args.start_file is not None:  # say we're ready, then start together with the others
        args.start_file.with_name(f"{args.start_file.name}.{args.name}.ready").touch()
        while not args.start_file.exists():
            time.sleep(0.01)

    async def run() -> None:
        beat = None
        if (
            args.heartbeat
        ):  # as a worker does: renew this sender's claims (recovering others' is not tested here)
            beat = asyncio.create_task(keep_alive(sender, args.heartbeat, recover_seconds=3600))
        await sender.recover()
        await sender.drain(batch=8)
        if beat is not None:
            beat.cancel()

    asyncio.run(run())


if __name__ == "__main__":
    main()
