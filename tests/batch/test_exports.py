"""Exports written from what a batch stored alone: ``grader export OUT`` writes them again
identical, Gradescope gets one test per question or check, the class report names every
question, and a folder that is not a batch's output is refused with a clear message."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from grader.batch.exports import StoredBatch, gradescope_tests
from grader.batch.store import BatchRow, RowStatus
from grader.quiz.render import result_document
from grader.quiz.results import SheetResult
from grader.quiz.sheets import grade_sheet
from grader.results import ResultDocumentError, load_result, result_from_document
from grader.schemas import schema_errors
from tests.conftest import ROOT

SHEETS = ROOT / "examples" / "quiz"
EXPORTS = ("gradebook.csv", "canvas.csv", "summary.txt", "report.html", "gradescope")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """A quiz batch: two graded sheets, an unreadable one and an empty one."""
    folder = tmp_path_factory.mktemp("exports")
    subs = folder / "subs"
    subs.mkdir()
    shutil.copy(SHEETS / "ana.yaml", subs / "ana_1.yaml")
    shutil.copy(SHEETS / "ben.yaml", subs / "ben_2.yaml")
    (subs / "dana_4.yaml").write_text("cnn-exercises/q2a: [1,\n")
    (subs / "eve_5.yaml").write_text("")
    (subs / "notes.txt").write_text("not a submission")
    out = folder / "out"
    result = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", "quiz", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def snapshot(out) -> dict[str, bytes]:
    files = [out / name for name in EXPORTS if (out / name).is_file()]
    files += sorted((out / "gradescope").rglob("*.json"))
    return {str(path.relative_to(out)): path.read_bytes() for path in files}


def test_export_writes_the_deleted_exports_again_identical(out, grader):
    before = snapshot(out)
    assert {"gradebook.csv", "canvas.csv", "summary.txt", "report.html"} <= set(before)
    assert len([k for k in before if k.startswith("gradescope")]) == 4
    for name in EXPORTS:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    result = grader("export", out)
    assert result.exit_code == 0, result.stderr
    assert f"gradebook: {out / 'gradebook.csv'}" in result.stdout and "report.html" in result.stdout
    assert "gradescope: 4 files under" in result.stdout
    assert snapshot(out) == before
    summary = (out / "summary.txt").read_text()
    assert "notes.txt" in summary and "limits per submission" in summary, "the batch's context, from batch.json"


def test_gradescope_has_one_test_per_question_with_the_result_documents_scores(out):
    for student in ("ana", "ben"):
        document = json.loads((out / "feedback" / student / "result.json").read_text())
        results = json.loads((out / "gradescope" / student / "results.json").read_text())
        assert [t["name"] for t in results["tests"]] == [q["id"] for q in document["questions"]]
        for test, question in zip(results["tests"], document["questions"]):
            if question["status"] == "needs_review":  # no score yet (tests/batch/test_pending.py)
                assert "score" not in test and test["output"].startswith("Pending review")
                continue
            assert (test["score"], test["max_score"]) == (question["points"], question["points_possible"])
            assert test["output"].startswith(question["status"].replace("_", " "))
        assert results["score"] == document["score"]["points"] > 0
        assert sum(t.get("score", 0) for t in results["tests"]) == pytest.approx(results["score"])


def test_a_submission_without_a_document_keeps_one_test_saying_why(out):
    results = json.loads((out / "gradescope" / "dana" / "results.json").read_text())
    assert len(results["tests"]) == 1
    test = results["tests"][0]
    assert test["name"] == "quiz" and test["status"] == "failed" and "not valid YAML" in test["output"]


def test_the_class_report_holds_every_question_of_the_class(out):
    page = (out / "report.html").read_text()
    ids = {
        q["id"]
        for s in ("ana", "ben")
        for q in json.loads((out / "feedback" / s / "result.json").read_text())["questions"]
        if q["status"] != "graded_elsewhere"
    }
    assert ids and all(f"<td>{qid}</td>" in page for qid in ids)


def test_stored_rows_and_the_batch_record_are_what_the_store_reads(out):
    for path in (out / "results").glob("*.json"):
        row = json.loads(path.read_text())
        assert schema_errors(row, "batch-row") == [], path
        assert BatchRow.from_json(row).to_json() == row
    batch = StoredBatch.load(out)
    assert [r.student for r in batch.rows] == ["ana", "ben", "dana", "eve"]
    assert batch.info.assignment == "quiz" and any("notes.txt" in s for s in batch.info.skipped)
    assert set(batch.results) == {"ana", "ben"}, "no result for the sheets that could not be graded"


def test_a_stale_document_of_an_earlier_grading_is_not_used(tmp_path, catalog):
    feedback = tmp_path / "feedback" / "ana"
    feedback.mkdir(parents=True)
    shutil.copy(SHEETS / "ana.yaml", tmp_path / "ana.yaml")
    earlier = result_document(grade_sheet(catalog, tmp_path / "ana.yaml"))
    (feedback / "result.json").write_text(json.dumps(earlier))
    row = BatchRow("ana", RowStatus.FAILED, 0, 0, "the grading process failed", str(tmp_path / "ana.yaml"))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "ana.json").write_text(json.dumps(row.to_json()))
    assert StoredBatch.load(tmp_path).results == {}


def test_a_stored_document_reads_back_as_the_result_it_was_written_from(out):
    """What every reader of a batch sees (load_result): the numbers the document stores."""
    for student in ("ana", "ben"):
        path = out / "feedback" / student / "result.json"
        document, result = json.loads(path.read_text()), load_result(path)
        assert isinstance(result, SheetResult)
        assert (result.points, result.points_possible, result.pending_review) == (
            document["score"]["points"],
            document["score"]["possible"],
            document["score"]["pending_review"],
        )
        assert [(q.id, q.status, q.points, list(q.feedback)) for q in result.results] == [
            (q["id"], q["status"], q["points"], q["feedback"]) for q in document["questions"]
        ]
        assert (result.variant.kind, result.variant.name) == (document["variant"]["kind"], document["variant"]["name"])
    with pytest.raises(ResultDocumentError, match="not a result document"):
        result_from_document({"kind": "similarity"})


def notebook_document() -> dict:
    checks = [
        ("accuracy", 3, 1.0, "Measured 98.1% on held-out digits."),
        ("architecture", 2, 0.5, "One convolution block; two were asked for."),
        ("augmentation", 1, 0.0, "No augmentation found."),
    ]
    return {
        "kind": "notebook-result",
        "notebook": "nora.ipynb",
        "assignment": "mnist-cnn",
        "status": "graded",
        "points": 4,
        "points_possible": 6,
        "fraction": 0.6667,
        "messages": [],
        "data": "MNIST",
        "quick": False,
        "measured_accuracy": 0.981,
        "claimed_accuracy": 0.99,
        "flags": [],
        "checks": [
            {"check": c, "points": p * f, "points_possible": p, "fraction": f, "message": m} for c, p, f, m in checks
        ],
    }


def test_a_notebook_gets_one_gradescope_test_per_check():
    document = notebook_document()
    assert schema_errors(document, "notebook-result") == []
    row = BatchRow("nora", RowStatus.GRADED, 4, 6, "", "nora.ipynb")
    tests = gradescope_tests(row, result_from_document(document), "mnist-cnn")
    assert [(t["name"], t["score"], t["max_score"], t["output"]) for t in tests] == [
        (c["check"], c["points"], c["points_possible"], c["message"]) for c in document["checks"]
    ]
    assert [t["status"] for t in tests] == ["passed", "failed", "failed"]


def test_an_instructors_points_read_back_as_given_not_from_the_rounded_fraction():
    """A reviewed check of 1 point out of 3 stores the fraction 0.3333, which gives 0.9999 back;
    the result read from it has the 1 point given, so its total still matches the row's."""
    document = notebook_document()
    document["checks"][0].update(points=1, fraction=0.3333)
    document.update(points=2, fraction=0.3333)
    result = result_from_document(document)
    assert [c.points for c in result.checks] == [1, 1, 0] and result.points == 2
    assert result_from_document(notebook_document()).checks[1].fraction == 0.5, "a fraction that agrees is kept"


