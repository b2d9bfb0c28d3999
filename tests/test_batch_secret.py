"""A batch grades each answer sheet on its student's graded variant when the instructor gives
the course secret, says so when it cannot, and the secret reaches no file the batch writes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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


@pytest.mark.notebooks
def test_a_notebook_in_a_batch_cannot_read_the_course_secret_or_the_instructors_files(tmp_path):
    """The secret kept beside the project (outside /tmp, which every kernel has empty): a
    notebook that reads it by name, or looks through the instructor's home, finds nothing."""
    import nbformat
    from conftest import ROOT

    from grader.sandbox import find_bwrap

    if find_bwrap() is None:
        pytest.skip("no sandbox here: the kernel runs with the grader's rights (the batch says so)")
    secret_file = ROOT / f".test-course-secret-{os.getpid()}.txt"
    secret_file.write_text(SECRET + "\n")
    home = Path.home()
    snoop = (
        "import os\n"
        f"for path in [{str(secret_file)!r}, {str(ROOT / 'README.md')!r}]:\n"
        "    try:\n"
        "        print('read', len(open(path).read()))\n"
        "    except OSError as error:\n"
        "        print('could not read', type(error).__name__)\n"
        f"print('home holds', sorted(os.listdir({str(home)!r})) if os.path.isdir({str(home)!r}) else None)\n"
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(snoop)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(subs / "mallory.ipynb"))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", str(ROOT / "tests" / "data" / "mnist-fast.yaml"),
             "--out", str(tmp_path / "out")],
            capture_output=True, text=True, env={**os.environ, SECRET_FILE_ENV: str(secret_file)}, check=False,
        )  # fmt: skip
    finally:
        secret_file.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    executed = nbformat.read(str(tmp_path / "out" / "feedback" / "mallory" / "mallory.executed.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))
    assert printed.count("could not read FileNotFoundError") == 2, printed
    visible = ast.literal_eval(printed.split("home holds", 1)[1].strip())
    assert not visible or set(visible) <= {".pyenv", ".keras", ".cache"}, f"the instructor's home shows {visible}"
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), f"the secret is in {path}"
