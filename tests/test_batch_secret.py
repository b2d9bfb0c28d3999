"""A batch grades each answer sheet on its student's graded variant when the instructor gives
the course secret, says so when it cannot, and the secret reaches no file the batch writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from test_quiz_variants import AUTO, SECRET, graded_key_sheet, no_secret_in_the_environment  # noqa: F401

from grader.quiz.variants import SECRET_ENV, SECRET_FILE_ENV


def batch(subs, out, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV)}
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", "quiz", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**env, **env_extra},
    )


def test_with_the_secret_a_batch_grades_the_variant_handed_out(grader, tmp_path):
    secret_file = tmp_path / "course-secret.txt"
    secret_file.write_text(SECRET + "\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    key = graded_key_sheet(grader, tmp_path, "alice", "--secret-file", secret_file)
    (subs / "alice.yaml").write_text(key.read_text())

    with_secret = batch(subs, tmp_path / "graded", {SECRET_FILE_ENV: str(secret_file)})
    assert with_secret.returncode == 0, with_secret.stderr
    row = json.loads((tmp_path / "graded" / "results" / "alice.json").read_text())
    doc = json.loads((tmp_path / "graded" / "feedback" / "alice" / "result.json").read_text())
    assert row["status"] == "graded" and not row.get("practice_check")
    assert doc["variant"]["kind"] == "graded"
    assert all(q["status"] == "correct" for q in doc["questions"] if q["type"] in AUTO)
    for path in (tmp_path / "graded").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the course secret was written to {path}"

    without = batch(subs, tmp_path / "practice", {})
    assert without.returncode == 0, without.stderr
    row = json.loads((tmp_path / "practice" / "results" / "alice.json").read_text())
    assert row["practice_check"] is True and "practice variant" in row["message"]
