"""``Engine.handle_many``: several people's interactions in one unit of work and one commit (the
runner's group commit under load). Each person must get exactly what ``handle`` would have given
them, one after another, and the database must end exactly as it would have: checked by running
the same interactions both ways on two databases and comparing every answer and every row."""

from __future__ import annotations

import shutil
from typing import Any

from sqlalchemy import Engine, event, inspect, select, text
from sqlalchemy.orm import Session

from adapters.memory.chat import Chat
from conversations.core.interactions import (
    ButtonPressed,
    CommandInvoked,
    FormErrors,
    FormSubmitted,
    Interaction,
)
from storage.database import make_engine
from storage.tables import metadata
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, matched_pair, register


def _scheme(db: Engine, clock: Any) -> Chat:
    chat = make_chat(db, clock)
    matched_pair(chat)  # U1 and U2, introduced
    register(chat, "U3", "Chen Li", "general_manager")
    register(chat, "U4", "Dev Sharma")
    chat.person("U9", "Not Registered")
    return chat


def _mixed(chat: Chat) -> list[Interaction]:
    """Plain clicks and commands, with every kind that cannot share a unit of work among them."""
    a = chat.actor
    return [
        CommandInvoked(a("U1"), "pause"),
        CommandInvoked(a("U3"), "pause"),
        CommandInvoked(a("U9"), "pause"),  # refused: not registered
        CommandInvoked(a("U1"), "resume"),  # the same person again: sees their own pause
        ButtonPressed(a("U2"), "task_open", "999"),  # refused: a forged id
        FormSubmitted(a("U4"), "no_such_form", "", {}),  # form errors
        CommandInvoked(a(ADMIN), "task send"),  # work in slices of its own
        CommandInvoked(a("U4"), "pause"),
        ButtonPressed(a("U3"), "resume", ""),
        CommandInvoked(a("U2"), "help"),
    ]


