"""Graded variants come from the instructor's course secret; anyone can practise on practice
variants, but no command prints a graded variant's key (or its numbers) without the secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.quiz.variants import SECRET_ENV, SECRET_FILE_ENV, Variant

SECRET = "0123456789abcdef-the-instructors-own"
OTHER_SECRET = "fedcba9876543210-another-course"
BANKS = ("cnn-exercises", "conv-arithmetic")
AUTO = ("integer", "number", "shape", "grid", "choice", "multi_select")


@pytest.fixture(autouse=True)
def no_secret_in_the_environment(monkeypatch):
    """Each test says where its secret comes from; none leaks in from the machine."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "course-secret.txt"
    path.write_text(SECRET + "\n")
    return path


def auto_statuses(doc):
    return [q["status"] for q in doc["questions"] if q["type"] in AUTO]


def graded_key_sheet(grader, tmp_path, student, *secret_args):
    """Both banks' keys for ``student``'s graded variant, as one sheet (one student line)."""
    texts = [grader("quiz", "key", bank, "--student", student, *secret_args) for bank in BANKS]
    assert all(t.exit_code == 0 for t in texts), texts[0].stderr
    line = f'student: "{student}"\n'
    path = tmp_path / f"{student}-key.yaml"
    path.write_text(line + "".join(t.stdout.replace(line, "") for t in texts))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("quiz", "key", "cnn-exercises"),
        ("quiz", "template", "conv-arithmetic"),
        ("quiz", "show", "cnn-exercises/q2a"),
    ],
)
def test_a_graded_variant_cannot_be_printed_without_the_secret(grader, command):
    result = grader(*command, "--student", "alice")
    assert result.exit_code == 1 and result.stdout == ""
    assert "graded variant of student 'alice' needs the course secret" in result.stderr
    assert "--seed alice" in result.stderr  # what a student can do instead


def test_checking_a_students_sheet_without_the_secret_is_a_practice_check(grader, tmp_path, secret_file):
    key = graded_key_sheet(grader, tmp_path, "alice", "--secret-file", secret_file)
    graded = grader.json("quiz", "check", key, "--secret-file", secret_file)
    assert graded["variant"] == {"kind": "graded", "name": "alice", "practice_check": False}
    assert set(auto_statuses(graded)) == {"correct"}

    practice = grader.json("quiz", "check", key, "--reveal")
    assert practice["variant"] == {"kind": "practice", "name": "alice", "practice_check": True}
    assert any(
        "PRACTICE CHECK, not your graded variant" in p
        and "instructor's grading uses your graded numbers" in p
        and ":1:" in p
        for p in practice["problems"]
    )
    # --reveal shows the practice numbers, never the graded key that the sheet holds
    assert auto_statuses(practice).count("correct") < len(auto_statuses(practice)) // 2
    revealed = {q["id"]: q.get("expected") for q in practice["questions"]}
    answered = {q["id"]: q["answer"] for q in graded["questions"] if q["type"] in ("integer", "shape", "grid")}
    assert sum(revealed[qid] == answer for qid, answer in answered.items()) < len(answered) // 2
    text = grader("quiz", "check", key).stdout
    assert "(practice variant 'alice')" in text and "PRACTICE CHECK" in text


def test_the_instructor_grades_the_variant_he_handed_out(grader, tmp_path, secret_file, monkeypatch):
    handed_out = tmp_path / "alice.yaml"
    result = grader(
        "quiz", "template", "conv-arithmetic", "--student", "alice", "--secret-file", secret_file, "-o", handed_out
    )
    assert result.exit_code == 0, result.stderr
    sheet = handed_out.read_text()
    assert 'student: "alice"' in sheet and "seed:" not in sheet
    key = grader("quiz", "key", "conv-arithmetic", "--student", "alice", "--secret-file", secret_file).stdout

    def prompts(text):
        return [line for line in text[text.index("# conv-arithmetic/") :].splitlines() if line.startswith("#")]

    assert len(prompts(sheet)) > 50 and prompts(sheet) == prompts(key)  # the same numbers in every prompt
    # Alice fills in the handed-out sheet with the right answers; the secret may come from the environment.
    answers = {line.split(": ", 1)[0]: line for line in key.splitlines() if line.startswith("conv-arithmetic/")}
    filled = "\n".join(answers.get(line.split(": ", 1)[0], line) for line in sheet.splitlines())
    handed_out.write_text(filled)
    monkeypatch.setenv(SECRET_FILE_ENV, str(secret_file))
    doc = grader.json("quiz", "check", handed_out)
    assert doc["variant"]["kind"] == "graded" and set(auto_statuses(doc)) == {"correct"}
    monkeypatch.delenv(SECRET_FILE_ENV)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert grader.json("quiz", "check", handed_out)["score"] == doc["score"]
    shown = grader("quiz", "show", "conv-arithmetic/q7", "--student", "alice").stdout
    assert "graded variant of student 'alice'" in shown
    assert "\n".join("# " + line for line in shown.splitlines()[3:-2]) in key


