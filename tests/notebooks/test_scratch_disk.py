"""A notebook that fills its disk is told so (issue 18): ``disk_full``, never ``no_model``.

A kernel that filled its scratch disk used to get ``no_model`` ("Build and train a Keras
model"): the grader's hidden cell could not save the model, and nothing said why. What a
notebook writes to its folder is now measured and held to the assignment's ``disk_mb``
(the kernel stopped past it), no single file may be larger (RLIMIT_FSIZE), its private /tmp
in the sandbox is a tmpfs of that size, and running out of space, wherever, is its own
status with a message saying where and what to change. The notebooks here are plain Python
(no TensorFlow); nothing is timed: a notebook past the limit is caught by the watch or, at
the latest, when its last cell ends.
"""

from __future__ import annotations

import errno
import functools
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.isolation import sandbox
from grader.notebooks import execute as ex
from grader.notebooks.assignment import load_assignment
from grader.notebooks.grading import grade_notebook
from grader.notebooks.report import document
from grader.scratch import DEFAULT_DISK_MB, DiskUse, disk_usage, limit_file_size
from tests.conftest import ROOT

LIMITED = ROOT / "tests" / "data" / "notebooks" / "disk-limit.yaml"  # disk_mb: 8
MB = 2**20


def notebook(folder: Path, *cells: str) -> Path:
    """A notebook of code cells alone in its own folder (the grader copies the folder)."""
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{folder.name}.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def graded(tmp_path, monkeypatch):
    """grade(path) -> the result document of grading it with the 8 MB assignment."""
    assignment = load_assignment(str(LIMITED))

    def grade(path: Path) -> dict:
        return document(grade_notebook(path, assignment, tmp_path / "out"))

    return grade


@pytest.mark.notebooks
def test_a_notebook_writing_past_its_limit_is_disk_full_not_no_model(graded, tmp_path):
    path = notebook(
        tmp_path / "writes_too_much",
        "print('start')",
        "for i in range(24):  # 24 MB in files of 1 MB, past the 8 MB limit\n"
        "    with open(f'checkpoint-{i}.bin', 'wb') as f:\n"
        "        f.write(bytes(2**20))",
    )
    doc = graded(path)
    assert doc["status"] == "disk_full", doc["messages"]
    message = doc["messages"][0]
    assert "the notebook wrote" in message and "to its folder" in message and "the limit is 8 MB" in message
    assert "save fewer or smaller files" in message and doc["problem"]["cell"] == 2
    assert not any("Build and train" in m or "No model" in m for m in doc["messages"])
    assert all(c["points"] == 0 for c in doc["checks"])


@pytest.mark.notebooks
def test_a_notebook_writing_a_little_is_not_stopped(graded, tmp_path):
    path = notebook(
        tmp_path / "writes_a_little",
        "for i in range(2):\n    with open(f'small-{i}.bin', 'wb') as f:\n        f.write(bytes(2**20))\nprint('done')",
    )
    doc = graded(path)
    assert doc["status"] == "no_model", doc["messages"]  # no model here: what a full disk must not be taken for
    assert not any("disk" in m for m in doc["messages"])


@pytest.mark.notebooks
def test_a_full_private_tmp_is_disk_full_and_says_tmp(graded, tmp_path):
    bwrap = sandbox.find_bwrap()
    if not bwrap or not sandbox.sizes_tmpfs(bwrap):
        pytest.skip("no sandbox whose /tmp can be given a size here")
    path = notebook(
        tmp_path / "fills_tmp",
        "for i in range(12):  # 12 files of 1 MB in /tmp, which holds 8 MB\n"
        "    with open(f'/tmp/part-{i}.bin', 'wb') as f:\n"
        "        f.write(bytes(2**20))",
    )
    doc = graded(path)
    assert doc["status"] == "disk_full", doc["messages"]
    assert "/tmp was full (it holds at most 8 MB" in doc["messages"][0] and "Errno 28" in doc["messages"][0]
    assert doc["problem"]["line"] == "f.write(bytes(2**20))"


def test_the_assignments_disk_limit_reaches_the_run(tmp_path, monkeypatch):
    seen = []

    def run(nb, workdir, setup, finish, limits, *rest):
        seen.append(limits)
        return ex.Execution(status=ex.OK, notebook=nb)

    monkeypatch.setattr(ex, "execute", run)
    grade_notebook(notebook(tmp_path / "any", "x = 1"), load_assignment(str(LIMITED)), tmp_path / "out")
    assert seen[0].disk_mb == 8


def test_the_disk_limit_is_an_assignment_setting(tmp_path):
    assert load_assignment(str(LIMITED)).disk_mb == 8
    assert load_assignment("mnist-cnn").disk_mb == DEFAULT_DISK_MB == 4096
    bad = tmp_path / "bad.yaml"
    bad.write_text(LIMITED.read_text().replace("disk_mb: 8", "disk_mb: 0"))
    from grader.errors import AssignmentError

    with pytest.raises(AssignmentError, match="disk_mb"):
        load_assignment(str(bad))