def _rows(db: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with db.connect() as conn:
        return {
            table.name: sorted(conn.execute(select(table)).all(), key=repr)
            for table in metadata.sorted_tables
            if inspect(conn).has_table(table.name)
        }


def _two(tmp_path: Any, clock: Any) -> tuple[Chat, Chat]:
    """The same scheme twice: set up once, then the database file copied (ids and tokens alike)."""
    first = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    metadata.create_all(first)
    alone = _scheme(first, clock)
    alone.log.clear()
    with first.connect() as conn:  # everything into the file itself, then copy it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(tmp_path / "alone.db", tmp_path / "together.db")
    together = make_chat(make_engine(f"sqlite:///{tmp_path / 'together.db'}"), clock)
    together.people = dict(alone.people)
    return alone, together


def test_together_every_answer_and_every_row_is_what_one_at_a_time_gives(tmp_path, clock):
    alone, together = _two(tmp_path, clock)
    one_by_one = [alone.engine.handle(i) for i in _mixed(alone)]
    commits = _counting_commits(together.engine)
    batched = together.engine.handle_many(_mixed(together))

    assert batched == one_by_one
    assert "not registered" in repr(batched[2]) and isinstance(batched[5], FormErrors)
    assert "Posted the task to 1 group" in repr(batched[6])
    assert _rows(together.engine.uow_factory.engine) == _rows(alone.engine.uow_factory.engine)
    paused = _statuses(together)
    assert paused == {"U1": "matched", "U2": "matched", "U3": "registered", "U4": "paused"}
    # undone and run again at each of the four that could not share: far fewer commits than ten
    assert commits[0] < len(batched)
    posts = [row for row in _rows(together.engine.uow_factory.engine)["outbox"] if "Task 1" in repr(row)]
    assert len(posts) == 1  # the task is queued once, for the group


def test_plain_interactions_share_one_commit(tmp_path, clock):
    _, together = _two(tmp_path, clock)
    commits = _counting_commits(together.engine)
    a = together.actor
    answers = together.engine.handle_many([CommandInvoked(a(u), "pause") for u in ("U1", "U2", "U3", "U4")])
    assert [str(x.message.text)[:7] for x in answers] == ["Paused:"] * 4
    assert commits[0] == 1
    assert set(_statuses(together).values()) == {"paused"}


def test_a_failure_is_returned_in_its_place_and_the_others_stand(tmp_path, clock):
    _, together = _two(tmp_path, clock)
    a = together.actor
    routes = together.engine.routes
    route = routes.parse("pause").route  # type: ignore[union-attr]
    original = route.handler

    def broken(call: Any) -> Any:
        if call.actor.ref.user_id == "U3":
            call.member.status = "left"  # a change the failure must not leave behind
            raise RuntimeError("disk on fire")
        return original(call)

    object.__setattr__(route, "handler", broken)
    try:
        answers = together.engine.handle_many([CommandInvoked(a(u), "pause") for u in ("U1", "U3", "U4")])
    finally:
        object.__setattr__(route, "handler", original)
    assert isinstance(answers[1], RuntimeError) and "disk on fire" in str(answers[1])
    assert [str(answers[i].message.text)[:7] for i in (0, 2)] == ["Paused:"] * 2
    assert _statuses(together) == {"U1": "paused", "U2": "matched", "U3": "registered", "U4": "paused"}


def test_a_shared_commit_that_fails_runs_each_alone(tmp_path, clock):
    alone, together = _two(tmp_path, clock)
    failures = [1]

    def fail_once(_session: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", fail_once)
    try:
        batched = together.engine.handle_many(_mixed(together))
    finally:
        event.remove(Session, "before_commit", fail_once)
    assert failures == [0]
    assert batched == [alone.engine.handle(i) for i in _mixed(alone)]
    assert _rows(together.engine.uow_factory.engine) == _rows(alone.engine.uow_factory.engine)


def test_each_interaction_runs_in_the_place_its_caller_asks(tmp_path, clock):
    _, together = _two(tmp_path, clock)
    a = together.actor
    seen: list[int] = []

    def run_in(i: int, work: Any) -> Any:
        seen.append(i)
        return work()

    together.engine.handle_many([CommandInvoked(a(u), "pause") for u in ("U1", "U9", "U3")], run_in)
    assert seen == [0, 1, 0, 1, 2]  # U9's refusal undid U1's pause: U1 again, U9 alone, then U3


def _statuses(chat: Chat) -> dict[str, str]:
    db = chat.engine.uow_factory.engine
    with db.connect() as conn:
        rows = conn.execute(text("SELECT user_id, status FROM participants")).all()
    return {user: status for user, status in rows}


def _counting_commits(engine: Any) -> list[int]:
    count = [0]
    event.listen(engine.uow_factory.engine, "commit", lambda _conn: count.__setitem__(0, count[0] + 1))
    return count


def test_together_on_both_databases(db_url, clock):
    db = make_engine(db_url)
    metadata.create_all(db)
    chat = _scheme(db, clock)
    a = chat.actor
    answers = chat.engine.handle_many([CommandInvoked(a("U3"), "pause"), CommandInvoked(a("U9"), "pause"),
                                       CommandInvoked(a("U4"), "pause"), CommandInvoked(a("U3"), "resume")])  # fmt: skip
    texts = [str(x.message.text) for x in answers]
    assert texts[0].startswith("Paused:") and texts[2].startswith("Paused:") and "not registered" in texts[1]
    assert texts[3].startswith("Welcome back")
    assert _statuses(chat) == {"U1": "matched", "U2": "matched", "U3": "registered", "U4": "paused"}
    db.dispose()


def test_reads_after_pending_changes_see_them_together_as_alone(tmp_path, clock):
    """Changes left pending between interactions (a pause, a buddy leaving: the group ended and a new one
        made) are
    seen by the reads after them exactly as when each interaction commits alone."""
    alone, together = _two(tmp_path, clock)

    def calls(chat: Chat) -> list[Interaction]:
        a = chat.actor
        return [CommandInvoked(a("U1"), "pause"), CommandInvoked(a("U1"), "status"),
                CommandInvoked(a("U2"), "status"), CommandInvoked(a("U2"), "leave"),
                CommandInvoked(a("U1"), "status"), CommandInvoked(a("U1"), "resume"),
                CommandInvoked(a("U1"), "where am i"), CommandInvoked(a("U3"), "pause"),
                CommandInvoked(a("U3"), "status")]  # fmt: skip

    one_by_one = [alone.engine.handle(i) for i in calls(alone)]
    commits = _counting_commits(together.engine)
    batched = together.engine.handle_many(calls(together))

    assert batched == one_by_one and commits[0] == 1
    assert "Your buddy: **Ben Okafor**" in repr(batched[1])  # U2, until they leave
    assert "Your buddy: **Chen Li**" in repr(batched[4])  # U1's new buddy, found when U2 left
    assert _rows(together.engine.uow_factory.engine) == _rows(alone.engine.uow_factory.engine)
    assert _statuses(together) == {"U1": "matched", "U2": "left", "U3": "paused", "U4": "registered"}
