"""A national survey import: a 20,000-row SurveyMonkey workbook, through the engine, with every
person looked up by email on the fake Slack (in a process of its own) at its enforced rate.

Slack's ``users.lookupByEmail`` is Tier 3: 50 a minute, so 20,000 lookups take at least 400
minutes, whatever Buddy does. To finish in reasonable time the benchmark **scales** that rate
(``--lookup-scale``, default 200: the fake enforces 10,000 a minute and the directory keeps to it)
and reports the time against the scaled floor; the unscaled floor is printed beside it. Import is
all or nothing but staged in slices (flows/survey_import.import_staged), so every write
transaction is timed and the longest reported.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing as mp
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "slack")]

TEAM = "T0TEAM01"
COORDINATOR = "U0COORD1"
TIER_3 = 50.0
SPECIALTIES = [
    "Psych",
    "Psychiatry",
    "General surgery",
    "Paeds",
    "GP",
    "Anaesthetics",
    "Psychiatric medicine",
]
EMPLOYER_TYPES = ["MH trust", "Acute trust", "Mental Health Trust", "ICB", "Community trust"]
GRADES = ["CT2", "FY1 doctor", "ST4", "F2", "Core trainee year 1"]


def person(i: int) -> tuple[str, str, str]:
    return f"Person{i}", f"Surname{i}", f"p{i}@nhs.net"


def workbook(rows: int) -> bytes:
    """A SurveyMonkey export: two heading rows, a multi-select question over four columns."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet")
    interests = ["Digital and data", "Quality improvement", "Finance and productivity", "Leadership"]
    sheet.append(["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
                  "First Name", "Last Name", "Custom Data 1", "What is your role?", "What is your grade?",
                  "What is your specialty?", "Which organisation employs you?", "What type of organisation is it?",
                  "Which NHS region do you work in?", "Which areas interest you?", None, None, None,
                  "Do you consent to take part?"])  # fmt: skip
    sheet.append([None] * 9 + ["Response", "Open-Ended Response", "Response", "Open-Ended Response", "Response",
                               "Response", *interests, "Response"])  # fmt: skip
    for i in range(rows):
        first, last, email = person(i)
        clinician = i % 2 == 0
        sheet.append([11_450_000_000 + i, 402_000_000, None, None, None, email, first, last, None,
                      "Doctor" if clinician else "GMTS", GRADES[i % len(GRADES)] if clinician else "GMTS year 1",
                      SPECIALTIES[i % len(SPECIALTIES)] if clinician else None, f"Trust {i % 40}",
                      EMPLOYER_TYPES[i % len(EMPLOYER_TYPES)], "North West",
                      *[c if (i + k) % 3 == 0 else None for k, c in enumerate(interests)], "Yes"])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fake_slack(rows: int, in_slack: float, per_minute: float, ports: Any, asks: Any) -> None:
    async def run() -> None:
        from fake_slack import FakeSlack, default_users

        users = default_users()
        for i in range(int(rows * in_slack)):
            first, last, email = person(i)
            uid = f"U0P{i:06d}"
            users[uid] = {"id": uid, "team_id": TEAM, "name": f"p{i}", "deleted": False,
                          "profile": {"real_name": f"{first} {last}", "email": email}}  # fmt: skip
        fake = await FakeSlack(users=users).start()
        fake.rate_limits["users.lookupByEmail"] = per_minute
        ports.put(fake.base)
        await asyncio.to_thread(asks.get)  # the benchmark asks how many lookups were answered 429
        ports.put(fake.throttled.get("users.lookupByEmail", 0))
        await asyncio.Event().wait()

    asyncio.run(run())


@dataclass
class SurveyFigures:
    rows: int
    scale: float
    decode_s: float
    check_s: float
    lookups: int
    lookups_s: float
    floor_s: float
    throttled: int
    import_s: float
    found: int
    not_found: int
    checks: int
    check_txn_s: float  # the rows stored for their lookups: one transaction
    lookup_txn_s: float  # the longest of the transactions recording lookups
    import_txn_s: float  # the longest transaction of the staged import
    import_txns: int

    @property
    def longest_txn_s(self) -> float:
        return max(self.check_txn_s, self.lookup_txn_s, self.import_txn_s)

    @property
    def unscaled_floor_min(self) -> float:
        return self.lookups / TIER_3


