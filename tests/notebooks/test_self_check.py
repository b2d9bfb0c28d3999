"""The self-check in the student's own notebook: it predicts the grade on public data, says so,
and under the grader its two lines change nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.notebooks.checks import CheckResult
from grader.notebooks.kernel_trace import SELF_CHECK_SKIPPED
from grader.notebooks.self_check import SelfCheck
from tests.conftest import ROOT
from tests.notebooks.test_notebook_grading import FAST

SMALL_CNN = ROOT / "tests" / "data" / "notebooks" / "small_cnn.ipynb"


def with_self_check(notebook: Path, assignment: Path, out: Path) -> Path:
    """The notebook with the README's two lines: start() first, check() last."""
    nb = nbformat.read(notebook, 4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import grader.student as gs\ngs.start({str(assignment)!r})"))
    nb.cells.append(nbformat.v4.new_code_cell("result = gs.check()"))
    path = out / f"{notebook.stem}_checked.ipynb"
    nbformat.write(nb, path)
    return path


def run_as_a_student(notebook: Path, served: Path, folder: Path, monkeypatch) -> nbformat.NotebookNode:
    """Run a notebook in a plain kernel, as in the student's Jupyter; its load_data() reads
    ``served`` (as a student's Keras reads its downloaded MNIST; nothing is downloaded here)."""
    from nbclient import NotebookClient

    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-mnist.py").write_text(
        f"import keras.src.datasets.mnist as _mnist\n_mnist.get_file = lambda *a, **k: {str(served)!r}\n"
    )
    monkeypatch.setenv("IPYTHONDIR", str(folder / "ipython"))
    nb = nbformat.read(notebook, 4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.mark.notebooks
def test_the_check_predicts_the_grade_and_grading_ignores_its_lines(grader_env, tmp_path, monkeypatch):
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.data_cache import prepare_data

    checked = with_self_check(SMALL_CNN, FAST, tmp_path)
    nb = run_as_a_student(checked, prepare_data(load_assignment(str(FAST))).served, tmp_path, monkeypatch)
    report = printed(nb.cells[-1])
    assert "self-check on public data" in report and "not your grade" in report, report
    assert "passed" not in report.lower(), "never 'all tests passed'"
    predicted = float(re.search(r"predicted ([\d.]+) of 10 points", report).group(1))

    def grade(path: Path) -> dict:
        out = tmp_path / path.stem
        return json.loads(grader_env("grade", path, "--assignment", FAST, "--out", out, "--json").stdout)

    plain, with_lines = grade(SMALL_CNN), grade(checked)
    assert with_lines["status"] == plain["status"] == "graded", with_lines["messages"]
    for key in ("points", "checks", "flags", "messages", "measured_accuracy"):
        assert with_lines[key] == plain[key], key
    executed = nbformat.read(with_lines["executed_notebook"], 4)
    assert printed(executed.cells[0]).strip() == printed(executed.cells[-1]).strip() == SELF_CHECK_SKIPPED
    assert abs(predicted - plain["points"]) <= 1, (predicted, plain["points"])


def test_the_report_says_what_to_change_and_never_that_all_passed():
    result = SelfCheck(
        "mnist-cnn",
        6.0,
        10.0,
        (CheckResult("accuracy", 10.0, 0.6, "Measured accuracy 97.00%. Full marks need 99.0%."),),
        0.97,
        ("Model checked: the model the notebook trained last.",),
    )
    text = result.report()
    assert text.startswith("Self-check for 'mnist-cnn': predicted 6 of 10 points.")
    assert "[todo] accuracy: 6 of 10" in text and "Full marks need 99.0%" in text
    assert "public data" in text and "passed" not in text.lower()


def test_check_before_start_says_what_to_do():
    done = subprocess.run(
        [sys.executable, "-c", "import grader.student as gs; print(gs.check())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "call gs.start('ASSIGNMENT') in the notebook's first cell" in done.stdout
    assert done.stdout.strip().endswith("None")


def test_under_the_grader_the_stand_in_prints_one_line_even_without_the_package(tmp_path):
    # The sandboxed kernel may not see the grader's package at all: the stand-in is enough.
    code = (
        "import sys\n"
        "sys.meta_path = [f for f in sys.meta_path if 'editable' not in type(f).__name__.lower()]\n"
        "sys.path = [p for p in sys.path if p and 'site-packages' not in p or 'grader' in p]\n"
        f"exec(open({str(ROOT / 'grader' / 'notebooks' / 'kernel_trace.py')!r}).read())\n"
        "_stand_in_for_self_check()\n"
        "import grader.student as gs\n"
        "gs.start('mnist-cnn')\n"
        "print(gs.check())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.splitlines() == [SELF_CHECK_SKIPPED, SELF_CHECK_SKIPPED, "None"]
