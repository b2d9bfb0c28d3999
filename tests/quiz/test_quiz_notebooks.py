"""Quizzes answered in a notebook: answer(...) cells give feedback at once, and the grader reads
the notebook without running it, grading it exactly as the equivalent YAML sheet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import yaml

from grader.quiz.bank import Catalog
from grader.quiz.sheets import grade_sheet

WRONG = {"cnn-exercises/q2a": 911500, "cnn-exercises/q2b": "9 MB", "cnn-exercises/q6a": ["A"]}


def key_answers(grader, seed: str = "alice") -> dict:
    """The practice variant's key, with a few answers made wrong and one written answer."""
    result = grader("quiz", "key", "cnn-exercises", "--seed", seed)
    answers = yaml.safe_load(result.stdout)
    answers.update(WRONG)
    answers["cnn-exercises/q1"] = "Weight sharing greatly reduces the number of parameters."
    return answers


def as_yaml(answers: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(answers, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def as_notebook(answers: dict, path: Path) -> Path:
    """The same answers as a notebook sheet: a header cell, then one answer(...) cell each."""
    nb = nbformat.v4.new_notebook()
    header = {k: answers[k] for k in ("seed", "student") if k in answers}
    arguments = ", ".join(f"{k}={v!r}" for k, v in header.items())
    nb.cells.append(nbformat.v4.new_code_cell(f"from grader.quiz.notebook import answer, sheet\nsheet({arguments})"))
    nb.cells.append(nbformat.v4.new_markdown_cell("Some notes of the student's."))
    for qid, value in answers.items():
        if qid not in header:
            nb.cells.append(nbformat.v4.new_code_cell(f"answer({qid!r}, {value!r})"))
    nbformat.write(nb, str(path))
    return path


def comparable(result) -> list[tuple]:
    return [(r.id, r.status, r.points, r.feedback) for r in result.results]


def test_a_notebook_sheet_is_graded_exactly_as_the_yaml_sheet(grader, tmp_path):
    answers = key_answers(grader)
    catalog = Catalog.load(None)
    from_yaml = grade_sheet(catalog, as_yaml(answers, tmp_path / "ana.yaml"))
    from_notebook = grade_sheet(catalog, as_notebook(answers, tmp_path / "ana.ipynb"))
    assert comparable(from_notebook) == comparable(from_yaml)
    assert from_notebook.points == from_yaml.points and 0 < from_yaml.points < from_yaml.points_possible
    assert from_notebook.variant == from_yaml.variant and from_yaml.variant.name == "alice"


def test_the_notebook_is_read_never_run(grader, tmp_path):
    marker = tmp_path / "ran"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("sheet(seed='alice')"),
        nbformat.v4.new_code_cell(f"answer('cnn-exercises/q2a', __import__('os').system('touch {marker}'))"),
    ]
    path = tmp_path / "sly.ipynb"
    nbformat.write(nb, str(path))
    document = grader.json("quiz", "check", str(path))
    row = next(q for q in document["questions"] if q["id"] == "cnn-exercises/q2a")
    assert row["status"] == "invalid" and "does not run" in json.dumps(row)
    assert not marker.exists(), "the grader never executes a notebook sheet"


def test_a_quiz_batch_grades_a_notebook_sheet_as_a_sheet(grader, tmp_path):
    answers = key_answers(grader)
    submissions = tmp_path / "subs"
    submissions.mkdir()
    as_yaml(answers, submissions / "ana.yaml")
    as_notebook(answers, submissions / "bob.ipynb")
    out = tmp_path / "out"
    result = grader("batch", str(submissions), "--assignment", "quiz", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    assert rows["bob"]["status"] == rows["ana"]["status"] == "graded"
    assert rows["bob"]["points"] == rows["ana"]["points"]
    assert json.loads((out / "results" / "bob.json").read_text())["kind"] == "sheet"


def test_the_template_notebook_and_the_feedback_of_an_answer_cell(grader, tmp_path, capsys):
    path = tmp_path / "quiz.ipynb"
    result = grader("quiz", "template", "cnn-exercises", "--seed", "alice", "--format", "ipynb", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    nb = nbformat.read(str(path), 4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "sheet(seed='alice')" in code[0]
    assert any(c.startswith('answer("cnn-exercises/q2a", None)') for c in code)
    unanswered = grader.json("quiz", "check", str(path))
    assert unanswered["score"]["points"] == 0 and unanswered["variant"]["kind"] == "practice"

    from grader.quiz import notebook

    key = yaml.safe_load(grader("quiz", "key", "cnn-exercises", "--seed", "alice").stdout)
    notebook.sheet(seed="alice")
    notebook.answer("cnn-exercises/q2a", key["cnn-exercises/q2a"])
    right = capsys.readouterr().out
    notebook.answer("cnn-exercises/q2a", key["cnn-exercises/q2a"] * 3)
    wrong = capsys.readouterr().out
    assert right.startswith("cnn-exercises/q2a") and "correct" in right and "2/2" in right
    assert wrong.startswith("cnn-exercises/q2a") and "wrong" in wrong and "0/2" in wrong
