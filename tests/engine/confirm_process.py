"""``match confirm`` in steps, in its own process, killed with SIGKILL at a chosen point.

python -m tests.engine.confirm_process DB_URL [--kill-at-step N] [--kill-after-ms M]
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

from conversations.core.clock import SystemClock
from conversations.core.refs import UserRef
from conversations.engine import Engine
from conversations.flows import confirming
from storage.database import make_engine
from storage.unit_of_work import SqlUnitOfWorkFactory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--kill-at-step", type=int, default=0)
    parser.add_argument("--kill-after-ms", type=int, default=0)
    args = parser.parse_args()
    engine = Engine(SqlUnitOfWorkFactory(make_engine(args.database_url)), clock=SystemClock())
    steps = [0]

    def step(_name: str) -> None:
        steps[0] += 1
        if steps[0] == args.kill_at_step:
            os.kill(os.getpid(), signal.SIGKILL)

    if args.kill_after_ms:  # anywhere, in a transaction or between two
        timer = threading.Timer(args.kill_after_ms / 1000, lambda: os.kill(os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()
    started = time.perf_counter()
    confirming.confirm_staged(engine.run, 1, UserRef("memory", "T1", "UADMIN"), stage_slice=10,
                              introduce_slice=10, step=step)  # fmt: skip
    print(f"steps={steps[0]} ms={1000 * (time.perf_counter() - started):.0f}")


if __name__ == "__main__":
    main()