def test_no_file_grows_past_the_limit(tmp_path):
    """RLIMIT_FSIZE: Python's write fails with EFBIG at the limit (it ignores SIGXFSZ)."""
    target = tmp_path / "big.bin"
    code = f"open({str(target)!r}, 'wb').write(bytes(3 * 2**20))"
    done = subprocess.run(
        [sys.executable, "-c", code], preexec_fn=lambda: limit_file_size(MB), capture_output=True, text=True
    )
    assert done.returncode == 1 and "[Errno 27] File too large" in done.stderr
    assert target.stat().st_size == MB


def test_the_private_tmp_gets_its_size_before_it_is_made(monkeypatch):
    prefix = sandbox.sandbox_prefix("bwrap", private_tmp=True, tmp_size=5 * MB)
    at = prefix.index("--tmpfs")
    assert prefix[at - 2 : at + 2] == ["--size", str(5 * MB), "--tmpfs", "/tmp"]
    plain = sandbox.sandbox_prefix("bwrap", private_tmp=True)
    assert "--size" not in plain
    monkeypatch.setattr(sandbox, "sizes_tmpfs", lambda bwrap: True)  # the probe needs a real bwrap
    sized = sandbox.with_tmp_size(sandbox.with_tmp_size(plain, 5 * MB), 7 * MB)
    at = sized.index("--tmpfs")
    assert sized[at - 2 : at + 2] == ["--size", str(7 * MB), "--tmpfs", "/tmp"] and sized.count("--size") == 1
    monkeypatch.setattr(sandbox, "sizes_tmpfs", lambda bwrap: False)
    assert sandbox.with_tmp_size(plain, 7 * MB) == plain, (
        "a bwrap without --size keeps an unbounded /tmp, not a failure"
    )


def test_disk_usage_counts_blocks_once_and_follows_no_link(tmp_path):
    (tmp_path / "a.bin").write_bytes(os.urandom(MB))
    os.link(tmp_path / "a.bin", tmp_path / "same.bin")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(os.urandom(MB))
    (tmp_path / "elsewhere").symlink_to("/usr")
    with open(tmp_path / "sparse.bin", "wb") as f:
        f.truncate(100 * MB)  # holds nothing
    used = disk_usage(tmp_path)
    assert 2 * MB <= used < 3 * MB


@pytest.mark.parametrize(
    ("ename", "evalue", "use", "expected"),
    [
        ("OSError", "[Errno 28] No space left on device: 'x.npy'", DiskUse(0, 8 * MB, 10**12), True),
        ("OSError", "[Errno 27] File too large", DiskUse(0, 8 * MB, 10**12), True),
        ("ValueError", "shapes do not match", DiskUse(MB, 8 * MB, 10**12), False),
        ("UnknownError", "write failed", DiskUse(9 * MB, 8 * MB, 10**12), True),  # past the limit
        ("UnknownError", "write failed", DiskUse(MB, 8 * MB, 10**5), True),  # the volume full
        ("UnknownError", "write failed", DiskUse(MB, 8 * MB, 10**12, 8 * MB, 8 * MB), True),  # /tmp full
        ("OSError", "[Errno 2] No such file or directory: 'data.csv'", DiskUse(MB, 8 * MB, 10**12), False),
    ],
)
def test_out_of_space_is_decided_from_the_errno_and_the_measurement(ename, evalue, use, expected):
    assert ex._out_of_space(ename, evalue, use) is expected


def test_a_full_machine_disk_is_not_blamed_on_the_notebook():
    limits = ex.RunLimits(cell_timeout=10, notebook_timeout=10, memory_mb=1000, disk_mb=4096)
    run = ex.Execution(status=ex.ERROR, problem=ex.CellProblem(3, "OSError", "[Errno 28] ...", "np.save(x)", 2))
    ex._disk_full(run, 3, DiskUse(200 * MB, limits.disk_bytes, 5 * MB), limits, "cell", "OSError", "[Errno 28] x")
    assert run.status == ex.DISK_FULL and run.problem.line == "np.save(x)" and run.problem.kind == "disk_full"
    assert "the grading machine's disk was full (5 MB free)" in run.problem.message
    assert (
        "200 MB of the 4 GB it may write" in run.problem.message and "no fault of the notebook" in run.problem.message
    )
    big = ex.Execution(status=ex.ERROR)
    ex._disk_full(
        big, 2, DiskUse(MB, 8 * MB, 10**12), limits, "cell", "OSError", f"[Errno {errno.EFBIG}] File too large"
    )
    assert "a single file may not be larger than the limit of 4 GB" in big.problem.message
