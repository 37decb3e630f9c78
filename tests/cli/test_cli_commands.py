"""The buddybot command line, run in-process on a SQLite file in a temporary directory."""

from __future__ import annotations

import pytest

from bot.cli import main
from storage.migrate import head

HEADER = (
    "Slack member ID,Full name,I am a,Profession,Grade,Speciality,Trust,Type of organisation,Region,Consent"
)
ROW = "U1,Asha Patel,Clinician,Doctor,CT2,Psychiatry,Northshire,Mental health trust,North West,Yes"
BAD = "U2,Ben,Clinician,Doctor,,Psychiatry,Northshire,Mental health trust,Mars,Yes"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'buddy.db'}")
    monkeypatch.delenv("BUDDY_ADMINS", raising=False)
    return tmp_path


def test_demo_runs_twice_on_a_fresh_file_and_shows_the_whole_round(workdir, capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert first == second  # a fresh file each time, same seed: the same story
    for expected in ("Imported: 30 new, 0 updated.", "Match preview: Yorkshire & Humber 2026", "Meet your buddy",
                     "Why we matched you", "Task 1: Problem page", "Too long: [form errors] answer: Your reply is 130 words",
                     "Nudged 2 quiet groups", "has been quiet for 10 days", "Re-matched:", "Final status",
                     "Yorkshire & Humber 2026: groups", "[Message group] [Re-match] [End group]",
                     "Yorkshire & Humber 2026: quiet groups"):  # fmt: skip
        assert expected in first, expected
    assert (workdir / "buddy-demo.db").exists()
    for expected in ("Did you meet", "I haven't been able to meet", "introduced you already", "you rated Problem page 5",
                     "Closed 12 groups", "A reminder: the survey", "Certificate of participation: 1 task",
                     "Usefulness: Problem page", "Created Yorkshire 2027"):  # fmt: skip
        assert expected in first, expected
    from pypdf import PdfReader

    [certificate] = workdir.glob("buddy-certificate-*.pdf")
    text = PdfReader(certificate).pages[0].extract_text()
    assert (
        "Certificate of participation" in text
        and "Problem page" in text
        and "MLCF: Working with others" in text
    )


def test_db_upgrade_reports_the_revision(workdir, capsys):
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database at revision {head()}\n"


def test_import_reports_bad_rows_with_file_and_line_and_imports_nothing(workdir, capsys):
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "U9"]) == 0
    csv = workdir / "survey.csv"
    csv.write_text("\n".join([HEADER, ROW, BAD]) + "\n")
    assert main(["import", str(csv), "--cohort", "North"]) == 1
    out = capsys.readouterr()
    assert f"{csv}, line 3: column “Grade”: Please give your grade" in out.err
    assert "“Mars” isn't a region I know" in out.err
    assert "Nothing imported" in out.out
    assert main(["import", str(csv), "--cohort", "North", "--skip-invalid"]) == 0
    assert "Imported: 1 new, 0 updated, skipped 1 invalid rows." in capsys.readouterr().out
    assert main(["import", str(csv), "--cohort", "North", "--skip-invalid"]) == 0
    assert "Imported: 0 new, 1 updated" in capsys.readouterr().out
    assert main(["export", "--cohort", "North"]) == 0
    exported = capsys.readouterr().out.splitlines()
    assert (
        exported[0].startswith("name,user_id,email,role")
        and len(exported) == 2
        and "Asha Patel,U1" in exported[1]
    )


def test_export_as_a_spreadsheet(workdir, capsys):
    from openpyxl import load_workbook

    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "c1"]) == 0
    (workdir / "survey.csv").write_text(HEADER + "\n" + ROW + "\n")
    assert main(["import", "survey.csv", "--cohort", "North"]) == 0
    capsys.readouterr()
    assert main(["export", "--cohort", "North", "--format", "xlsx"]) == 2
    assert "needs a file: add --out FILE.xlsx" in capsys.readouterr().err
    assert main(["export", "--cohort", "North", "--format", "xlsx", "--out", "north.xlsx"]) == 0
    assert "wrote the spreadsheet of North to north.xlsx" in capsys.readouterr().out
    book = load_workbook(workdir / "north.xlsx")
    assert book.sheetnames == ["Participants", "Groups", "Progress per task", "Answers"]
    people = list(book["Participants"].values)
    assert people[0][:2] == ("name", "user_id") and people[1][:2] == ("Asha Patel", "U1") and len(people) == 2
    assert main(["export", "--cohort", "Nowhere", "--format", "xlsx", "--out", "x.xlsx"]) == 2
    assert "no cohort called “Nowhere”" in capsys.readouterr().err
    assert main(["audit", "--cohort", "North"]) == 0
    assert "export xlsx in North by an operator" in capsys.readouterr().out


