"""Logs: one JSON object per line with a request id from the ack to the outbox, and no personal
data at any level, checked by running whole rounds with DEBUG logging and searching the log."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from sqlalchemy import select

from bot.demo import LETTER, REPLY, run_demo
from bot.logs import REQUEST, RequestScope, configure_logging
from storage.database import make_engine
from storage.tables import participants, responses
from tests.slack import test_slack_round as slack_round
from tests.slack.fake_slack import default_users
from tests.teams import test_teams_round as teams_round


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one whole JSON object


def test_json_lines_carry_the_request_id_and_exceptions(restore_logging):
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "INFO"}, stream)
    log = logging.getLogger("tests.ops.logs")
    log.info("outside any request")
    token = REQUEST.set(RequestScope(id="req-123"))
    try:
        log.info("inside %s", "a request")
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            log.exception("it failed")
        log.debug("not at INFO")
    finally:
        REQUEST.reset(token)
    entries = _json_lines(stream.getvalue())
    assert [e["message"] for e in entries] == ["outside any request", "inside a request", "it failed"]
    assert "request_id" not in entries[0]
    assert entries[1]["request_id"] == entries[2]["request_id"] == "req-123"
    assert entries[2]["level"] == "ERROR" and "ValueError: boom" in entries[2]["exception"]
    assert {"time", "level", "logger", "message"} <= set(entries[0])


def test_a_bad_log_setting_falls_back_to_text_and_says_so(restore_logging, capsys):
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "xml"}, stream)
    logging.getLogger("tests.ops.logs").warning("hello")
    assert "BUDDY_LOG_FORMAT must be text or json, not 'xml'" in capsys.readouterr().err
    assert stream.getvalue().rstrip().endswith("WARNING tests.ops.logs: hello")


def _personal_data(database_url: str) -> set[str]:
    """Every name, email and answer the round left in the database."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        found = set()
        for name, email in conn.execute(select(participants.c.display_name, participants.c.email)):
            found |= {name, email} - {""}
            found |= {part for part in name.split() if len(part) > 3}  # "Asha" alone is personal too
        for (text,) in conn.execute(select(responses.c.text)):
            found.add(text[:40])
    engine.dispose()
    return found


def _assert_clean(log_text: str, secrets: set[str]) -> None:
    lowered = log_text.lower()
    leaked = sorted(s for s in secrets if s.lower() in lowered)
    assert not leaked, f"personal data in the log: {leaked}"


def test_the_demo_round_at_debug_logs_no_names_answers_or_emails(restore_logging, tmp_path):
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG"}, stream)
    database = tmp_path / "demo.db"
    shown = io.StringIO()
    assert run_demo(database, shown) == 0
    logging.getLogger().handlers[0].flush()
    text = stream.getvalue()
    entries = _json_lines(text)
    assert len(entries) > 10  # the round did log: the search below is not over an empty file
    assert any(e["message"].startswith("outbox: queued intro:") for e in entries)
    secrets = _personal_data(f"sqlite:///{database}") | {LETTER[:40], REPLY[:40]}
    assert "Asha Patel" in shown.getvalue() and len(secrets) > 60  # the people are there to be found
    _assert_clean(text, secrets)


async def test_the_slack_round_at_debug_logs_no_names_answers_or_emails(
    restore_logging, round_, fake, clock, db, tmp_path: Path
):
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG"}, stream)
    await slack_round.test_a_whole_round(round_, fake, clock)
    text = stream.getvalue()
    assert any(e["message"].startswith("outbox: queued nudge:") for e in _json_lines(text))
    people = {u["real_name"] for u in default_users().values() if u.get("real_name")}
    people |= {u["profile"]["email"] for u in default_users().values() if u["profile"].get("email")}
    _assert_clean(text, _personal_data(str(db.url)) | people | {slack_round.LETTER[:40]})


async def test_the_teams_round_at_debug_logs_no_names_answers_or_emails(
    restore_logging, db, connector, graph
):
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG"}, stream)
    await teams_round.test_a_whole_round_through_teams(db, connector, graph)
    text = stream.getvalue()
    assert any(e["message"].startswith("outbox: queued ") for e in _json_lines(text))
    secrets = _personal_data(str(db.url)) | {f"{u}@nhs.example" for u in (teams_round.ALICE, teams_round.BOB)}
    assert len(secrets) >= 4
    _assert_clean(text, secrets)


async def test_the_search_would_find_a_leak_if_libraries_logged_at_debug(
    restore_logging, round_, fake, clock, db
):
    """Why QUIET_LOGGERS exists: slack_sdk at DEBUG logs request bodies, names and answers included."""
    stream = io.StringIO()
    configure_logging({"BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG"}, stream)
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG)
    await slack_round.test_a_whole_round(round_, fake, clock)
    try:
        _assert_clean(stream.getvalue(), _personal_data(str(db.url)))
    except AssertionError as leak:
        assert "Asha Patel" in str(leak)
    else:
        raise AssertionError("slack_sdk's DEBUG output should have carried names")


def test_a_served_process_writes_nothing_but_json_lines(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    from tests.delivery.processes import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BUDDY_TEAMS_DEV_MODE": "1", "BUDDY_LOG_FORMAT": "json", "BUDDY_LOG_LEVEL": "DEBUG",
           "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'j.db'}"}  # fmt: skip
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "buddybot"), "serve"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    entries = _json_lines(err)  # fails on any line that is not a whole JSON object
    messages = [e["message"] for e in entries]
    assert (
        any("serve --role all on" in m for m in messages)
        and messages[-1] == "buddybot serve --role all stopped"
    )
    assert server.returncode == 0