def test_export_of_a_folder_that_is_no_batch_output_fails_clearly(tmp_path, grader):
    result = grader("export", tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path}: no results/ folder in it; is it the --out folder of a `grader batch` run?" in result.stderr
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "ana.json").write_text(
        json.dumps({"student": "ana", "status": "great", "points": 1, "points_possible": 2})
    )
    result = grader("export", tmp_path)
    assert result.exit_code == 1 and "ana.json: unknown status 'great'" in result.stderr
    (tmp_path / "results" / "ana.json").write_text(
        json.dumps({"student": "ana", "status": "graded", "points": 1, "points_possible": 2, "kind": "zip"})
    )
    result = grader("export", tmp_path)
    assert result.exit_code == 1 and "ana.json: unknown kind 'zip' (one of sheet, notebook)" in result.stderr
    result = grader("export", tmp_path / "missing")
    assert result.exit_code == 1 and "no such folder" in result.stderr


def test_a_review_decision_rewrites_the_report_and_the_notebook_page(tmp_path, catalog):
    pytest.importorskip("matplotlib")
    from grader.review.regenerate import regenerate
    from tests.review.test_review_fixtures import NOTEBOOK_STUDENT, make_out

    out = make_out(tmp_path)  # a batch from before batch.json: every stored row, no context
    grades = out / "review" / "grades" / f"{NOTEBOOK_STUDENT}.yaml"
    grades.parent.mkdir(parents=True)
    grades.write_text("images_per_class: {points: 1.5, comment: counted by hand}\n")
    regenerate(out, catalog=catalog)
    page = (out / "report.html").read_text()  # the sheets' documents are not in the fixture: the notebook's is
    assert "6 students" in page and "Measured accuracy" in page
    tests = json.loads((out / "gradescope" / NOTEBOOK_STUDENT / "results.json").read_text())["tests"]
    assert [(t["name"], t["score"]) for t in tests] == [
        ("accuracy", 2.5),
        ("images_per_class", 1.5),
        ("frozen_then_unfrozen", 1),
    ]
    assert (
        "Instructor: 1.5/1.5 (counted by hand)" in (out / "feedback" / NOTEBOOK_STUDENT / "feedback.html").read_text()
    )
    assert "isolation: not recorded" in (out / "summary.txt").read_text()


def test_a_notebook_row_says_why_points_were_lost():
    from grader.batch.child import row_message

    checks = [
        {"check": "accuracy", "fraction": 1.0, "message": "Measured 99%."},
        {"check": "frozen_then_unfrozen", "fraction": 0.5, "message": "Never unfrozen."},
        {"check": "images_per_class", "fraction": 0.0, "message": "Too few images (class 3: 40)."},
        {"check": "disjoint_splits", "fraction": 0.0, "message": "The sets overlap."},
    ]
    assert row_message({"messages": [], "checks": checks}) == (
        "frozen_then_unfrozen: Never unfrozen; images_per_class: Too few images (class 3: 40)"
    )
    assert row_message({"messages": ["Cell 3 raised ValueError"], "checks": checks}) == "Cell 3 raised ValueError"
    assert row_message({"messages": [], "checks": checks[:1]}) == ""
