"""Privacy work on a big cohort: ``forget me``, ``mydata`` and one retention pass, timed, on a SQLite
file of ``--groups`` introduced pairs (built as ``bench/fanout.py`` does) whose outbox holds one
sent post per person (as after a task went out) plus a queued digest quoting the person forgotten.

Erasure searches every outbox row for the person's id, name and words, so its time grows with the
outbox (which retention keeps to about 30 days of posts).

    .venv/bin/python bench/privacy.py [--groups 5000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fanout import SLOT, TEAM, build  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=5000)
    args = parser.parse_args()
    from sqlalchemy import insert

    from conversations.core.interactions import Actor, ButtonPressed, CommandInvoked
    from conversations.core.refs import UserRef
    from conversations.flows import retention
    from storage import tables

    with tempfile.TemporaryDirectory() as folder:
        engine = build(Path(folder) / "bench.db", args.groups)
        db = engine.uow_factory.engine
        people = 2 * args.groups
        with db.begin() as conn:
            conn.execute(insert(tables.outbox), [
                dict(key=f"task:1:{i}", recipient={"kind": "user", "platform": "slack", "workspace": TEAM,
                                                   "user_id": f"U{i:06d}"},
                     message={"text": f"New buddy task for Person {i}", "blocks": []}, created_at=SLOT,
                     status="sent", attempts=1, sent_at=SLOT, error="", result={}, match_id=None, claimed_by="")
                for i in range(people)
            ])  # fmt: skip
            conn.execute(insert(tables.outbox), [
                dict(key=f"digest:1:t:{i}", recipient={"kind": "user", "platform": "slack", "workspace": TEAM,
                                                       "user_id": f"U{i:06d}"},
                     message={"text": "Learning points", "blocks": [{"type": "section", "text": "“Person 0 wrote this”"}]},
                     created_at=SLOT, status="pending", attempts=0, error="", result={}, match_id=None, claimed_by="")
                for i in range(1, min(people, 2000))
            ])  # fmt: skip
        rows = people + min(people, 2000) - 1
        person = Actor(UserRef("slack", TEAM, "U000000"), "Person 0")

        start = time.perf_counter()
        engine.handle(CommandInvoked(person, "mydata json"))
        mydata = time.perf_counter() - start

        start = time.perf_counter()
        engine.handle(ButtonPressed(person, "forget_me_confirm", ""))
        forget = time.perf_counter() - start
        with engine.uow_factory() as uow:
            cancelled = sum(1 for i in uow.outbox.by_status("failed") if i.key.startswith("digest:"))

        engine.clock.advance(days=31)
        start = time.perf_counter()
        passes = 0
        while engine.run(lambda ctx: retention.apply(ctx, retention.Retention(), batch=1000)).total():
            passes += 1
        retained = time.perf_counter() - start
    print(f"cohort: {people} people in {args.groups} groups; outbox {rows} rows")
    print(f"mydata json: {mydata:.2f} s")
    print(f"forget me: {forget:.2f} s ({cancelled} queued digests quoting them cancelled)")
    print(f"retention after 31 days: {retained:.2f} s in {passes} batches of up to 1000")
    print(f"privacy groups={args.groups} outbox_rows={rows} mydata_s={mydata:.2f} forget_s={forget:.2f} "
          f"retention_s={retained:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
