"""Which CPU a server runs on (``BUDDY_CPU``).

A ``serve`` process answers requests on its event loop and runs the engine on threads of its own
(``adapters/runner.py``), and only one of them holds Python's interpreter lock at a time. The engine
thread lets go of the lock at every SQLite call, the event loop takes it, and back again: when the two
threads sit on different CPUs, every hand-over wakes the other CPU and moves the interpreter's data
across. Kept on one CPU, the same hand-overs are cheap. Measured with ``bench/inbound.py``'s loads on
the 2-core development machine: at 500 requests a second, the 99th percentile of acknowledgements in
five rounds was 5-21 ms on one CPU against 10-120 ms spread over two, and throughput at saturation
about 10% higher.

``auto`` (the default) keeps a process on one CPU when it runs on SQLite, where it is the only Buddy
process; on PostgreSQL several processes usually share the machine, and the kernel places them.
``none`` never pins; a number names the CPU (give each process on one machine its own).
"""

from __future__ import annotations

import os


class AffinityError(ValueError):
    pass


def _allowed() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def choose_cpu(setting: str, database_url: str, pid: int | None = None) -> int | None:
    """The CPU to keep this process on, or None to leave it to the kernel."""
    allowed = _allowed()
    text = setting.strip().lower() or "auto"
    if text == "none" or len(allowed) < 2:
        return None
    if text == "auto":
        if not database_url.startswith("sqlite"):
            return None
        return allowed[(os.getpid() if pid is None else pid) % len(allowed)]
    if text.isdigit() and int(text) in allowed:
        return int(text)
    names = ", ".join(str(cpu) for cpu in allowed)
    raise AffinityError(
        f"BUDDY_CPU must be auto, none or one of this machine's CPUs ({names}), not {setting!r}"
    )


def keep_on(cpu: int | None) -> None:
    """Keep this process's threads on ``cpu``: the calling thread now, and every thread it starts
    later (they inherit it), so call it before any other thread starts."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