def test_import_of_a_missing_file_or_cohort_is_a_clear_error(workdir, capsys):
    assert main(["import", "nope.csv", "--cohort", "North"]) == 2
    assert "cannot read nope.csv" in capsys.readouterr().err
    (workdir / "s.csv").write_text(HEADER + "\n" + ROW + "\n")
    assert main(["import", "s.csv", "--cohort", "Nowhere"]) == 2
    assert "no cohort called “Nowhere”" in capsys.readouterr().err


def test_loading_a_malformed_task_file_leaves_the_bank_as_it_was(workdir, capsys):
    (workdir / "bad.yaml").write_text("tasks:\n  - key: x\n    title: X\n")
    assert main(["tasks", "load", "bad.yaml"]) == 2
    assert "bad.yaml, line 2: task needs a non-empty text 'summary'" in capsys.readouterr().err
    assert main(["tasks", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("\n") == 4 and "problem_page" in listed
    (workdir / "good.yaml").write_text(
        "tasks:\n  - key: pitch\n    title: Pitch\n    summary: s\n    instructions: i\n    minutes: 10\n"
        "    due_days: 7\n    phases: [{key: p}]\n    competencies: [{framework: LQF, domain: Personal qualities}]\n"
    )
    assert main(["tasks", "load", "good.yaml"]) == 0
    assert main(["tasks", "list"]) == 0
    assert capsys.readouterr().out.count("\n") == 6  # "loaded ..." + five tasks


def test_bad_settings_name_the_setting(workdir, monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    assert main(["serve"]) == 2
    assert "PORT must be a port number" in capsys.readouterr().err


def test_a_command_checks_only_the_settings_it_uses(workdir, monkeypatch, capsys):
    monkeypatch.setenv("PORT", "0")  # a web-server setting: db upgrade and tasks do not use it
    assert main(["db", "upgrade"]) == 0
    assert "database at revision" in capsys.readouterr().out
    assert main(["tasks", "list"]) == 0


def test_operators_list_and_settle_held_posts(workdir, capsys):
    from bot.bootstrap import bootstrap
    from conversations.core.refs import UserRef
    from conversations.core.views import Message
    from conversations.delivery.outbox import queue, to_user

    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "U9"]) == 0
    csv = workdir / "survey.csv"
    csv.write_text("\n".join([HEADER, ROW]) + "\n")
    assert main(["import", str(csv), "--cohort", "North"]) == 0
    buddy = bootstrap(f"sqlite:///{workdir / 'buddy.db'}", {})

    def hold(ctx):
        queue(ctx.uow, "task:1:U1", to_user(UserRef("slack", "T1", "U1")), Message.simple("Task 1"), ctx.now)
        for item in ctx.uow.outbox.by_status("pending"):
            item.status, item.error = "held", "outcome unknown: no history api"

    buddy.engine.run(hold)
    capsys.readouterr()
    assert main(["outbox", "held"]) == 0
    listed = capsys.readouterr().out
    assert "task:1:U1  to Asha Patel  (outcome unknown: no history api)" in listed and "1 held" in listed
    item_id = listed.split()[0]
    assert main(["outbox", "settle", item_id]) == 2
    assert "needs an ID and --arrived or --resend" in capsys.readouterr().err
    assert main(["outbox", "settle", item_id, "--resend"]) == 0
    assert "send that message to Asha Patel again" in capsys.readouterr().out
    assert main(["outbox", "settle", item_id, "--arrived"]) == 0
    assert "already settled: it is waiting to be sent again" in capsys.readouterr().out
    assert main(["outbox", "held"]) == 0
    assert capsys.readouterr().out == "0 held\n"
    assert main(["outbox", "settle", "4242", "--arrived"]) == 2
    assert "no longer in my outbox" in capsys.readouterr().err


def test_an_operator_forgets_a_person_after_a_dry_run(workdir, capsys):
    from adapters.teams.references import ReferenceStore, TeamsUser
    from bot.bootstrap import bootstrap

    assert (
        main(
            [
                "cohort",
                "create",
                "North",
                "--platform",
                "teams",
                "--workspace",
                "tenant-1",
                "--coordinator",
                "c1",
            ]
        )
        == 0
    )
    csv = workdir / "survey.csv"
    csv.write_text("\n".join([HEADER, ROW.replace("U1,", "aad-1,")]) + "\n")
    assert main(["import", str(csv), "--cohort", "North"]) == 0
    buddy = bootstrap(f"sqlite:///{workdir / 'buddy.db'}", {})
    references = ReferenceStore(buddy.db)
    references.save_user(TeamsUser("tenant-1", "aad-1", "29:aad-1", "Asha Patel", "asha@nhs.net"))
    capsys.readouterr()

    assert main(["forget", "aad-1", "--platform", "teams", "--workspace", "tenant-1"]) == 0
    out = capsys.readouterr().out
    assert "would forget Asha Patel" in out and "Nothing changed" in out
    assert references.user("tenant-1", "aad-1") is not None

    assert main(["forget", "aad-1", "--platform", "teams", "--workspace", "tenant-1", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Forgot aad-1 (teams) in 1 cohorts (North): profile cleared, 0 answers removed" in out
    assert references.user("tenant-1", "aad-1") is None
    assert main(["export", "--cohort", "North"]) == 0
    exported = capsys.readouterr().out
    assert "Asha" not in exported and "asha@" not in exported and "Former participant" in exported
    assert main(["forget", "aad-1", "--platform", "teams", "--workspace", "tenant-1", "--yes"]) == 2
    assert "Nobody with the teams id aad-1" in capsys.readouterr().err


def test_an_operator_answers_a_subject_access_request_and_reads_the_audit(workdir, capsys):
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "c1"]) == 0
    csv = workdir / "survey.csv"
    csv.write_text("\n".join([HEADER, ROW]) + "\n")
    assert main(["import", str(csv), "--cohort", "North"]) == 0
    capsys.readouterr()
    assert main(["mydata", "U1", "--workspace", "T1", "-o", str(workdir / "sar")]) == 0
    assert "records. Send both to the person securely." in capsys.readouterr().out
    readable = (workdir / "sar" / "buddy-mydata-slack-U1.md").read_text()
    machine = (workdir / "sar" / "buddy-mydata-slack-U1.json").read_text()
    assert "# What Buddy holds about you" in readable and "Asha Patel" in readable
    assert '"employer": "Northshire"' in machine
    assert main(["mydata", "U404", "--workspace", "T1"]) == 2
    assert "Nobody with the slack id U404" in capsys.readouterr().err

    assert main(["audit", "--cohort", "North"]) == 0
    out = capsys.readouterr().out
    assert (
        "import in North by an operator (created 1, updated 0, skipped 0)" in out
        and "entries for North" in out
    )
    assert main(["audit"]) == 0
    assert "mydata by an operator" in capsys.readouterr().out


def test_retention_dry_run_lists_what_would_go_and_changes_nothing(workdir, capsys, monkeypatch):
    monkeypatch.setenv("BUDDY_RETENTION_AUDIT_DAYS", "1")
    assert main(["cohort", "create", "North", "--workspace", "T1", "--coordinator", "c1"]) == 0
    capsys.readouterr()
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "keep audit log: 1 days" in out and "would remove audit: 0" in out and "Nothing changed" in out
    monkeypatch.setenv("BUDDY_RETENTION_AUDIT_DAYS", "never")
    assert main(["retention", "--dry-run"]) == 2
    assert "BUDDY_RETENTION_AUDIT_DAYS must be a whole number of days" in capsys.readouterr().err
