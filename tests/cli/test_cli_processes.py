"""Five ``buddybot serve`` processes started together on an empty database all come up: the
migration runs under a lock (PostgreSQL advisory lock; a lock file beside a SQLite file)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200 and json.load(answer)["status"] == "ok"
    except OSError:
        return False


@pytest.mark.parametrize("role", ["web"])
def test_five_processes_start_together_on_an_empty_database(db_url, tmp_path, role):
    ports = free_ports(5)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url, "BUDDY_TEAMS_DEV_MODE": "1",
           "HOST": "127.0.0.1"}  # fmt: skip
    env.pop("SLACK_BOT_TOKEN", None)
    processes = [
        subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--role", role], cwd=tmp_path,
                         env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in ports
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        waiting = set(range(5))
        while waiting and time.monotonic() < deadline:
            for i in sorted(waiting):
                if processes[i].poll() is not None:
                    pytest.fail(
                        f"process {i} exited ({processes[i].returncode}): {processes[i].stderr.read().decode()[-2000:]}"
                    )  # type: ignore[union-attr]
                if healthy(ports[i]):
                    waiting.discard(i)
            time.sleep(0.2)
        assert not waiting, f"not up within 90 s: processes {sorted(waiting)}"
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
