"""Fan-out benchmark: post one task to 10,000 matches through a rate-limited fake Slack on loopback.

Pieces, all real except Slack itself:

- a SQLite file with one cohort of 10,000 introduced pairs (each has its own group conversation);
- the cadence reconciler (``conversations.schedule.cadence.post_due``) queues the period's task: 10,000
  assignments and outbox rows in one transaction;
- the real :class:`~conversations.delivery.sender.Sender` drains the outbox through the real
  ``SlackMessenger`` (slack_sdk's ``AsyncWebClient``) to a fake Slack Web API in its own process.

The fake enforces what Slack enforces on ``chat.postMessage``: about one message per second per
channel, and a workspace-wide cap. Slack does not publish that cap ("several hundred messages a
minute" in practice); the fake models **200 messages/s** with a burst of 20, so that 10,000 posts
take about 50 s rather than half an hour. Over either limit it answers HTTP 429 with Retry-After.
The Slack messenger declares the same workspace rate (``workspace_rate=200``), as an operator would
set ``BUDDY_SLACK_WORKSPACE_RATE``; the sender paces by what the messenger declares. The floor is the time the workspace limit allows: n / 200 s.

Prints the wall time of the drain against that floor (goal: at most 1.1x), duplicates (a key
posted more than once; goal 0) and missing posts (goal 0). Loopback only; about a minute and a half.

Then, with PostgreSQL reachable (``--postgres``, default the test server), the same 10,000 posts
drained by **two worker processes** sharing the database and one workspace limit, as an operator
would run them: their pacing is shared through the database (``pace_slots``), so the floor is the
same n / 200 s for both together, and the fake must reject nothing (a 429 would mean the two
overran the limits together). Slack counts its limits per minute and allows short bursts; the fake
is stricter (no burst in a channel, 100 ms of the rate workspace-wide), so the run also prints how
low its workspace bucket fell (20 tokens: untouched; 0: the next post would have been refused)
and how many slots the workers gave up because they woke too late for them.

    .venv/bin/python bench/fanout.py [--matches 10000] [--rate 200] [--workers 2] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import Moment  # noqa: E402  (bench/, the script's own folder)

TEAM = "T0BENCH1"
TOKEN = "xoxb-bench"
BURST = 20  # the fake's workspace bucket: short bursts above the rate are tolerated
SLOT = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 in London


# ---- the fake Slack Web API (its own process) ------------------------------------------------------


def serve_fake_slack(rate: float, ready: Any) -> None:
    from aiohttp import web

    posts: Counter[str] = Counter()
    stats = {"accepted": 0, "rejected_workspace": 0, "rejected_channel": 0, "lowest_tokens": float(BURST)}
    bucket = {"tokens": float(BURST), "at": time.monotonic()}
    last_in_channel: dict[str, float] = {}

    def workspace_allows(now: float) -> bool:
        bucket["tokens"] = min(BURST, bucket["tokens"] + (now - bucket["at"]) * rate)
        bucket["at"] = now
        if bucket["tokens"] >= 1:
            bucket["tokens"] -= 1
            stats["lowest_tokens"] = min(stats["lowest_tokens"], bucket["tokens"])
            return True
        return False

    def limited() -> web.Response:
        return web.json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
        )

    async def post_message(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        body = await request.json()
        channel = body.get("channel", "")
        now = time.monotonic()
        if now - last_in_channel.get(channel, -10.0) < 1.0:
            stats["rejected_channel"] += 1
            return limited()
        if not workspace_allows(now):
            stats["rejected_workspace"] += 1
            return limited()
        last_in_channel[channel] = now
        key = ((body.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        posts[key] += 1
        stats["accepted"] += 1
        return web.json_response({"ok": True, "channel": channel, "ts": f"{time.time():.6f}"})

    async def history(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "messages": [], "has_more": False})

    async def report(request: web.Request) -> web.Response:
        return web.json_response({**stats, "posts": dict(posts)})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", post_message)
        app.router.add_post("/api/conversations.history", history)
        app.router.add_get("/_stats", report)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


# ---- the scheme ------------------------------------------------------------------------------------


def build(database: Path | str, matches: int) -> Any:
    """A migrated SQLite file (or database URL) with one cohort of ``matches`` introduced pairs;
    returns the engine."""
    from sqlalchemy import insert

    from conversations.core.clock import FakeClock
    from conversations.engine import Engine
    from conversations.flows.bank import sync_builtin
    from storage import tables
    from storage.database import make_engine
    from storage.migrate import upgrade
    from storage.unit_of_work import SqlUnitOfWorkFactory

    db = make_engine(database if isinstance(database, str) else f"sqlite:///{database}")
    upgrade(db)
    created = SLOT - timedelta(days=3)
    with db.begin() as conn:
        conn.execute(insert(tables.cohorts).values(
            id=1, name="Bench", platform="slack", workspace=TEAM, region="", registration_open=False, paused=False,
            cadence_weekday=0, cadence_time="09:00", cadence_timezone="Europe/London", cadence_every_weeks=1,
            nudge_pair_days=4, nudge_individual_days=7, alert_coordinator_days=10, allow_trios=False, settings={},
            current_round=1, created_at=created))  # fmt: skip
        people = [
            dict(id=2 * i + side + 1, cohort_id=1, platform="slack", workspace=TEAM, user_id=f"U{2 * i + side:06d}",
                 display_name=f"Person {2 * i + side}", email="", role=("clinician", "general_manager")[side],
                 specialist_area="", profession="", grade="", specialty="", employer="", employer_type="",
                 region="", interests=[], consent_data=True, consent_share=False, status="matched",
                 registered_at=created, last_active_at=None, unreachable=False)
            for i in range(matches) for side in (0, 1)
        ]  # fmt: skip
        conn.execute(insert(tables.participants), people)
        conn.execute(insert(tables.matches), [
            dict(id=i + 1, cohort_id=1, round=1, score=1.0, reasons=[], status="active", created_at=created,
                 ended_at=None, conversation={"platform": "slack", "workspace": TEAM,
                                              "conversation_id": f"C{i:06d}", "extra": ""})
            for i in range(matches)
        ])  # fmt: skip
        conn.execute(insert(tables.match_members), [
            dict(match_id=i + 1, participant_id=2 * i + side + 1) for i in range(matches) for side in (0, 1)
        ])  # fmt: skip
    engine = Engine(SqlUnitOfWorkFactory(db), clock=FakeClock(SLOT + timedelta(minutes=1)))
    engine.run(sync_builtin)
    return engine


async def drain(engine: Any, port: int, rate: float, concurrency: int) -> tuple[float, Any]:
    import aiohttp

    from adapters.slack.client import make_web_client
    from adapters.slack.messenger import SlackMessenger, static_token
    from conversations.core.clock import SystemClock
    from conversations.delivery.sender import Sender

    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = make_web_client(TOKEN, base_url=f"http://127.0.0.1:{port}/api/", session=session)
        messenger = SlackMessenger(client, static_token(TOKEN), workspace_rate=rate)
        sender = Sender(engine.uow_factory, {"slack": messenger}, SystemClock(),
                        concurrency=concurrency)  # fmt: skip
        started = time.perf_counter()
        while True:
            await sender.drain(batch=concurrency)
            with engine.uow_factory() as uow:
                left = uow.outbox.count("pending") + uow.outbox.count("sending")
            if not left:
                break
            await asyncio.sleep(0.05)  # rows told to retry later (429) come due
        return time.perf_counter() - started, sender


def worker(url: str, port: int, rate: float, concurrency: int, name: str, start: Any, done: Any) -> None:
    """One worker process: a sender with pacing shared through the database, draining until the
    outbox is empty; reports its own figures."""
    import aiohttp

    from adapters.slack.client import make_web_client
    from adapters.slack.messenger import SlackMessenger, static_token
    from conversations.core.clock import SystemClock
    from conversations.delivery.sender import Sender
    from storage.database import make_engine
    from storage.pacing import SqlPaceSlots
    from storage.unit_of_work import SqlUnitOfWorkFactory

    db = make_engine(url, pool_size=concurrency // 4 + 4)
    uow = SqlUnitOfWorkFactory(db)

    async def run() -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=concurrency * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = make_web_client(TOKEN, base_url=f"http://127.0.0.1:{port}/api/", session=session)
            messenger = SlackMessenger(client, static_token(TOKEN), workspace_rate=rate)
            sender = Sender(uow, {"slack": messenger}, SystemClock(),
                            concurrency=concurrency, shared_pacing=SqlPaceSlots(db), name=name)  # fmt: skip
            start.wait()
            sent = 0
            while True:
                report = await sender.drain(batch=concurrency)
                sent += report.sent
                with uow() as work:
                    left = work.outbox.count("pending") + work.outbox.count("sending")
                if not left:
                    break
                await asyncio.sleep(0.05)
            return {"name": name, "sent": sent, "late": sender.pacer.late_slots, "at": time.time()}

    done.put(asyncio.run(run()))


def shared_run(
    url: str, port: int, matches: int, rate: float, concurrency: int, workers: int
) -> tuple[float, list[Any]]:
    from conversations.schedule import cadence

    engine = build(url, matches)
    report = engine.run(lambda ctx: cadence.post_due(ctx, ctx.uow.cohorts.get(1)))
    print(f"{workers} workers on PostgreSQL: reconcile queued {report.posted} task posts")
    context = mp.get_context("spawn")
    start, done = context.Event(), context.Queue()
    processes = [context.Process(target=worker, args=(url, port, rate, concurrency // workers, f"w{i}", start, done))
                 for i in range(workers)]  # fmt: skip
    for process in processes:
        process.start()
    time.sleep(3.0)  # let both import and connect: the clock starts when they start together
    started = time.time()
    start.set()
    results = [done.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    return max(r["at"] for r in results) - started, results


def fresh_postgres(admin_url: str) -> tuple[str, Any]:
    """A new, uniquely named database on ``admin_url``'s server; returns its URL and a cleanup."""
    import uuid

    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"buddy_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def fake_stats(port: int) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as response:
        return dict(json.load(response))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=float, default=200.0, help="the fake's workspace-wide limit, messages/s"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes in the shared run (0: skip it)"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server for the shared run (a fresh database is created there)",
    )
    parser.add_argument("--skip-single", action="store_true", help="only the shared run")
    args = parser.parse_args()
    summary, moment = "", Moment()
    if not args.skip_single:
        summary = single(args)
    if args.workers:
        summary += " " + shared(args)
    print(f"fanout {summary.strip()} {moment.field()}")
    return 0


