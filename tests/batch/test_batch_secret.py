"""A batch grades each answer sheet on its student's graded variant when the instructor gives
the course secret, refuses sheets naming a student without it unless practice grading is asked
for (``--practice``), and the secret reaches no file the batch writes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.quiz.variants import SECRET_ENV, SECRET_FILE_ENV
from tests.quiz.test_quiz_variants import AUTO, SECRET, graded_key_sheet, no_secret_in_the_environment  # noqa: F401


def batch(subs, out, env_extra, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV)}
    command = ["batch", subs, "--assignment", "quiz", "--out", out, *args]
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, command)],
        capture_output=True,
        text=True,
        env={**env, **env_extra},
    )


def handed_out(grader, tmp_path, secret_file, *students):
    """A class folder of the sheets handed out to ``students`` (each names its student), filled
    in with their graded keys: every automatic answer right on the numbers handed out."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in students:
        key = graded_key_sheet(grader, tmp_path, student, "--secret-file", secret_file)
        (subs / f"{student}.yaml").write_text(key.read_text())
    return subs


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "course-secret.txt"
    path.write_text(SECRET + "\n")
    return path


def test_with_the_secret_a_batch_grades_the_variant_handed_out(grader, tmp_path, secret_file):
    subs = handed_out(grader, tmp_path, secret_file, "alice")
    for out, env, args in [
        (tmp_path / "by-env", {SECRET_FILE_ENV: str(secret_file)}, ()),
        (tmp_path / "by-option", {}, ("--secret-file", secret_file)),
    ]:
        with_secret = batch(subs, out, env, *args)
        assert with_secret.returncode == 0, with_secret.stderr
        row = json.loads((out / "results" / "alice.json").read_text())
        doc = json.loads((out / "feedback" / "alice" / "result.json").read_text())
        assert row["status"] == "graded" and not row.get("practice_check")
        assert doc["variant"]["kind"] == "graded"
        assert all(q["status"] == "correct" for q in doc["questions"] if q["type"] in AUTO)
        for path in out.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), f"the course secret was written to {path}"


def test_without_the_secret_a_batch_of_handed_out_sheets_is_refused_in_one_line(grader, tmp_path, secret_file):
    subs = handed_out(grader, tmp_path, secret_file, "alice", "bob")
    out = tmp_path / "out"
    refused = batch(subs, out, {})
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "course secret" in refused.stderr and "--secret-file PATH" in refused.stderr
    assert SECRET_FILE_ENV in refused.stderr and "--practice" in refused.stderr and "alice.yaml" in refused.stderr
    assert "students graded" not in refused.stdout
    assert not (out / "canvas.csv").exists() and not (out / "gradebook.csv").exists()
    assert not list(out.glob("results/*.json")), "nothing is graded"


def test_practice_grading_is_asked_for_in_so_many_words_and_regraded_with_the_secret(grader, tmp_path, secret_file):
    subs = handed_out(grader, tmp_path, secret_file, "alice")
    out = tmp_path / "out"
    practice = batch(subs, out, {}, "--practice")
    assert practice.returncode == 0, practice.stderr
    row = json.loads((out / "results" / "alice.json").read_text())
    assert row["practice_check"] is True and "practice variant" in row["message"]
    assert "--practice" in (out / "summary.txt").read_text()

    graded = batch(subs, out, {}, "--secret-file", secret_file)  # the practice row is not kept
    assert graded.returncode == 0, graded.stderr
    row = json.loads((out / "results" / "alice.json").read_text())
    doc = json.loads((out / "feedback" / "alice" / "result.json").read_text())
    assert not row.get("practice_check") and doc["variant"]["kind"] == "graded"
    assert all(q["status"] == "correct" for q in doc["questions"] if q["type"] in AUTO)
    assert "--practice" not in (out / "summary.txt").read_text()


def test_sheets_naming_no_student_need_no_secret(tmp_path):
    """Their numbers are the same with and without the secret (the default or a practice variant)."""
    from tests.conftest import ROOT

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ana.yaml", "ben.yaml"):
        (subs / name).write_text((ROOT / "examples" / "quiz" / name).read_text())
    result = batch(subs, tmp_path / "out", {})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "canvas.csv").exists()


@pytest.mark.parametrize("command", ["batch", "review"])
def test_every_command_that_reads_the_secret_takes_secret_file_and_practice(grader, command):
    text = grader(command, "--help").stdout
    assert "--secret-file" in text and "--practice" in text


@pytest.mark.notebooks
def test_a_notebook_in_a_batch_cannot_read_the_course_secret_or_the_instructors_files(tmp_path):
    """The secret kept beside the project (outside /tmp, which every kernel has empty): a
    notebook that reads it by name, or looks through the instructor's home, finds nothing."""
    import nbformat

    from grader.isolation.sandbox import find_bwrap
    from tests.conftest import ROOT

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
