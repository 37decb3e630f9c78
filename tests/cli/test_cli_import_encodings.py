"""``buddybot import`` reads files as the chat form does: the same encodings, the same refusals."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.cli.test_cli_commands import HEADER, ROW


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'buddy.db'}")
    monkeypatch.delenv("BUDDY_ADMINS", raising=False)
    return tmp_path


ROW_CAFE = ROW.replace("Asha Patel", "Zoë Café")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_every_encoding_the_chat_form_takes_is_imported(workdir, capsys, encoding):
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "U9"]) == 0
    path = workdir / f"survey-{encoding}.csv"
    path.write_bytes(("\n".join([HEADER, ROW_CAFE]) + "\n").encode(encoding))
    assert main(["import", str(path), "--cohort", "North"]) == 0, capsys.readouterr().err
    assert "Imported: 1 new" in capsys.readouterr().out


def test_nul_bytes_are_refused_as_in_chat(workdir, capsys):
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "U9"]) == 0
    path = workdir / "nul.csv"
    path.write_bytes(("\n".join([HEADER, ROW]) + "\n").encode().replace(b",", b"\x00,", 1))
    assert main(["import", str(path), "--cohort", "North"]) == 2
    assert "isn't a CSV or Excel (.xlsx) file" in capsys.readouterr().err


def test_a_hidden_character_in_a_cell_is_reported_with_its_line_and_column(workdir, capsys):
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "U9"]) == 0
    path = workdir / "bidi.csv"
    cells = ROW.split(",")
    cells[1] = "\u202eevil"
    path.write_text("\n".join([HEADER, ",".join(cells)]) + "\n", encoding="utf-8")
    assert main(["import", str(path), "--cohort", "North"]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "right-to-left override (U+202E)" in err
