"""What a notebook writes to its process's own descriptors 1 and 2 (os.write, a child
process) never reaches the grader's output: the --json document stays the grader's alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.notebooks


def test_a_notebook_cannot_write_into_the_graders_output(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(ROOT / "tests" / "data" / "notebooks" / "writes_to_grader_streams.ipynb"),
         "--assignment", str(ROOT / "tests" / "data" / "mnist-fast.yaml"), "--out", str(tmp_path), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)  # the grader's document, nothing before or after it
    assert document["kind"] == "notebook-result" and document["status"] == "no_model"
    for text in (done.stdout, done.stderr):
        assert '"points": 10.0, "kind"' not in text and "conceal" not in text and "FORGED-BY-A-CHILD" not in text
