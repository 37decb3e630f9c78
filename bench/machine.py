"""How fast this machine is at the moment, printed in each bench's summary line.

A shared machine's speed drifts: on the development machine a 10-million-step empty loop took 0.18 s
and 0.36 s within one hour (1 December 2026), and every bench's absolute times moved with it. Ratios
measured within one run are the figures to compare; these say which moment the absolute times belong
to, when the bench started and when it ended: ``loop_s``, Python's own speed (the loop), and
``gather_s``, memory's (8 million random reads from a 64 MB array, as the matcher's score look-ups
do; the loop was at its fastest once while the matcher was a third slower than an hour before),
and ``steal``, the share of the machine's CPU time its host gave to other guests while the bench ran
(Linux's ``steal`` in ``/proc/stat``: 33% was seen here on 2 December 2026, and a bench's tail
latencies with it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

STEPS = 10_000_000
CELLS = 1 << 23  # 64 MB of float64


def loop_seconds() -> float:
    start = time.perf_counter()
    for _ in range(STEPS):
        pass
    return time.perf_counter() - start


def gather_seconds() -> float:
    rng = np.random.default_rng(0)
    values, at = rng.random(CELLS), rng.integers(0, CELLS, CELLS)
    values.take(at)  # the first touch pays for the pages
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        values.take(at)
        best = min(best, time.perf_counter() - start)
    return best


def timed() -> tuple[float, float]:
    """Both, in a process of their own: the 192 MB the gather needs would otherwise stay in this
    process's peak memory, and in the peak of every process it starts (Linux keeps it across exec)."""
    out = subprocess.run([sys.executable, __file__], check=True, capture_output=True, text=True).stdout
    loop, gather = out.split()
    return float(loop), float(gather)


STAT = Path("/proc/stat")


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, all) CPU ticks since boot over every CPU, or None where the kernel does not say."""
    try:
        fields = STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if fields[:1] != ["cpu"] or len(fields) < 9:
        return None
    ticks = [int(f) for f in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def steal_share(since: tuple[int, int] | None) -> float | None:
    """The share of CPU time stolen by the host since ``since`` (:func:`cpu_ticks`)."""
    now = cpu_ticks()
    if since is None or now is None or now[1] <= since[1]:
        return None
    return (now[0] - since[0]) / (now[1] - since[1])


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.1%}"


class Moment:
    """The machine timed now; :meth:`field` times it again and names both, with the CPU time the
    host stole in between."""

    def __init__(self) -> None:
        self.start = timed()
        self.ticks = cpu_ticks()

    def field(self) -> str:
        steal = steal_share(self.ticks)
        (loop, gather), (loop_end, gather_end) = self.start, timed()
        return (
            f"loop_s={loop:.2f}-{loop_end:.2f} gather_s={gather:.3f}-{gather_end:.3f} steal={percent(steal)}"
        )


if __name__ == "__main__":
    print(loop_seconds(), gather_seconds())
