"""Task phases are typed in the engine and stored as the same JSON list as before, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, bindparam, text

from conversations.core.phases import Phase, PhaseError, PhaseOption, parse_phases
from conversations.taskbank.loader import load_builtin
from storage.database import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory

# The stored form a task's phases had while they were plain dicts (the loader wrote these keys).
STORED_CHOICE = {"key": "topic", "label": "Topic", "prompt": "Pick a topic", "mode": "joint", "input": "choice",
                 "word_limit": 0, "shows": "", "after": "",
                 "options": [{"value": "a", "label": "Option A"}, {"value": "b", "label": "Option B"}]}  # fmt: skip
STORED_REPLY = {"key": "reply", "label": "Reply", "prompt": "Your reply", "mode": "individual", "input": "text",
                "word_limit": 100, "shows": "topic", "after": "topic", "options": []}  # fmt: skip
RAW_READ = text("SELECT phases FROM task_definitions WHERE key = :key").columns(phases=JSON)
RAW_WRITE = text("UPDATE task_definitions SET phases = :phases WHERE key = :key").bindparams(
    bindparam("phases", type_=JSON)
)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_phases_are_stored_as_the_same_json_and_read_back_typed(engine):
    uow = SqlUnitOfWorkFactory(engine)
    [task, *_] = load_builtin()
    task.phases = parse_phases([STORED_CHOICE, STORED_REPLY])
    with uow() as u:
        u.tasks.upsert([task])
        u.commit()
    with engine.connect() as conn:
        raw = conn.execute(RAW_READ, {"key": task.key}).scalar_one()  # the column as JSON, not as phases
    assert raw == [STORED_CHOICE, STORED_REPLY]
    with uow() as u:
        stored = u.tasks.get(task.key)
        assert stored is not None
        assert stored.phases == [
            Phase("topic", "Topic", "Pick a topic", "joint", "choice", 0, "", "",
                  (PhaseOption("a", "Option A"), PhaseOption("b", "Option B"))),
            Phase("reply", "Reply", "Your reply", "individual", "text", 100, "topic", "topic"),
        ]  # fmt: skip


def test_a_stored_phase_that_no_longer_parses_is_named_when_read(engine):
    uow = SqlUnitOfWorkFactory(engine)
    [task, *_] = load_builtin()
    with uow() as u:
        u.tasks.upsert([task])
        u.commit()
    broken = [STORED_CHOICE, {**STORED_REPLY, "mode": "pairs"}]
    with engine.begin() as conn:
        conn.execute(RAW_WRITE, {"key": task.key, "phases": broken})
    with (
        uow() as u,
        pytest.raises(ValueError, match=r"phase 2: phase 'reply' mode must be individual or joint"),
    ):
        u.tasks.get(task.key)


def test_parsing_names_every_field_that_is_wrong():
    with pytest.raises(PhaseError) as raised:
        parse_phases([{"key": "pick", "input": "choice", "word_limit": 900, "after": "letter"}])
    assert raised.value.problems == [
        "phase 1: phase 'pick' word_limit must be a whole number from 0 to 500",
        "phase 1: phase 'pick' needs 'options', each with a value and a label",
        "phase 1: phase 'pick' after 'letter', which is not an earlier phase",
    ]
    with pytest.raises(PhaseError, match="phase 1 must be a mapping, not str"):
        parse_phases(["letter"])
    with pytest.raises(PhaseError, match="key"):
        parse_phases([{"label": "No key"}])
    assert [p.stored() for p in parse_phases([STORED_CHOICE, STORED_REPLY])] == [STORED_CHOICE, STORED_REPLY]
