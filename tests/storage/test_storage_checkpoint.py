"""SQLite's log checkpointed off the request path: a server's own connections never checkpoint in a
commit, its checkpointer thread keeps the log short, and the CLI keeps SQLite's own checkpoints."""

from __future__ import annotations

import time

from sqlalchemy import text

from storage.checkpoint import WalCheckpointer
from storage.database import make_engine


def _pages_written(engine, rows: int, pause: float = 0.0) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)"))
    for start in range(0, rows, 100):  # one commit per 100 rows of 4 kB: a page each at least
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (body) VALUES (:body)"),
                [{"body": "x" * 4000} for _ in range(start, min(rows, start + 100))],
            )
        time.sleep(pause)


def _sizes(path) -> tuple[int, int]:
    """Pages in the database file and in its log (SQLite 3.40 has no checkpoint that only reports:
    copying pages back grows the one, and a log only restarts once it was all copied back)."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size // 4096, (wal.stat().st_size // 4096 if wal.exists() else 0)


def _until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_server_connection_never_checkpoints_in_a_commit_the_cli_one_does(tmp_path):
    path = tmp_path / "buddy.db"
    server, cli = (
        make_engine(f"sqlite:///{path}", checkpoint_in_background=True),
        make_engine(f"sqlite:///{path}"),
    )
    with server.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    with cli.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    _pages_written(server, 1500)
    database, log = _sizes(path)
    assert database < 100 and log > 1500  # nothing copied back: the log only grows
    _pages_written(cli, 1500)
    assert _sizes(path)[0] > 1500  # the CLI's commits copied it back once the log passed 1,000 pages
    server.dispose()
    cli.dispose()


def test_the_checkpointer_copies_the_log_back_within_a_second_and_once_more_when_stopped(tmp_path):
    path = tmp_path / "buddy.db"
    engine = make_engine(f"sqlite:///{path}", checkpoint_in_background=True)
    _pages_written(engine, 1500)
    assert _sizes(path)[0] < 100
    checkpointer = WalCheckpointer(engine, every=0.05, limit=1000)
    checkpointer.start()
    assert _until(lambda: _sizes(path)[0] > 1500)  # the thread copied the log back
    assert _until(lambda: _sizes(path)[1] == 0)  # and, past its limit, emptied it
    _pages_written(engine, 6000, pause=0.01)  # under steady writes too, the log stays short
    assert _sizes(path)[1] < 3000
    checkpointer.stop()
    assert _sizes(path)[0] > 7500  # and the last checkpoint copied the rest
    checkpointer.stop()  # twice is harmless
    engine.dispose()


def test_a_log_held_open_by_a_reader_is_emptied_once_the_reader_lets_go(tmp_path):
    path = tmp_path / "buddy.db"
    engine = make_engine(f"sqlite:///{path}", checkpoint_in_background=True)
    _pages_written(engine, 300)
    reader = engine.raw_connection()
    cursor = reader.cursor()
    cursor.execute("BEGIN")
    cursor.execute("SELECT count(*) FROM filler").fetchone()  # a snapshot: PASSIVE cannot finish
    _pages_written(engine, 300)
    checkpointer = WalCheckpointer(engine, every=0.05, limit=100)
    checkpointer.start()
    time.sleep(0.3)
    assert _sizes(path)[1] > 500  # held back by the reader
    reader.rollback()  # the reader lets go: the truncating checkpoint, waiting for it, finishes
    reader.close()
    assert _until(lambda: _sizes(path)[1] == 0)  # TRUNCATE empties the log; PASSIVE never would
    checkpointer.stop()
    engine.dispose()


def test_a_failing_checkpoint_is_logged_once_by_type_and_tried_again(tmp_path, caplog):
    engine = make_engine(f"sqlite:///{tmp_path}/missing/buddy.db", checkpoint_in_background=True)
    checkpointer = WalCheckpointer(engine)
    assert checkpointer.checkpoint() == (1, -1, -1)
    assert checkpointer.checkpoint() == (1, -1, -1)
    warnings = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert len(warnings) == 1 and "missing" not in warnings[0].getMessage()
    engine.dispose()


def test_postgresql_engines_are_untouched():
    engine = make_engine("postgresql://u@127.0.0.1:1/none", checkpoint_in_background=True)
    assert engine.dialect.name == "postgresql"
    engine.dispose()
