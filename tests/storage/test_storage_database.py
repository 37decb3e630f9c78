"""Storage on both databases: the migrated schema, records round-trip, constraints hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from conversations.core.model import (
    Assignment,
    Cohort,
    ConsentRecord,
    Coordinator,
    Match,
    OutboxItem,
    Participant,
    Response,
)
from conversations.core.refs import UserRef
from conversations.ports.store import SCRUBBED
from storage.database import make_engine, normalise_url
from storage.migrate import current, downgrade, head, upgrade
from storage.migrations.filters import include_name
from storage.tables import metadata
from storage.unit_of_work import SqlUnitOfWorkFactory

NOW = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def uow(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


def person(cohort_id: int, user_id: str, **kw) -> Participant:
    return Participant(cohort_id=cohort_id, platform="slack", workspace="T1", user_id=user_id,
                       display_name=kw.pop("name", user_id), role=kw.pop("role", "clinician"),
                       registered_at=NOW, **kw)  # fmt: skip


def test_migrations_create_exactly_the_models_schema_and_downgrade_cleanly(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    assert current(engine) == head()
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert diff == []
    downgrade(engine, "base")
    assert current(engine) is None
    upgrade(engine)  # and back up again
    assert current(engine) == head()
    engine.dispose()


def test_records_round_trip_with_aware_utc_times_and_json(uow):
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1", created_at=NOW,
                                      settings={"weights": {"same_region": 2.5}, "exclusions": [[1, 2]]}))  # fmt: skip
        u.participants.add(person(cohort.id, "U1", interests=["digital", "research"], name="Zoë O'Brien"))
        u.commit()
    with uow() as u:
        cohort = u.cohorts.by_name("north")  # names are case-insensitive
        [p] = u.participants.in_cohort(cohort.id)
        assert cohort.settings == {"weights": {"same_region": 2.5}, "exclusions": [[1, 2]]}
        assert p.interests == ["digital", "research"] and p.display_name == "Zoë O'Brien"
        assert p.registered_at == NOW and p.registered_at.tzinfo is not None
        assert u.participants.find(cohort.id, UserRef("slack", "T1", "U1")) is p
        assert u.participants.find(cohort.id, UserRef("slack", "T2", "U1")) is None  # workspace is identity


def test_fresh_reads_again_what_a_bulk_statement_changed_and_keeps_what_was_pending(uow):
    """Interactions sharing one unit of work (the engine's group commit) each start fresh."""
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        u.participants.add(person(cohort.id, "U1", status="registered"))
        u.participants.add(person(cohort.id, "U2", status="registered"))
        u.commit()
    with uow() as u:
        one, two = u.participants.in_cohort(cohort.id)
        two.display_name = "Dev Sharma"  # pending: not yet written
        assert u.participants.set_status([one.id], "waiting", only_from=["registered"]) == 1
        assert one.status == "registered"  # the record in memory does not know
        u.fresh()
        again, two_again = u.participants.in_cohort(cohort.id)
        assert again is one and one.status == "waiting" and two_again.display_name == "Dev Sharma"
        participants, consent = u.participants.for_user_and_consent(
            UserRef("slack", "T1", "U2"), "participation"
        )
        assert participants == [two] and consent is None


def test_the_member_lookup_carries_their_newest_consent_of_the_kind_asked(uow):
    def record(user_id: str, kind: str, agreed: bool, version: str) -> ConsentRecord:
        return ConsentRecord(platform="slack", workspace="T1", user_id=user_id, cohort_id=None, kind=kind,
                             agreed=agreed, notice_version=version, wording="...", at=NOW)  # fmt: skip

    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        u.participants.add(person(cohort.id, "U1"))
        u.participants.add(person(cohort.id, "U2"))
        for r in (record("U1", "participation", True, "v1"), record("U1", "participation", False, "v2"),
                  record("U1", "quotes", True, "v3"), record("U2", "participation", True, "v1")):  # fmt: skip
            u.consents.add(r)
        u.commit()
    with uow() as u:
        ref = UserRef("slack", "T1", "U1")
        assert u.participants.for_user_and_consent(ref, "participation")[1] == (False, "v2")
        assert u.participants.for_user_and_consent(ref, "quotes")[1] == (True, "v3")
        assert u.participants.for_user_and_consent(UserRef("slack", "T2", "U1"), "participation") == (
            [],
            None,
        )


def test_a_person_is_registered_once_per_cohort(uow):
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        u.participants.add(person(cohort.id, "U1"))
        with pytest.raises(IntegrityError):
            u.participants.add(person(cohort.id, "U1"))


def test_naive_datetimes_are_refused(uow):
    with uow() as u:
        with pytest.raises(Exception, match="naive datetime"):
            u.cohorts.add(
                Cohort(name="North", platform="slack", workspace="T1", created_at=datetime(2026, 1, 1))
            )


def test_matches_members_and_past_pairs_by_identity(uow):
    with uow() as u:
        a = u.cohorts.add(Cohort(name="2025", platform="slack", workspace="T1"))
        b = u.cohorts.add(Cohort(name="2026", platform="slack", workspace="T1"))
        old1, old2 = (
            u.participants.add(person(a.id, "U1")),
            u.participants.add(person(a.id, "U2", role="general_manager")),
        )
        new1 = u.participants.add(person(b.id, "U1"))
        match = u.matches.add(
            Match(cohort_id=a.id, round=1, score=3.0, reasons=["same trust"]), [old1.id, old2.id]
        )
        u.commit()
        assert [p.user_id for p in u.matches.members(match.id)] == ["U1", "U2"]
        assert u.matches.active_for(old1.id) is match
        assert u.matches.past_pairs([new1.ref]) == {frozenset({"slack:T1:U1", "slack:T1:U2"})}


def test_assignments_and_responses_are_unique_where_the_scheme_needs_it(uow):
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        p1 = u.participants.add(person(cohort.id, "U1"))
        match = u.matches.add(Match(cohort_id=cohort.id, round=1, score=1.0), [p1.id])
        a = u.assignments.add(Assignment(match_id=match.id, task_key="problem_page", sequence=1, posted_at=NOW,
                                         due_at=NOW + timedelta(days=7)))  # fmt: skip
        u.responses.add(Response(assignment_id=a.id, phase="letter", owner_id=p1.id, author_id=p1.id, text="x",
                                 submitted_at=NOW))  # fmt: skip
        u.commit()
        with pytest.raises(IntegrityError):
            u.responses.add(Response(assignment_id=a.id, phase="letter", owner_id=p1.id, author_id=p1.id,
                                     text="again", submitted_at=NOW))  # fmt: skip
        u.rollback()
        with pytest.raises(IntegrityError):
            u.assignments.add(Assignment(match_id=match.id, task_key="problem_page", sequence=2, posted_at=NOW,
                                         due_at=NOW))  # fmt: skip


def test_open_since_returns_the_latest_assignment_of_each_active_match(uow):
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        p = u.participants.add(person(cohort.id, "U1"))
        m = u.matches.add(Match(cohort_id=cohort.id, round=1, score=1.0), [p.id])
        for seq, key in enumerate(["a", "b"], start=1):
            u.assignments.add(Assignment(match_id=m.id, task_key=key, sequence=seq,
                                         posted_at=NOW + timedelta(days=7 * seq), due_at=NOW))  # fmt: skip
        u.commit()
        assert [a.task_key for a in u.assignments.open_since(cohort.id, NOW + timedelta(days=30))] == ["b"]
        assert u.assignments.open_since(cohort.id, NOW + timedelta(days=8)) == []


def test_outbox_keys_are_unique_and_claims_do_not_overlap(uow):
    item = lambda key: OutboxItem(key=key, recipient={"kind": "user"}, message={"text": key}, created_at=NOW)  # noqa: E731
    with uow() as u:
        assert u.outbox.add(item("a")) is True
        assert u.outbox.add(item("a")) is False
        assert u.outbox.add(item("b")) is True
        u.commit()
    with uow() as first, uow() as second:
        mine = first.outbox.claim(NOW, 1)
        first.commit()
        theirs = second.outbox.claim(NOW, 10)
        second.commit()
        assert [i.key for i in mine] == ["a"] and [i.key for i in theirs] == ["b"]
        assert second.outbox.claim(NOW, 10) == []
        assert first.outbox.count("sending") == 2


def test_coordinators_are_found_by_platform_identity(uow):
    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        u.cohorts.add_coordinator(Coordinator(cohort.id, "slack", "T1", "UC"))
        u.cohorts.add_coordinator(Coordinator(cohort.id, "slack", "T1", "UC"))  # idempotent
        u.commit()
        assert len(u.cohorts.coordinators(cohort.id)) == 1
        assert u.cohorts.coordinated_by(UserRef("slack", "T1", "UC")) == [cohort]
        assert u.cohorts.coordinated_by(UserRef("teams", "T1", "UC")) == []


def test_database_urls_are_normalised_for_psycopg():
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sent_posts_lose_their_content_after_the_retention_period_but_keep_their_key(uow):
    def post(key: str, status: str, sent_at: datetime | None) -> OutboxItem:
        return OutboxItem(key=key, recipient={"kind": "user"}, message={"text": f"Dear Ben, {key}"},
                          created_at=NOW, status=status, sent_at=sent_at)  # fmt: skip

    with uow() as u:
        u.outbox.add(post("old-1", "sent", NOW - timedelta(days=40)))
        u.outbox.add(post("old-2", "sent", NOW - timedelta(days=31)))
        u.outbox.add(post("recent", "sent", NOW - timedelta(days=3)))
        u.outbox.add(post("waiting", "pending", None))
        u.commit()
    with uow() as u:
        assert u.outbox.scrub_sent(NOW - timedelta(days=30), limit=1) == 1  # a batch at a time
        assert u.outbox.scrub_sent(NOW - timedelta(days=30), limit=10) == 1
        assert u.outbox.scrub_sent(NOW - timedelta(days=30), limit=10) == 0  # nothing twice
        u.commit()
    with uow() as u:
        sent = {i.key: i.message for i in u.outbox.by_status("sent")}
        assert sent["old-1"] == sent["old-2"] == SCRUBBED
        assert sent["recent"] == {"text": "Dear Ben, recent"}
        assert [i.message for i in u.outbox.by_status("pending")] == [{"text": "Dear Ben, waiting"}]
        assert u.outbox.add(post("old-1", "pending", None)) is False  # the key still guards against resending


def test_the_member_lookup_finds_their_group_and_a_write_makes_it_read_again(uow, db_url):
    """The lookup reads the member's active group with them; asking for it again costs no statement
    until something is written: a group ended in memory, a flush, a bulk statement, a commit."""
    statements: list[str] = []
    engine = uow.engine
    from sqlalchemy import event, update

    from storage import tables

    @event.listens_for(engine, "before_cursor_execute")
    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        one, two = u.participants.add(person(cohort.id, "U1")), u.participants.add(person(cohort.id, "U2"))
        alone = u.participants.add(person(cohort.id, "U3"))
        group = u.matches.add(Match(cohort_id=cohort.id, round=1, score=1.0), [one.id, two.id])
        u.commit()

    def lookup(u, user):
        return u.participants.for_user_and_consent(UserRef("slack", "T1", user), "participation")

    with uow() as u:
        (me,), _ = lookup(u, "U1")
        (nobody,), _ = lookup(u, "U3")
        statements.clear()
        me.status = "paused"  # the member's own change, pending, says nothing about groups
        assert u.matches.active_for(me.id).id == group.id and u.matches.active_for(nobody.id) is None
        assert statements == []
        ended = u.matches.active_for(me.id)
        ended.status = "ended"  # pending: the note no longer holds
        assert u.matches.active_for(me.id) is None
        assert statements == ["UPDATE", "UPDATE", "SELECT"]  # the changes written, then the group read
        u.rollback()
    with uow() as u:
        (me,), _ = lookup(u, "U1")
        u.session.execute(update(tables.matches).values(status="ended"))  # a bulk statement
        assert u.matches.active_for(me.id) is None
        u.rollback()
    with uow() as u:
        (me,), _ = lookup(u, "U3")
        assert u.matches.active_for(alone.id) is None
        u.matches.add(Match(cohort_id=cohort.id, round=2, score=1.0), [alone.id])  # flushed: forgotten
        assert u.matches.active_for(alone.id) is not None
        u.commit()
        statements.clear()
        assert u.matches.active_for(alone.id) is not None and statements == ["SELECT"]  # commit forgets
    with uow() as u:
        (me,), _ = lookup(u, "U1")
        my_id = me.id
        u.fresh()  # the next interaction of a group commit reads for itself
        statements.clear()
        assert u.matches.active_for(my_id).id == group.id and statements == ["SELECT"]


def test_a_group_commit_writes_members_changes_together_unless_a_read_needs_them(uow):
    """Between the interactions of a group commit, a membership's changed status waits for the commit;
    the member lookup reads past it (the record comes back as changed). A change to who someone is, a
    new record or a bulk statement is written before the next read."""
    statements: list[str] = []
    from sqlalchemy import event

    @event.listens_for(uow.engine, "before_cursor_execute")
    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    with uow() as u:
        cohort = u.cohorts.add(Cohort(name="North", platform="slack", workspace="T1"))
        for user in ("U1", "U2", "U3"):
            u.participants.add(person(cohort.id, user, status="registered"))
        u.commit()

    def lookup(u, user):
        return u.participants.for_user_and_consent(UserRef("slack", "T1", user), "participation")[0]

    with uow() as u:
        statements.clear()
        (one,) = lookup(u, "U1")
        one.status = "paused"
        u.fresh()
        (two,) = lookup(u, "U2")
        two.status = "paused"
        u.fresh()
        (again,) = lookup(u, "U1")
        assert again is one and again.status == "paused"
        assert statements == ["SELECT", "SELECT", "SELECT"]  # nothing written yet
        u.commit()
        assert statements[3:] == ["UPDATE"]  # both in one statement
    with uow() as u:
        assert [p.status for p in u.participants.in_cohort(cohort.id)] == ["paused", "paused", "registered"]
    with uow() as u:
        (three,) = lookup(u, "U3")
        three.user_id = "U9"  # who they are: written before the lookup reads
        u.fresh()
        statements.clear()
        assert lookup(u, "U9") == [three] and statements == ["UPDATE", "SELECT"]
        u.session.add(person(cohort.id, "U5"))  # new: written first
        statements.clear()
        assert len(lookup(u, "U5")) == 1 and statements == ["INSERT", "SELECT"]
        u.participants.set_status([three.id], "waiting", only_from=["registered"])  # a bulk statement
        u.fresh()
        assert three.status == "waiting"  # read again: the record in memory was forgotten
