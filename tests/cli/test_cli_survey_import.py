"""``buddybot import`` of a real survey export: the same checks, lookups (on the fake Slack) and
summary as in chat; --dry-run writes nothing; --mapping saved and interactive."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack

FIXTURES = Path(__file__).parent.parent / "surveys" / "fixtures"


@pytest.fixture
async def slack_env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    fake = await FakeSlack().start()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'buddy.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    monkeypatch.setenv("BUDDY_SLACK_LOOKUP_RATE", "3000")
    monkeypatch.delenv("BUDDY_ADMINS", raising=False)
    yield tmp_path, fake
    await fake.close()


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))  # the fake Slack keeps serving on this loop


async def test_a_surveymonkey_csv_from_the_command_line(slack_env, capsys) -> None:  # type: ignore[no-untyped-def]
    workdir, fake = slack_env
    survey = workdir / "survey.csv"
    shutil.copy(FIXTURES / "surveymonkey.csv", survey)
    assert await cli("cohort", "create", "North", "--workspace", TEAM, "--coordinator", "U0COORD1") == 0
    capsys.readouterr()

    assert await cli("import", str(survey), "--cohort", "North", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Dry run: 4 found, 2 not found, 1 value to check." in out
    assert (
        "“Psychiatric medicine” → Psychiatry" in out
        and "Sam Nobody, sam.nobody@nhs.net: no Slack account" in out
    )
    assert len(fake.calls_to("users.lookupByEmail")) == 5
    assert await cli("export", "--cohort", "North") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # nobody imported

    assert await cli("import", str(survey), "--cohort", "North") == 0
    out = capsys.readouterr().out
    assert "4 found, 2 not found, 1 value to check" in out and "Imported: 4 new, 0 updated" in out
    not_found = (workdir / "survey-not-found.csv").read_text().splitlines()
    assert not_found[0] == "line,name,email,reason" and len(not_found) == 3
    assert "Dev Sharma,,email missing" in not_found[2]

    assert await cli("import", str(survey), "--cohort", "North", "--mapping", "saved") == 0
    assert "Imported: 0 new, 4 updated" in capsys.readouterr().out
    assert await cli("export", "--cohort", "North") == 0
    assert len(capsys.readouterr().out.splitlines()) == 5


async def test_interactive_mapping_and_clear_errors(slack_env, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    workdir, _fake = slack_env
    survey = workdir / "responses.csv"
    text = (FIXTURES / "google_forms.csv").read_text("utf-8")
    survey.write_text(text.replace("Psych,", "Xylophone,"), encoding="cp1252")
    assert await cli("cohort", "create", "South", "--workspace", TEAM, "--coordinator", "U0COORD1") == 0
    assert await cli("import", str(survey), "--cohort", "South", "--mapping", "saved") == 2
    assert "no saved mapping that fits" in capsys.readouterr().err

    answers = iter(["", "99", "", "", "", "", "", "", "", "", "", "", "", ""])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert await cli("import", str(survey), "--cohort", "South", "--mapping", "interactive") == 1
    captured = capsys.readouterr()
    assert "Please give a number from the list" in captured.out
    assert (
        f"{survey}, line 2: column “What is your specialty?”: “Xylophone” isn't a specialty I know"
        in captured.err
    )
    assert "Nothing imported: 1 row has problems." in captured.out


async def test_bad_files_are_refused_with_where_and_why(slack_env, capsys) -> None:  # type: ignore[no-untyped-def]
    workdir, fake = slack_env
    assert await cli("cohort", "create", "East", "--workspace", TEAM, "--coordinator", "U0COORD1") == 0
    capsys.readouterr()
    photo = workdir / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n\x00binary")
    assert await cli("import", str(photo), "--cohort", "East") == 2
    assert "isn't a CSV or Excel (.xlsx) file" in capsys.readouterr().err
    ragged = workdir / "ragged.csv"
    header = (FIXTURES / "google_forms.csv").read_text("utf-8").splitlines()[0]
    ragged.write_text(header + "\n" + ",".join(["x"] * 30) + "\n", encoding="utf-8")
    assert await cli("import", str(ragged), "--cohort", "East", "--dry-run") == 1
    assert f"{ragged}, line 2: 30 cells but the headings have 13 columns" in capsys.readouterr().err
    assert fake.calls_to("users.lookupByEmail") == []