def test_ids_differing_in_case_or_spaces_are_one_student():
    secret = SECRET.encode()
    assert Variant.graded("Alice ", secret).stream == Variant.graded("alice", secret).stream
    assert Variant.graded("alice", secret).stream != Variant.graded("alicia", secret).stream


def test_a_wrong_secret_gives_other_numbers(grader, tmp_path, secret_file):
    key = graded_key_sheet(grader, tmp_path, "alice", "--secret-file", secret_file)
    wrong = tmp_path / "wrong-secret.txt"
    wrong.write_text(OTHER_SECRET)
    doc = grader.json("quiz", "check", key, "--secret-file", wrong)
    assert doc["variant"]["kind"] == "graded"
    assert auto_statuses(doc).count("correct") < len(auto_statuses(doc)) // 2


def test_practice_variants_differ_from_graded_ones(catalog):
    secret = SECRET.encode()
    for bank in catalog.banks:
        for student in ("alice", "bob", "student-042", "7"):
            practice = [bank.instance(q, Variant.practice(student)).values for q in bank.questions]
            graded = [bank.instance(q, Variant.graded(student, secret)).values for q in bank.questions]
            assert practice != graded, (bank.name, student)


@given(seed=st.text(), student=st.text())
def test_no_practice_seed_reaches_a_graded_stream(seed, student):
    """Practice and graded numbers are drawn from different domains: a seed cannot spell a graded stream."""
    assert Variant.practice(seed).stream != Variant.graded(student, SECRET.encode()).stream


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_missing_secret_file_is_named(grader, tmp_path, monkeypatch, how):
    missing = tmp_path / "no-such-secret.txt"
    args = ["--secret-file", missing] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv(SECRET_FILE_ENV, str(missing))
    for command in (
        ("quiz", "key", "cnn-exercises", "--student", "alice"),
        ("quiz", "check", "examples/quiz/ana.yaml"),
    ):
        result = grader(*command, *args)
        assert result.exit_code == 1 and result.stdout == ""
        assert f"{missing}: no such file (the course secret file" in result.stderr
        assert ("--secret-file" if how == "option" else SECRET_FILE_ENV) in result.stderr


def test_a_short_secret_is_refused(grader, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "password")
    result = grader("quiz", "key", "cnn-exercises", "--student", "alice")
    assert result.exit_code == 1 and f"${SECRET_ENV}: the course secret has 8 characters" in result.stderr


def test_seed_and_student_exclude_each_other(grader, secret_file):
    result = grader("quiz", "key", "cnn-exercises", "--seed", "a", "--student", "b", "--secret-file", secret_file)
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_with_the_secret_a_sheet_naming_a_student_ignores_its_seed(grader, sheet, secret_file):
    doc = grader.json(
        "quiz",
        "check",
        sheet('seed: mine\nstudent: "alice"\nconv-arithmetic/q7: [1, 1, 1]\n'),
        "--secret-file",
        secret_file,
    )
    assert doc["variant"]["kind"] == "graded" and doc["seed"] is None
    assert any("answers.yaml:1: the sheet's seed 'mine' is ignored" in p for p in doc["problems"])
    unnamed = grader.json(
        "quiz", "check", sheet("seed: mine\nconv-arithmetic/q7: [1, 1, 1]\n"), "--secret-file", secret_file
    )
    assert unnamed["variant"]["kind"] == "practice"
    assert any("names no student" in p for p in unnamed["problems"])


def test_the_secret_appears_in_no_output(grader, tmp_path, secret_file):
    key = graded_key_sheet(grader, tmp_path, "alice", "--secret-file", secret_file)
    html = tmp_path / "page.html"
    outputs = [
        grader("quiz", "check", key, "--secret-file", secret_file, "--reveal", "--html", html).stdout,
        grader("quiz", "check", key, "--secret-file", secret_file, "--json").stdout,
        html.read_text(),
    ]
    stream = Variant.graded("alice", SECRET.encode()).stream
    assert not any(SECRET in out or stream.split(":")[1] in out for out in outputs)


def test_the_default_variant_needs_no_seed(grader):
    """The numbers printed in the course stay the default (the golden keys check all of them)."""
    shown = grader("quiz", "show", "cnn-exercises/q2a").stdout
    assert "200" in shown and "variant" not in shown.splitlines()[1]


def test_review_never_regrades_a_graded_sheet_on_practice_numbers(catalog, sheet, tmp_path, monkeypatch):
    """``grader review`` regrades in-process: without the secret it refuses instead of changing the score."""
    from grader.batch.store import BatchRow, RowStatus
    from grader.review.regenerate import _sheet
    from grader.review.workspace import WorkspaceError

    submission = str(sheet('student: "alice"\nconv-arithmetic/q7: [1, 1, 1]\n'))
    row = BatchRow("alice", RowStatus.GRADED, 0, 0, submission=submission)
    with pytest.raises(WorkspaceError, match=f"cannot regrade alice: .*--secret-file PATH, .*{SECRET_FILE_ENV}"):
        _sheet(catalog, row, None, tmp_path)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert _sheet(catalog, row, None, tmp_path).points_possible > 0
