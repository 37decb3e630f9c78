"""How fast this machine runs Python at the moment, printed in each bench's summary line.

A shared machine's speed drifts: on the development machine a 10-million-step empty loop took 0.18 s
and 0.36 s within one hour (1 December 2026), and every bench's absolute times moved with it. Ratios
measured within one run are the figures to compare; ``loop_s`` says which moment the absolute times
belong to (the loop's time when the bench started, and when it ended).
"""

from __future__ import annotations

import time

STEPS = 10_000_000


def loop_seconds() -> float:
    start = time.perf_counter()
    for _ in range(STEPS):
        pass
    return time.perf_counter() - start


class Moment:
    """The loop timed now; :meth:`field` times it again and names both."""

    def __init__(self) -> None:
        self.start = loop_seconds()

    def field(self) -> str:
        return f"loop_s={self.start:.2f}-{loop_seconds():.2f}"
