"""The data protection officer's test, on SQLite and PostgreSQL: one person goes through every
feature (the network's too: an organiser, a subscriber, an event's volunteer and organiser, coffee
introductions, an expert, a channel joined and a welcome), asks to be forgotten, and then every table of the database (the engine's, the platform
adapters', the scheduler's) is dumped and searched for each of their identifiers and answers.
Nothing may be found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, select, text

from adapters.teams.references import ReferenceStore, TeamsUser
from adapters.teams.tables import pending_files
from conversations.core.clock import FakeClock
from conversations.core.interactions import ButtonPressed, CommandInvoked
from conversations.flows import personal
from conversations.ports.messenger import Capabilities
from storage.database import make_engine
from storage.migrate import upgrade
from tests.conftest import START, make_chat
from tests.engine.helpers import ADMIN, cohort, register

ASHA, NAME, EMAIL = "UASHA71", "Asha Quennell-Patel", "asha.qp@example.nhs.uk"
LETTER = "Dear Ben, the rota on Quarry ward changes weekly and the registrars never hear why it does."
REPLY_TO_ASHA = "Dear Asha, on my side the rota is built from a spreadsheet nobody owns."
JOINT = "We would start with one owner for the rota and a weekly five-minute huddle on every ward."
NEEDLES = (ASHA, NAME, "Quennell", EMAIL, LETTER, LETTER[:40], "Quarry ward")


@pytest.fixture
def database(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)  # every table a deployment has, the adapters' included
    yield engine
    engine.dispose()


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as text."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = [
                json.dumps([str(v) for v in row], ensure_ascii=False) + repr(tuple(row)) for row in rows
            ]
    return out


def found(engine: Engine) -> list[str]:
    return [f"{table}: {needle!r} in {row[:300]}" for table, rows in dump(engine).items() for row in rows
            for needle in NEEDLES if needle in row]  # fmt: skip


def test_after_erasure_no_table_holds_the_persons_identifiers_or_words(database: Engine) -> None:
    clock = FakeClock(START)
    chat = make_chat(database, clock, Capabilities(send_files=True, group_dm=True, max_group_size=8,
                                                   channel_invite=True))  # fmt: skip
    references = ReferenceStore(database)  # the Teams adapter's caches, on the same database
    personal.cache("Teams tables (test)", "memory",
                   export=lambda u: references.export_user(u.workspace, u.user_id),
                   erase=lambda u, needles: references.forget_user(u.workspace, u.user_id, needles))  # fmt: skip
    try:
        _walk_through_every_feature(chat, clock, references, database)
        assert found(database), "the walk-through should have stored the person's data somewhere"

        chat.say(ASHA, "forget me")
        chat.press_in_last(ASHA, "Erase my data").expect("Buddy has erased what it held about you")
        chat.deliver()
        clock.advance(days=1)
        chat.say(ADMIN, "nudge")
        chat.deliver()

        assert found(database) == []
        assert "had to step away" in chat.transcript("UBEN")  # their buddy was told, as for a departure
        assert "asked Buddy to erase their data" in chat.transcript(ADMIN)
    finally:
        personal.CACHES.pop("Teams tables (test)", None)


def _walk_through_every_feature(chat, clock: FakeClock, references: ReferenceStore, database: Engine) -> None:  # type: ignore[no-untyped-def]
    cohort(chat)
    register(chat, ASHA, NAME)
    chat.person(ASHA, NAME, EMAIL)
    chat.say(ASHA, "profile")
    from tests.engine.helpers import registration

    chat.submit(ASHA, registration(NAME, interests=("digital", "finance")))
    register(chat, "UBEN", "Ben Okafor", "general_manager")
    register(chat, "UCARA", "Cara Jones")
    chat.say(ADMIN, f"coordinator add @{ASHA}")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    chat.press_in_last(ASHA, "Respond")
    chat.submit(ASHA, {"answer": LETTER})
    chat.press_in_last("UBEN", "Respond")
    chat.submit("UBEN", {"answer": REPLY_TO_ASHA})
    chat.press_in_last(ASHA, "Respond")
    chat.submit(ASHA, {"answer": JOINT})
    chat.say(ADMIN, "export")
    chat.say(ASHA, "mydata")
    chat.say(ASHA, "mydata json")
    chat.say(ASHA, "consent")
    chat.say(ASHA, "consent withdraw quotes")
    chat.say(ASHA, "pause")
    chat.say(ASHA, "resume")
    clock.advance(days=8)
    chat.say(ADMIN, "nudge")
    chat.say(ADMIN, "match preview")  # a new proposal (Cara waits), kept
    chat.engine.handle(CommandInvoked(chat.actor(ASHA), "status"))
    chat.engine.handle(ButtonPressed(chat.actor(ADMIN), "cohort_export", "1"))
    # the digest is queued, not yet sent, when she is forgotten: it must not go out
    with chat.engine.uow_factory() as uow:
        [asha] = uow.participants.for_user(chat.actor(ASHA).ref)
        asha.consent_share = True
        uow.commit()
    chat.engine.handle(CommandInvoked(chat.actor(ADMIN), "digest"))
    _walk_through_the_network(chat, clock)
    # what the Teams adapter would have cached about her
    now = datetime(2026, 9, 7, tzinfo=UTC)
    references.save_user(TeamsUser("T1", ASHA, f"29:{ASHA}", NAME, EMAIL))
    references.save({"conversation": {"id": f"a:{ASHA}-chat", "conversationType": "personal", "tenantId": "T1"},
                     "user": {"id": f"29:{ASHA}", "aadObjectId": ASHA, "name": NAME},
                     "serviceUrl": "https://smba.example/"}, "T1")  # fmt: skip
    with database.begin() as conn:
        conn.execute(pending_files.insert().values(file_id="f-1", tenant_id="T1", user_id="UADMIN",
                                                   filename="export.csv", content=f"name\n{NAME}\n", created_at=now))  # fmt: skip
        assert conn.execute(select(pending_files.c.file_id)).all()


EVENT = {"title": "North West ops meet-up", "date": "2026-09-30", "start": "18:00", "end": "20:00",
         "timezone": "Europe/London", "place": "Manchester", "capacity": "1", "volunteers": "welcome desk",
         "region": "north_west", "topics": ("digital",), "description": "Drinks and a talk"}  # fmt: skip


def _walk_through_the_network(chat, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """Asha organises, subscribes, answers, volunteers, waits, has coffee, is an expert, joins."""
    chat.say(ADMIN, f"organiser add @{ASHA}").expect("now organises the network")
    chat.say(ADMIN, 'channel add "#ops-north-west" https://chat.example/nw "Ops in the North West" id=C0NW '
                    "region=north_west").expect("Listed")  # fmt: skip
    chat.say(ASHA, "event add")
    chat.submit(ASHA, EVENT).expect("Added event")  # she organises it
    chat.say(ADMIN, "event add")
    chat.submit(ADMIN, {**EVENT, "title": "Digital drop-in"}).expect("Added event")
    chat.say(ASHA, "subscribe north_west digital").expect("Subscribed")
    chat.say(ADMIN, "event announce 2").expect("Announced")
    with chat.engine.uow_factory() as uow:
        from conversations.core.network import Event

        [one, two] = sorted(uow.records(Event).where(platform="memory"), key=lambda e: e.number)
        ids = (str(one.id), str(two.id))
    chat.press("UCARA", "event_going", ids[1]).expect("see you there")
    chat.press(ASHA, "event_going", ids[1]).expect("waiting list")  # one place: she waits
    chat.press(ASHA, "event_going", ids[0]).expect("see you there")
    chat.press(ASHA, "event_volunteer", ids[0])
    chat.submit(ASHA, {"role": "welcome desk"}).expect("volunteering as welcome desk")
    chat.say(ADMIN, "event attendees 1").expect("Going 1")
    chat.say(ASHA, "coffee on trust=Quarry Hospitals").expect("signed up for coffee")
    chat.say("UCARA", "coffee on trust=Salford Royal").expect("signed up for coffee")
    assert chat.engine.periodic()["coffee introductions"] == 1
    chat.say(ADMIN, f"expert add @{ASHA} commissioning").expect("listed as an expert")
    chat.say(ASHA, "join #ops-north-west").expect("Adding you")
    chat.join_channel(ASHA, "C0NW")
    chat.say(ASHA, "mydata json")
    chat.deliver()


def test_retention_finds_unscrubbed_rows_and_confirmations_on_both_databases(database: Engine) -> None:
    from conversations.core.model import OutboxItem
    from conversations.ports.store import SCRUBBED
    from storage.unit_of_work import SqlUnitOfWorkFactory

    uow_factory = SqlUnitOfWorkFactory(database)
    old = datetime(2026, 1, 1, tzinfo=UTC)
    with uow_factory() as uow:
        for key, status, message, recipient in (
            ("a", "sent", {"text": "hello"}, {"kind": "user", "user_id": ASHA}),
            ("b", "sent", dict(SCRUBBED), {"kind": "user", "removed": True}),  # done already
            ("c", "sent", dict(SCRUBBED), {"kind": "user", "user_id": ASHA}),  # scrubbed by the old job only
            ("d", "pending", {"text": "later"}, {"kind": "user", "user_id": ASHA}),  # not settled
            (
                "forgotten:1:x",
                "sent",
                {"text": "done"},
                {"kind": "user", "user_id": ASHA, "erase_after_send": True},
            ),
        ):
            uow.outbox.add(
                OutboxItem(key=key, recipient=recipient, message=message, created_at=old, status=status)
            )
        uow.commit()
    with uow_factory() as uow:
        due = uow.outbox.unscrubbed_before(START, ("sent", "failed"), 10)
        assert [i.key for i in due] == ["a", "c", "forgotten:1:x"]
        assert [i.key for i in uow.outbox.keyed("forgotten:", ("sent",))] == ["forgotten:1:x"]
        assert uow.outbox.keyed("forgotten%", ("sent",)) == []  # a prefix, not a pattern
