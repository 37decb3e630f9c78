"""``BUDDY_CPU``: a server on SQLite keeps its threads on one CPU (its event loop and engine threads hand
Python's lock to each other at every SQLite call); on PostgreSQL, or with ``none``, the kernel places
them; a CPU the machine does not have is refused by name at start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.affinity import AffinityError, choose_cpu
from bot.settings import Settings, SettingsError

CPUS = sorted(os.sched_getaffinity(0))
several = pytest.mark.skipif(len(CPUS) < 2, reason="this machine lets the tests use one CPU only")


@several
def test_auto_keeps_a_sqlite_server_on_one_cpu_chosen_by_its_process_id():
    assert choose_cpu("auto", "sqlite:///buddy.db", pid=7) == CPUS[7 % len(CPUS)]
    assert choose_cpu("", "sqlite:///buddy.db", pid=8) == CPUS[8 % len(CPUS)]
    assert choose_cpu("AUTO", "sqlite:///buddy.db", pid=9) == CPUS[9 % len(CPUS)]


@several
def test_on_postgresql_or_with_none_the_kernel_places_the_threads():
    assert choose_cpu("auto", "postgresql+psycopg://buddy@db/buddy") is None
    assert choose_cpu("none", "sqlite:///buddy.db") is None
    assert choose_cpu(str(CPUS[-1]), "postgresql+psycopg://buddy@db/buddy") == CPUS[-1]


@several
def test_a_cpu_the_machine_lacks_is_refused_by_name_with_the_ones_it_has():
    with pytest.raises(AffinityError) as refused:
        choose_cpu("4096", "sqlite:///buddy.db")
    assert "BUDDY_CPU" in str(refused.value) and ", ".join(map(str, CPUS)) in str(refused.value)
    with pytest.raises(SettingsError, match="BUDDY_CPU must be auto, none or one of"):
        Settings.from_env({"BUDDY_CPU": "fast"}, web=True)


def test_only_serve_reads_it():
    assert Settings.from_env({"BUDDY_CPU": "fast"}).cpu is None  # `db upgrade` does not care
    assert Settings.from_env({"BUDDY_CPU": "none"}, web=True).cpu is None


@several
def test_every_thread_started_after_it_stays_on_the_cpu(tmp_path):
    script = (
        "import os, threading\n"
        "from bot.affinity import keep_on\n"
        f"keep_on({CPUS[-1]})\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))\n"
        "t.start(); t.join()\n"
        "print(sorted(os.sched_getaffinity(0)), seen[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [f"[{CPUS[-1]}]", f"[{CPUS[-1]}]"]
