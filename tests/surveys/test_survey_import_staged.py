"""Import staged in slices (flows/survey_import.import_staged): no long write transaction, and
all or nothing as people see it. An attempt stopped between any two of its transactions leaves
nothing visible (no new people, no updated answers, no welcome on its way); pressing Import again
finishes it with each person added once and welcomed once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.memory.directory import MemoryDirectory
from conversations.core import survey
from conversations.core.clock import FakeClock
from conversations.core.model import Cohort, Coordinator, ImportBatch, Participant, Status
from conversations.core.refs import UserRef
from conversations.engine import Engine
from conversations.flows import survey_import
from conversations.flows.context import Refusal
from conversations.ports.messenger import Capabilities
from conversations.schedule.email_lookup import EmailLookups
from storage import tables
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory

PEOPLE = 23  # found by email; one more is not found
COORDINATOR = UserRef("memory", "T1", "UCOORD")
HEAD = ("Timestamp,Email address,Full name,What is your role?,What is your grade?,What is your specialty?,"
        "Which organisation employs you?,What type of organisation is it?,Which NHS region do you work in?,"
        "Do you consent to take part?\n")  # fmt: skip


def export(grade: str = "CT2") -> str:
    rows = [f"03/08/2026 09:00:00,p{i}@nhs.net,Person {i},Doctor,{grade},Psych,Trust {i % 3},MH trust,London,Yes\n"
            for i in range(PEOPLE + 1)]  # fmt: skip
    return HEAD + "".join(rows)


def ready(url: str, text: str, engine: Engine | None = None) -> tuple[Engine, int]:
    """A cohort whose first person is registered already, and a survey batch previewed."""
    if engine is None:
        db = make_engine(url)
        upgrade(db)
        engine = Engine(SqlUnitOfWorkFactory(db), clock=FakeClock(datetime(2026, 9, 7, 9, tzinfo=UTC)),
                        capabilities={"memory": Capabilities(email_lookups=50)})  # fmt: skip

        def setup(ctx):  # type: ignore[no-untyped-def]
            cohort = ctx.uow.cohorts.add(Cohort("Staged", "memory", "T1"))
            ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, "memory", "T1", COORDINATOR.user_id))
            ctx.uow.participants.add(Participant(cohort_id=cohort.id, platform="memory", workspace="T1", user_id="U000",
                                                 display_name="Person 0", role="clinician", grade="FY1",
                                                 email="p0@nhs.net", status=Status.REGISTERED, registered_at=ctx.now))  # fmt: skip

        engine.run(setup)

    def check(ctx):  # type: ignore[no-untyped-def]
        cohort = ctx.uow.cohorts.by_name("Staged")
        table = survey.read(text)
        batch = ctx.uow.imports.add(ImportBatch(cohort.id, "memory", "T1", COORDINATOR.user_id, "national.csv",
                                                created_at=ctx.now))  # fmt: skip
        survey_import.check(ctx, batch, cohort, table, survey.guess(table))
        return batch.id

    batch_id = engine.run(check)
    directory = MemoryDirectory({f"p{i}@nhs.net": f"U{i:03d}" for i in range(PEOPLE)})
    asyncio.run(EmailLookups(engine.run, {"memory": directory}).drain())
    assert engine.run(lambda ctx: ctx.uow.imports.get(batch_id).status) == "ready"
    return engine, batch_id


def seen(engine: Engine) -> dict[str, object]:
    """What anyone could see: the cohort's people and the messages on their way."""
    with engine.uow_factory() as uow:
        people = {p.user_id: (p.status, p.grade) for p in uow.participants.in_cohort(1)}
        welcomes = sorted(
            o.key for o in uow.outbox.by_status("pending") if o.key.startswith("import-welcome:")
        )
        return {"people": people, "welcomes": welcomes}


def leftovers(url: str) -> tuple[int, int]:
    db = make_engine(url)
    with db.connect() as conn:
        staged = len(conn.execute(select(tables.import_staged.c.id)).all())
        unsent = len(conn.execute(select(tables.outbox.c.id).where(tables.outbox.c.status == "staged")).all())
    db.dispose()
    return staged, unsent


class Stopped(Exception):
    pass


def test_a_staged_import_adds_updates_and_welcomes_as_before(db_url) -> None:  # type: ignore[no-untyped-def]
    engine, batch_id = ready(db_url, export())
    steps: list[str] = []
    counts = survey_import.import_staged(engine.run, COORDINATOR, batch_id, stage_slice=5, step=steps.append)
    assert counts == (PEOPLE - 1, 1, 1)  # new, updated (Person 0, registered already), not found
    assert steps == ["begin"] + ["stage"] * 6 + ["reveal"]  # 23 found, 5 a slice, and one that finds none
    after = seen(engine)
    assert after["people"]["U000"] == ("registered", "CT2")  # updated, still registered  # type: ignore[index]
    assert {s for s, _ in after["people"].values()} == {"registered", "invited"}  # type: ignore[attr-defined]
    assert len(after["people"]) == PEOPLE and len(after["welcomes"]) == PEOPLE - 1  # type: ignore[arg-type]
    assert leftovers(db_url) == (0, 0)
    with pytest.raises(Refusal, match="That import is done already"):
        survey_import.import_staged(engine.run, COORDINATOR, batch_id)