class Timed:
    """``Engine.run``, timing each unit of work (each is one transaction)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.seconds: list[float] = []

    def __call__(self, work: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.run(work)
        finally:
            self.seconds.append(time.perf_counter() - start)

    def longest(self, first: bool | None = None) -> float:
        picked = self.seconds[:1] if first else self.seconds[1:] if first is False else self.seconds
        return max(picked, default=0.0)


def run(rows: int = 20000, scale: float = 200.0, in_slack: float = 0.95) -> SurveyFigures:
    import aiohttp
    from fake_slack import BOT_TOKEN

    from adapters.slack.client import make_web_client
    from adapters.slack.directory import SlackDirectory
    from adapters.slack.messenger import SlackMessenger, static_token
    from adapters.uploads import decode_text
    from conversations.core import survey
    from conversations.core.clock import SystemClock
    from conversations.core.model import Cohort, Coordinator, ImportBatch
    from conversations.core.refs import UserRef
    from conversations.engine import Engine
    from conversations.flows import survey_import
    from conversations.schedule.email_lookup import EmailLookups
    from storage.database import make_engine
    from storage.migrate import upgrade
    from storage.unit_of_work import SqlUnitOfWorkFactory

    per_minute = TIER_3 * scale
    spawn = mp.get_context("spawn")
    ports: Any = spawn.Queue()
    asks: Any = spawn.Queue()
    fake = spawn.Process(target=_fake_slack, args=(rows, in_slack, per_minute, ports, asks), daemon=True)
    fake.start()
    base = ports.get(timeout=120)
    try:
        body = workbook(rows)
        with tempfile.TemporaryDirectory() as tmp:
            db = make_engine(f"sqlite:///{Path(tmp) / 'survey.db'}")
            upgrade(db)
            engine = Engine(
                SqlUnitOfWorkFactory(db),
                clock=SystemClock(),
                capabilities={"slack": SlackMessenger.capabilities},
            )

            def setup(ctx: Any) -> None:
                cohort = ctx.uow.cohorts.add(Cohort("National", "slack", TEAM))
                ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, "slack", TEAM, COORDINATOR))

            engine.run(setup)
            start = time.perf_counter()
            text, problem = decode_text(body)
            assert not problem, problem
            decode_s = time.perf_counter() - start

            start = time.perf_counter()
            table = survey.read(text)  # as flows/survey_import.begin: every row read before any write
            mapping = survey.guess(table)
            prepared = survey_import.prepare(table, mapping)

            def stage(ctx: Any) -> Any:
                cohort = ctx.uow.cohorts.by_name("National")
                batch = ctx.uow.imports.add(
                    ImportBatch(cohort.id, "slack", TEAM, COORDINATOR, "national.xlsx", created_at=ctx.now)
                )
                outcome = survey_import.check(ctx, batch, cohort, table, mapping, prepared)
                return batch.id, outcome

            writes = Timed(engine.run)
            batch_id, outcome = writes(stage)
            check_s = time.perf_counter() - start
            assert "reads well" in str(outcome), outcome

            async def look_up() -> tuple[int, float]:
                async with aiohttp.ClientSession() as session:  # one session, as SlackRuntime shares one
                    client = make_web_client(base_url=base + "/api/", session=session)
                    directory = SlackDirectory(client, static_token(BOT_TOKEN), per_minute=per_minute)
                    lookups = EmailLookups(writes, {"slack": directory})
                    began = time.perf_counter()
                    done = await lookups.drain()
                    return done, time.perf_counter() - began

            looked_up, lookups_s = asyncio.run(look_up())
            checks = engine.run(lambda ctx: len(ctx.uow.imports.get(batch_id).checks))

            imports = Timed(engine.run)
            start = time.perf_counter()
            created, _updated, missing = survey_import.import_staged(
                imports, UserRef("slack", TEAM, COORDINATOR), batch_id
            )
            import_s = time.perf_counter() - start
            asks.put("throttled?")
            throttled = int(ports.get(timeout=30))
    finally:
        fake.terminate()
    return SurveyFigures(rows, scale, decode_s, check_s, looked_up, lookups_s, looked_up / per_minute * 60,
                         throttled, import_s, created, missing, checks, writes.longest(first=True),
                         writes.longest(first=False), imports.longest(), len(imports.seconds))  # fmt: skip


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
