"""Hold the scheduler lock in its own process until killed: python -m tests.delivery.leader_process URL"""

from __future__ import annotations

import sys
import time

from bot.leader import leadership_for

if __name__ == "__main__":
    leadership = leadership_for(sys.argv[1])
    print("leader" if leadership.try_acquire() else "standby", flush=True)
    time.sleep(600)
