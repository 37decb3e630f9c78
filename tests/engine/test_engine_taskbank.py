"""The task bank: the four classic tasks, and coordinators' own files validated with line numbers."""

from __future__ import annotations

import pytest

from conversations.taskbank.loader import FRAMEWORKS, TaskBankError, load_builtin, load_file, parse

VALID = """
tasks:
  - key: elevator_pitch
    title: Elevator pitch
    summary: Pitch your service to your buddy in 50 words.
    instructions: Write it, then swap.
    minutes: 15
    due_days: 7
    phases:
      - {key: pitch, label: Pitch, mode: individual, word_limit: 50}
    competencies:
      - {framework: MLCF, domain: Setting direction}
"""


def test_the_four_classic_tasks_are_shipped_complete():
    tasks = {t.key: t for t in load_builtin()}
    assert list(tasks) == [
        "problem_page",
        "virtual_shadowing",
        "problem_based_learning",
        "consortium_top_five",
    ]
    letters = tasks["problem_page"].phases
    assert [(p.key, p.word_limit, p.mode) for p in letters] == [("letter", 100, "individual"),
                                                                        ("reply", 100, "individual")]  # fmt: skip
    assert letters[1].shows == "letter" and letters[1].after == "letter"
    assert [p.input for p in tasks["virtual_shadowing"].phases] == ["date", "text", "text"]
    pbl = tasks["problem_based_learning"].phases
    assert {o.label for o in pbl[0].options} == {"Four-hour waits in A&E", "Implementing local change",
                                                        "Hospital at Night"}  # fmt: skip
    assert all(p.mode == "joint" for p in pbl)
    assert [p.mode for p in tasks["consortium_top_five"].phases] == ["individual", "joint"]
    for task in tasks.values():
        assert 5 <= task.minutes <= 60 and task.due_days >= 7 and "Learning outcomes" in task.instructions
        frameworks = {c["framework"] for c in task.competencies}
        assert frameworks == {"MLCF", "LQF"}
        assert all(c["domain"] in FRAMEWORKS[c["framework"]] for c in task.competencies)


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("minutes: 15", "minutes: 500"), 7, "'minutes' must be a whole number from 5 to 240"),
        (("mode: individual", "mode: solo"), 10, "mode must be individual or joint"),
        (("domain: Setting direction", "domain: Juggling"), 12, "unknown framework/domain"),
        (("title: Elevator pitch", "title: ''"), 4, "non-empty text 'title'"),
        (("word_limit: 50", "word_limit: lots"), 10, "word_limit must be a whole number"),
        (
            ("    phases:\n      - {key: pitch, label: Pitch, mode: individual, word_limit: 50}\n", ""),
            3,
            "non-empty 'phases' list",
        ),  # fmt: skip
        (("summary: Pitch", "summary: [unclosed"), 6, "not valid YAML"),
    ],
)
def test_a_malformed_task_file_names_file_line_and_reason(change, line, reason):
    text = VALID.replace(*change)
    with pytest.raises(TaskBankError) as caught:
        parse(text, "mine.yaml", "mine")
    assert any(p.startswith(f"mine.yaml, line {line}:") and reason in p for p in caught.value.problems), (
        caught.value
    )


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(VALID)
    [task] = load_file(path)
    assert task.key == "elevator_pitch" and task.source == str(path)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(TaskBankError, match="cannot read the file"):
        load_file(tmp_path / "nope.yaml")
