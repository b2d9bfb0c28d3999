"""``grader batch``: every student gets a row with the right status, and a killed batch
resumes without losing or regrading anything."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

SHEETS = ROOT / "examples" / "quiz"
BOMB_MARKER = "grader-batch-test-bomb"
FORK_BOMB = """
import os, time
for _ in range(10):  # up to 1,024 processes, each in its own session
    try:
        if os.fork() == 0:
            os.setsid()
    except OSError:
        pass
time.sleep(600)
"""


def bomb_processes() -> list:
    import psutil

    return [p for p in psutil.process_iter(["cmdline"]) if BOMB_MARKER in (p.info["cmdline"] or [])]


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def batch(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", *map(str, args)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def class_folder(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SHEETS / "ana.yaml", subs / "ana_1001.yaml")
    shutil.copy(SHEETS / "broken.yaml", subs / "carl_1003.yaml")
    (subs / "dana_1004.yaml").write_text("cnn-exercises/q2a: [1,\n")
    (subs / "eve_1005.yaml").write_text("")
    older = subs / "ben_1002_first.yaml"
    shutil.copy(SHEETS / "ana.yaml", older)
    shutil.copy(SHEETS / "ben.yaml", subs / "ben_1002_second.yaml")
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    (subs / "notes.txt").write_text("not a submission")
    return subs


def test_quiz_batch_gives_every_student_a_row_with_the_right_status(class_folder, tmp_path):
    out = tmp_path / "out"
    result = batch(class_folder, "--assignment", "quiz", "--out", out, "-j", "2")
    assert result.returncode == 0, result.stderr
    book = gradebook(out)
    assert set(book) == {"ana", "ben", "carl", "dana", "eve"}
    assert book["ana"]["status"] == "graded" and float(book["ana"]["points"]) > 0
    assert book["carl"]["status"] == "graded" and "could not be read" in book["carl"]["message"]
    assert book["dana"]["status"] == "invalid" and "not valid YAML" in book["dana"]["message"]
    assert book["eve"]["status"] == "invalid" and "empty" in book["eve"]["message"]
    assert "ben_1002_second.yaml" in book["ben"]["submission"] and "older submissions ignored" in book["ben"]["message"]
    for student in book:
        assert json.loads((out / "gradescope" / student / "results.json").read_text())["score"] == float(
            book[student]["points"]
        )
    assert (out / "feedback" / "ana" / "feedback.html").exists()
    canvas = (out / "canvas.csv").read_text().splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID") and canvas[1].startswith("Points Possible")
    summary = (out / "summary.txt").read_text()
    assert "5 students graded" in summary and "invalid 2" in summary and "notes.txt" in summary


def test_a_zip_from_the_lms_is_graded_like_a_folder(class_folder, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in class_folder.iterdir():
            z.write(path, path.name)
    out = tmp_path / "out"
    assert batch(archive, "--assignment", "quiz", "--out", out).returncode == 0
    assert set(gradebook(out)) == {"ana", "ben", "carl", "dana", "eve"}


def test_killed_batch_resumes_without_losing_or_regrading(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(16):
        shutil.copy(SHEETS / ("ana.yaml" if i % 2 else "ben.yaml"), subs / f"s{i:02d}_sheet.yaml")
    reference = tmp_path / "uninterrupted"
    assert batch(subs, "--assignment", "quiz", "--out", reference).returncode == 0

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", "quiz", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(list((out / "results").glob("*.json"))) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert 4 <= len(done_before) < 16, "the batch should have been killed in the middle"

    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert len(after) == 16
    assert all(after[name] == mtime for name, mtime in done_before.items()), "finished results were regraded"
    strip = lambda book: {
        k: {f: v[f] for f in ("status", "points", "points_possible", "message")} for k, v in book.items()
    }
    assert strip(gradebook(out)) == strip(gradebook(reference))

    # A submission that changed since it was graded is graded again; --regrade regrades all.
    shutil.copy(SHEETS / "broken.yaml", subs / "s03_sheet.yaml")
    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    assert gradebook(out)["s03"]["message"] == "4 answer(s) could not be read"
    assert (out / "results" / "s00.json").stat().st_mtime_ns == after["s00.json"]


@pytest.mark.notebooks
def test_notebook_batch_with_good_failing_hanging_hungry_and_malformed_submissions(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (scripts/install-sandbox.sh): isolation cannot be tested")
    data = ROOT / "tests" / "data" / "notebooks"
    students = ROOT / "examples" / "notebooks" / "mnist"
    subs = tmp_path / "subs"
    subs.mkdir()
    for source, name in (
        (data / "small_cnn.ipynb", "good"),
        (students / "raises_midway.ipynb", "failing"),
        (students / "infinite_loop.ipynb", "hanging"),
        (data / "memory_hog.ipynb", "hungry"),
        (students / "not_a_notebook.ipynb", "malformed"),
        (data / "network_probe.ipynb", "probe"),
    ):
        folder = subs / name
        folder.mkdir()
        shutil.copy(source, folder / "submission.ipynb")
    # An older submission of the same student "good": only the newest is graded.
    older = subs / "good_first_try.ipynb"
    shutil.copy(students / "raises_midway.ipynb", older)
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    out = tmp_path / "out"
    import grader

    # A submission that tries to overwrite another student's result, to add files to the grader
    # and to the instructor's data cache, to leave its control group (as root, that is a write
    # of its process id) and to remount the file system writable.
    cgroup_procs = next(Path("/sys/fs/cgroup").glob("pids*/cgroup.procs"), Path("/sys/fs/cgroup/cgroup.procs"))
    targets = [
        out / "results" / "good.json",
        Path(grader.__file__).parent / "_sandbox_probe.txt",
        Path.home() / ".cache" / "_sandbox_probe.txt",
        cgroup_procs,
    ]
    vandal = nbformat.v4.new_notebook()
    vandal.cells = [
        nbformat.v4.new_code_cell(
            f"import os, subprocess\nwritten = []\nfor target in {[str(t) for t in targets]!r}:\n"
            "    try:\n        open(target, 'w').write(str(os.getpid()))\n        written.append(target)\n"
            "    except OSError:\n        pass\nassert not written, f'wrote outside its folder: {written}'\n"
            "remount = subprocess.run(['mount', '-o', 'remount,rw', '/'], capture_output=True)\n"
            "assert remount.returncode != 0, 'remounted the file system writable'"
        )
    ]
    vandal.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (subs / "vandal").mkdir()
    nbformat.write(vandal, str(subs / "vandal" / "submission.ipynb"))
    # A fork bomb whose processes leave their session (so killing a process group would miss them).
    bomber = nbformat.v4.new_notebook()
    bomber.cells = [
        nbformat.v4.new_code_cell(
            f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {FORK_BOMB!r}, {BOMB_MARKER!r}])\n"
            "time.sleep(5)"
        )
    ]
    bomber.metadata["kernelspec"] = vandal.metadata["kernelspec"]
    (subs / "bomber").mkdir()
    nbformat.write(bomber, str(subs / "bomber" / "submission.ipynb"))
    # 2,500 MB for everything one submission starts: "hungry" meets it before its kernel's 3,000 MB.
    result = batch(
        subs,
        "--assignment",
        ROOT / "tests" / "data" / "mnist-timeout.yaml",
        "--out",
        out,
        "-j",
        "2",
        "--memory-limit",
        2500,
        "--max-processes",
        300,
    )
    bombs_left = bomb_processes()
    for process in bombs_left:
        process.kill()
    assert not bombs_left, f"{len(bombs_left)} processes of the fork bomb outlived its grading"
    written = [probe for probe in targets[1:3] if probe.exists()]
    for probe in written:
        probe.unlink()
    assert not written, f"a submission could write {written}"
    assert result.returncode == 0, result.stderr
    book = gradebook(out)
    assert {k: v["status"] for k, v in book.items()} == {
        "good": "graded",
        "failing": "error",
        "hanging": "timeout",
        "hungry": "out_of_memory",
        "malformed": "invalid_notebook",
        # Only a loopback interface inside the batch's sandbox: the probe raises otherwise.
        "probe": "no_model",
        # Its writes outside its own folder all failed (read-only): it raises otherwise.
        "vandal": "no_model",
        "bomber": "no_model",
    }
    assert "its processes used more than 2500 MB together" in book["hungry"]["message"]
    assert "tried to run more than 300 processes and threads at once" in book["bomber"]["message"]
    # (its training is not seeded: a printed-vs-measured gap may be reported before the note)
    assert book["good"]["message"].endswith("older submissions ignored: good_first_try.ipynb")
    assert 0 < json.loads((out / "results" / "good.json").read_text())["peak_memory_mb"] < 2500
    assert json.loads((out / "results" / "good.json").read_text())["status"] == "graded"
    assert float(book["good"]["points"]) > 0
    assert (out / "feedback" / "good" / "feedback.html").exists()


def test_a_batch_runs_on_a_local_dask_cluster_and_resumes_there(class_folder, tmp_path):
    from dask import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        out = tmp_path / "out"
        result = batch(class_folder, "--assignment", "quiz", "--out", out, "--scheduler", cluster.scheduler_address)
        assert result.returncode == 0, result.stderr
        book = gradebook(out)
        assert set(book) == {"ana", "ben", "carl", "dana", "eve"} and book["dana"]["status"] == "invalid"
        before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
        assert (
            batch(
                class_folder, "--assignment", "quiz", "--out", out, "--scheduler", cluster.scheduler_address
            ).returncode
            == 0
        )
        assert before == {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}


def test_relative_paths_work_from_any_folder(class_folder, tmp_path):
    """Children run in their own temporary folder, so the batch resolves the paths it is given."""
    result = subprocess.run(
        [sys.executable, "-m", "grader", "batch", class_folder.name, "--assignment", "quiz", "--out", "rel-out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    book = gradebook(tmp_path / "rel-out")
    assert book["ana"]["status"] == "graded" and float(book["ana"]["points"]) > 0
