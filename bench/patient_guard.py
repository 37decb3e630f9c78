"""Precision and recall of the patient-data guard (conversations/core/patient_data.py) on the corpus
of true and false positives in tests/data/patient_corpus.tsv, per kind and overall, at each level,
and how long a check takes on a 3,000-character answer.

    .venv/bin/python bench/patient_guard.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations.core.patient_data import LEVELS, findings, kinds  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "patient_corpus.tsv"


def corpus() -> list[tuple[set[str], str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, text = line.split("\t", 1)
            if expected.startswith("alarm:"):  # clean text the guard is known to refuse
                expected = "-"
            rows.append((set() if expected == "-" else set(expected.removeprefix("miss:").split(",")), text))
    return rows


def score(
    level: str, rows: list[tuple[set[str], str]]
) -> tuple[float, float, dict[str, tuple[int, int, int]]]:
    """Text-level precision and recall (is a text refused when it should be?), and per kind
    (true positives, false positives, false negatives)."""
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    for expected, text in rows:
        got = set(kinds(findings(text, level)))
        if got and expected:
            tp += 1
        elif got:
            fp += 1
        elif expected:
            fn += 1
        for kind in expected | got:
            counts = per.setdefault(kind, [0, 0, 0])
            counts[0 if kind in expected and kind in got else 1 if kind in got else 2] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, {k: (v[0], v[1], v[2]) for k, v in per.items()}


def main() -> None:
    rows = corpus()
    positives = sum(1 for e, _ in rows if e)
    print(f"corpus: {len(rows)} texts, {positives} with patient data, {len(rows) - positives} without")
    summary = {}
    for level in LEVELS:
        precision, recall, per = score(level, rows)
        summary[level] = (precision, recall)
        print(f"\n{level}: precision {precision:.2f}, recall {recall:.2f}")
        for kind, (tp, fp, fn) in sorted(per.items()):
            print(f"  {kind:45} caught {tp:2}  false alarms {fp:2}  missed {fn:2}")
    answer = (" ".join(t for _, t in rows) * 2)[:3000]
    start = time.perf_counter()
    runs = 200
    for _ in range(runs):
        findings(answer)
    per_check = (time.perf_counter() - start) / runs * 1000
    print(f"\none check of a {len(answer)}-character answer: {per_check:.2f} ms")
    p, r = summary["standard"]
    print(
        f"SUMMARY patient guard (standard): precision {p:.2f}, recall {r:.2f}; {per_check:.2f} ms per 3,000-character check"
    )


if __name__ == "__main__":
    main()
