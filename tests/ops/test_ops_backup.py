"""``buddybot db backup FILE``: a verified copy of the SQLite database, taken while it is written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime

import pytest

from conversations.core.refs import UserRef
from conversations.core.views import Message
from conversations.delivery.outbox import queue, to_user
from storage.backup import BackupError, backup
from storage.database import make_engine
from storage.migrate import current, head, upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.delivery.processes import ROOT


def test_a_backup_taken_while_buddy_writes_is_a_consistent_working_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(url)
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    stop = threading.Event()
    written = []

    def write() -> None:  # the running Buddy: a commit after another
        n = 0
        while not stop.is_set():
            with uow() as work:
                queue(work, f"k{n}", to_user(UserRef("slack", "T1", f"U{n}")), Message.simple("x" * 2000),
                      datetime.now(UTC))  # fmt: skip
                work.commit()
            written.append(n)
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 200:
            time.sleep(0.01)
        copies = [backup(url, tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        stop.set()
        writer.join()
    for report in copies:
        assert report.revision == head() and report.path.exists()
        assert report.tables["outbox"] >= 200
        # the copy opens as a Buddy database and holds exactly the rows it reports
        restored = make_engine(f"sqlite:///{report.path}")
        assert current(restored) == head()
        with SqlUnitOfWorkFactory(restored)() as work:
            assert work.outbox.count("pending") == report.tables["outbox"]
        restored.dispose()
    assert copies[0].tables["outbox"] < copies[-1].tables["outbox"]  # the writes went on during the copies
    assert "integrity check passed" in copies[0].summary()
    assert not list(tmp_path.glob("*.partial"))
    engine.dispose()


def test_backup_refuses_what_it_cannot_do_well(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(make_engine(url))
    backup(url, tmp_path / "one.db")
    with pytest.raises(BackupError, match="already exists: choose a new file name"):
        backup(url, tmp_path / "one.db")
    with pytest.raises(BackupError, match="must not be the database itself"):
        backup(url, tmp_path / "b.db", overwrite=True)
    with pytest.raises(BackupError, match="Use pg_dump"):
        backup("postgresql://buddy@db/buddy", tmp_path / "pg.db")
    with pytest.raises(BackupError, match="no database file at"):
        backup(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "m.db")


def test_a_corrupt_copy_is_not_kept(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(make_engine(url))
    import storage.backup as module

    monkeypatch.setattr(module, "_counts", lambda conn: {"outbox": id(conn)})  # counts that never agree
    with pytest.raises(BackupError, match="row counts differ"):
        backup(url, tmp_path / "bad.db")
    assert not (tmp_path / "bad.db").exists() and not (tmp_path / "bad.db.partial").exists()


def test_the_command_backs_up_and_the_copy_restores(tmp_path):
    url = f"sqlite:///{tmp_path / 'buddy.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url}
    buddybot = str(ROOT / ".venv" / "bin" / "buddybot")
    done = subprocess.run([buddybot, "db", "backup", str(tmp_path / "nightly.db")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up to {tmp_path / 'nightly.db'}: ")
    again = subprocess.run([buddybot, "db", "backup", str(tmp_path / "nightly.db")], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    # restore as docs/operations.md says: stop Buddy, put the copy in place, start
    (tmp_path / "buddy.db").unlink()
    (tmp_path / "nightly.db").rename(tmp_path / "buddy.db")
    check = sqlite3.connect(tmp_path / "buddy.db").execute("PRAGMA integrity_check").fetchone()
    assert check == ("ok",)
    shown = subprocess.run([buddybot, "db", "current"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert shown.stdout.strip() == f"database at revision {head()}"