@pytest.mark.parametrize("stop_after", [1, 2, 4, 6])  # begin, then 1, 3 or all 5 slices staged
def test_an_import_stopped_between_transactions_shows_nothing_and_finishes_when_pressed_again(
    db_url, stop_after
) -> None:  # type: ignore[no-untyped-def]
    engine, batch_id = ready(db_url, export())
    before = seen(engine)
    taken: list[str] = []

    def stop(name: str) -> None:
        taken.append(name)
        if len(taken) == stop_after:
            raise Stopped

    with pytest.raises(Stopped):
        survey_import.import_staged(engine.run, COORDINATOR, batch_id, stage_slice=5, step=stop)
    assert seen(engine) == before  # nothing half-imported: no new people, no changed answers, no welcomes
    assert before["people"] == {"U000": ("registered", "FY1")}
    assert engine.run(lambda ctx: ctx.uow.imports.get(batch_id).status) == "importing"

    counts = survey_import.import_staged(engine.run, COORDINATOR, batch_id, stage_slice=7)  # pressed again
    assert counts == (PEOPLE - 1, 1, 1)
    after = seen(engine)
    assert len(after["people"]) == PEOPLE and after["people"]["U000"] == ("registered", "CT2")  # type: ignore[index, arg-type]
    assert after["welcomes"] == sorted(f"import-welcome:{batch_id}:U{i:03d}" for i in range(1, PEOPLE))
    assert leftovers(db_url) == (0, 0)


def test_someone_who_joins_while_an_import_is_staged_is_updated_not_added_twice(db_url) -> None:  # type: ignore[no-untyped-def]
    engine, batch_id = ready(db_url, export())

    def join_meanwhile(name: str) -> None:
        if name == "begin":  # after begin read who is in the cohort, before anything is staged
            engine.run(lambda ctx: ctx.uow.participants.add(Participant(
                cohort_id=1, platform="memory", workspace="T1", user_id="U005", display_name="Person 5",
                role="clinician", grade="ST1", status=Status.REGISTERED, registered_at=ctx.now)))  # fmt: skip

    assert survey_import.import_staged(engine.run, COORDINATOR, batch_id, step=join_meanwhile) == (
        PEOPLE - 2,
        2,
        1,
    )
    after = seen(engine)
    assert len(after["people"]) == PEOPLE and after["people"]["U005"] == ("registered", "CT2")  # type: ignore[index, arg-type]
    assert f"import-welcome:{batch_id}:U005" not in after["welcomes"]  # type: ignore[operator]
    assert leftovers(db_url) == (0, 0)


def test_cancel_after_an_import_was_cut_short_discards_what_it_staged(db_url) -> None:  # type: ignore[no-untyped-def]
    engine, batch_id = ready(db_url, export())

    def stop(name: str) -> None:
        if name == "stage":
            raise Stopped

    with pytest.raises(Stopped):
        survey_import.import_staged(engine.run, COORDINATOR, batch_id, stage_slice=5, step=stop)
    assert leftovers(db_url) == (5, 4)  # Person 0 is in the cohort already: updated, not welcomed
    engine.clock.advance(hours=25)  # type: ignore[attr-defined]
    assert engine.periodic()["expired survey imports"] == 1  # an Import cut short and never pressed again
    assert leftovers(db_url) == (0, 0) and seen(engine)["people"] == {"U000": ("registered", "FY1")}


def test_erasure_reaches_someone_staged_by_an_import_cut_short(db_url) -> None:  # type: ignore[no-untyped-def]
    from conversations.flows.personal import erase_all

    engine, batch_id = ready(db_url, export())

    def stop(name: str) -> None:
        if name == "stage":
            raise Stopped

    with pytest.raises(Stopped):
        survey_import.import_staged(engine.run, COORDINATOR, batch_id, stage_slice=5, step=stop)
    engine.run(lambda ctx: erase_all(ctx, UserRef("memory", "T1", "U001")))
    assert leftovers(db_url) == (4, 3)  # U001's staged answers and welcome are gone
    assert survey_import.import_staged(engine.run, COORDINATOR, batch_id) == (PEOPLE - 2, 1, 2)
    assert "U001" not in seen(engine)["people"]  # type: ignore[operator]
    assert leftovers(db_url) == (0, 0)
