"""Scratch folders a killed grader left behind are removed by the next run, and only those."""

from __future__ import annotations

import subprocess
import sys

from grader import scratch
from tests.conftest import ROOT


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_folders_whose_maker_is_gone_are_removed(tmp_path):
    dead, alive = dead_pid(), scratch.scratch_prefix("run").split("-")[2]
    left = [tmp_path / f"grader-{kind}-{dead}-abc" for kind in ("work", "run", "ipc")]
    kept = [tmp_path / f"grader-run-{alive}-abc", tmp_path / "grader-other-1-abc", tmp_path / f"mine-{dead}"]
    for folder in left + kept:
        (folder / "inside").mkdir(parents=True)
    assert sorted(scratch.remove_abandoned(tmp_path)) == sorted(left)
    assert all(folder.exists() for folder in kept) and not any(folder.exists() for folder in left)


def test_a_batch_removes_what_a_killed_batch_left(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    left = tmp_path / f"grader-work-{dead_pid()}-ana-x1y2"
    (left / "home").mkdir(parents=True)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.yaml").write_text((ROOT / "examples" / "quiz" / "ana.yaml").read_text())
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", "quiz", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not left.exists(), "the killed batch's work folder is still there"
