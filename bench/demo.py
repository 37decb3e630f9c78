"""``make demo`` timed: the whole programme, registration to certificates, as a new process would
run it (``buddybot demo``), and where the time goes: importing, then each scene of the demo.

Wall time depends on what else the machine is doing; CPU time (this process only) much less so.

    .venv/bin/python bench/demo.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _Scenes(io.StringIO):
    """Notes the time whenever the demo starts a scene (a line ``=== title``)."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[tuple[str, float, float]] = []

    def write(self, text: str) -> int:
        if text.startswith("\n=== "):
            self.marks.append((text.strip()[4:], time.perf_counter(), time.process_time()))
        return super().write(text)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--database", f"{folder}/cold.db"],
                              cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
        cold = time.perf_counter() - start
        assert "certificate" in done.stdout.lower(), done.stdout[-500:]
        print(f"buddybot demo, a new process: {cold:.2f} s wall")

        wall, cpu = time.perf_counter(), time.process_time()
        from bot.demo import run_demo  # noqa: PLC0415 - the import is part of what is timed

        print(f"  importing Buddy (SQLAlchemy, scipy, fpdf2, matplotlib's fonts...): {time.perf_counter() - wall:.2f} s "
              f"wall, {time.process_time() - cpu:.2f} s CPU")  # fmt: skip
        out = _Scenes()
        wall, cpu = time.perf_counter(), time.process_time()
        run_demo(Path(folder) / "warm.db", out)
        end = (time.perf_counter(), time.process_time())
        print(
            f"  the demo itself: {end[0] - wall:.2f} s wall, {end[1] - cpu:.2f} s CPU, in {len(out.marks)} scenes"
        )
        marks = [*out.marks, ("(end)", *end)]
        slowest = sorted(((b[1] - a[1], b[2] - a[2], a[0]) for a, b in zip(marks, marks[1:], strict=False)),
                         reverse=True)[:5]  # fmt: skip
        for seconds, cpu_seconds, scene in slowest:
            print(f"    {seconds:5.2f} s wall, {cpu_seconds:5.2f} s CPU  {scene}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