def shared(args: argparse.Namespace) -> str:
    try:
        url, drop = fresh_postgres(args.postgres)
    except Exception as error:  # noqa: BLE001 - say why and carry on
        print(f"shared run skipped: PostgreSQL not reachable at {args.postgres} ({type(error).__name__})")
        return "shared=skipped"
    receive, send = mp.get_context("spawn").Pipe(duplex=False)
    fake = mp.get_context("spawn").Process(target=serve_fake_slack, args=(args.rate, send), daemon=True)
    fake.start()
    port = receive.recv()
    try:
        seconds, results = shared_run(url, port, args.matches, args.rate, args.concurrency, args.workers)
        stats = fake_stats(port)
    finally:
        fake.terminate()
        drop()
    posts: dict[str, int] = stats["posts"]
    duplicates = sum(count - 1 for count in posts.values() if count > 1)
    missing = args.matches - len(posts)
    rejected = stats["rejected_workspace"] + stats["rejected_channel"]
    floor = args.matches / args.rate
    print(f"shared: {args.workers} workers sent {', '.join(str(r['sent']) for r in results)} in {seconds:.1f} s; "
          f"shared floor {floor:.1f} s at {args.rate:g}/s for all workers together; fake rejected "
          f"{stats['rejected_workspace']} (workspace) and {stats['rejected_channel']} (channel) with 429; "
          f"its workspace bucket fell to {stats['lowest_tokens']:.1f} of {BURST} tokens at the lowest; "
          f"slots given up by sends that woke too late: {sum(r['late'] for r in results)}")  # fmt: skip
    return (f"shared_workers={args.workers} shared_seconds={seconds:.1f} shared_vs_floor={seconds / floor:.3f} "
            f"shared_duplicates={duplicates} shared_missing={missing} shared_429={rejected} "
            f"shared_lowest_tokens={stats['lowest_tokens']:.1f}")  # fmt: skip


