"""In a batch, a notebook sees its own submission only: not the class's folder, not a
classmate's notebook, whether the class handed in single files or a folder each."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.notebooks

SNOOP = """import os, glob
print("beside me:", sorted(os.listdir(".")))
for path in {targets!r}:
    try:
        print("read", path, len(open(path, "rb").read()))
    except OSError as error:
        print("could not read", path, type(error).__name__)
print("class folder:", sorted(glob.glob({pattern!r})))
"""


def notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def printed(out, student):
    (path,) = (out / "feedback" / student).glob("*.executed.ipynb")
    executed = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))


@pytest.mark.parametrize("layout", ["single files", "a folder each"])
def test_a_notebook_in_a_batch_cannot_see_its_classmates(tmp_path, layout):
    subs, out = tmp_path / "class", tmp_path / "out"
    subs.mkdir()
    place = (lambda s: subs / f"{s}.ipynb") if layout == "single files" else (lambda s: subs / s / "work.ipynb")
    targets = [str(place("ben")), str(subs / "ben_data.txt")]
    for student, source in (("ana", SNOOP.format(targets=targets, pattern=str(subs / "*"))), ("ben", "x = 1")):
        place(student).parent.mkdir(exist_ok=True)
        nbformat.write(notebook(source), str(place(student)))
    (subs / "ben_data.txt").write_text("ben's secret answers")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", str(ROOT / "tests" / "data" / "mnist-fast.yaml"),
         "--out", str(out), "--pattern", r"^(?P<student>ana|ben)(?=\.ipynb$|$)"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = printed(out, "ana")
    assert "beside me:" in seen, seen
    listing = seen.split("beside me:", 1)[1].split("\n", 1)[0]
    assert "ben" not in listing, f"a classmate's file was copied beside the notebook: {listing}"
    if shutil.which("bwrap") and json.loads((out / "feedback" / "ana" / "result.json").read_text())["isolation"] in (
        "bubblewrap+cgroup",
        "bubblewrap",
    ):
        assert all(f"could not read {target}" in seen for target in targets), seen
        assert "class folder: []" in seen, seen