def single(args: argparse.Namespace) -> str:

    from conversations.schedule import cadence

    receive, send = mp.get_context("spawn").Pipe(duplex=False)
    fake = mp.get_context("spawn").Process(target=serve_fake_slack, args=(args.rate, send), daemon=True)
    fake.start()
    port = receive.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            engine = build(Path(tmp) / "fanout.db", args.matches)
            t1 = time.perf_counter()
            report = engine.run(lambda ctx: cadence.post_due(ctx, ctx.uow.cohorts.get(1)))
            t2 = time.perf_counter()
            print(f"setup: {args.matches} pairs in {t1 - t0:.1f} s; reconcile queued {report.posted} task posts "
                  f"for period {report.period} in {t2 - t1:.1f} s")  # fmt: skip
            seconds, _sender = asyncio.run(drain(engine, port, args.rate, args.concurrency))
            with engine.uow_factory() as uow:
                sent, failed = uow.outbox.count("sent"), uow.outbox.count("failed")
                expected = {row.key for row in uow.outbox.by_status("sent")} | {
                    row.key for row in uow.outbox.by_status("failed")
                }
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as response:
            stats = json.load(response)
    finally:
        fake.terminate()
    posts: dict[str, int] = stats["posts"]
    duplicates = sum(count - 1 for count in posts.values() if count > 1)
    missing = len(expected - posts.keys()) + (args.matches - len(expected))
    floor = args.matches / args.rate
    print(f"drain: {sent} sent, {failed} failed in {seconds:.1f} s; floor {floor:.1f} s at {args.rate:g}/s "
          f"workspace-wide, 1/s per channel; fake rejected {stats['rejected_workspace']} (workspace) and "
          f"{stats['rejected_channel']} (channel) with 429")  # fmt: skip
    return (f"matches={args.matches} seconds={seconds:.1f} vs_floor={seconds / floor:.3f} "
            f"duplicates={duplicates} missing={missing}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
