"""Answer sheets written to hurt the grader: too big, too deep, too many keys, keys repeated,
ids that YAML would read as numbers. Each is refused or reported once, with its line, in
plain words; none gives a traceback or a crash. (How fast they are refused is measured by
benchmarks/quiz_check.py, never asserted here: a busy machine must not fail a test.)"""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from grader.quiz.variants import SECRET_ENV, SECRET_FILE_ENV

MEMORY_LIMIT = 512 << 20  # address space of a `grader quiz check` process in these tests


def check_in_a_process(path, timeout=60):
    """``grader quiz check PATH`` in its own process, with its address space capped: a crash of
    the interpreter or a blow-up of memory fails the test instead of the test run."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "grader", "quiz", "check", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=timeout,
        check=False,
    )


def test_a_deeply_nested_answer_is_refused_with_its_line(grader, sheet):
    result = grader(
        "quiz",
        "check",
        sheet("conv-arithmetic/q7: [126, 126, 16]\n\ncnn-exercises/q2a: " + "[" * 600 + "]" * 600 + "\n"),
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        "answers.yaml:3: lists or mappings nested more than 10 levels deep: far more than an answer sheet "
        "holds; refused"
    ) in result.stderr


def test_a_400_kb_nested_sheet_does_not_crash_the_interpreter(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text("cnn-exercises/q2a:\n  " + "[" * 200_000 + "]" * 200_000 + "\n")
    result = check_in_a_process(path)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    assert "nested.yaml:2: lists or mappings nested more than 10 levels deep" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_50_mb_sheet_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("conv-arithmetic/q7: [126, 126, 16]\n")
        for block in range(50):
            handle.write("".join(f"unknown-{block}-{i:06d}: x\n" for i in range(55_000)))
    size = path.stat().st_size
    assert size > 50 << 20
    result = check_in_a_process(path)
    assert result.returncode == 1 and result.stdout == ""
    assert f"huge.yaml: the file is {size / (1 << 20):.1f} MB; an answer sheet is at most 1 MB" in result.stderr


def test_too_many_keys_are_refused_before_they_are_built(grader, sheet):
    text = "conv-arithmetic/q7: [126, 126, 16]\n" + "".join(f"k{i}: {i}\n" for i in range(15_000))
    result = grader("quiz", "check", sheet(text))
    assert result.exit_code == 1 and result.stdout == ""
    assert "answers.yaml:9999: more than 20,000 values (keys, answers, list items)" in result.stderr


def test_thousands_of_unknown_keys_are_counted_not_listed(grader, sheet):
    text = "conv-arithmetic/q7: [126, 126, 16]\n" + "".join(f"question-{i}: {i}\n" for i in range(5_000))
    doc = grader.json("quiz", "check", sheet(text))
    assert len(doc["problems"]) == 11
    assert doc["problems"][0] == "answers.yaml:2: 'question-0' is not a question id; ignored".replace(
        "answers.yaml", doc["sheet"]
    )
    assert doc["problems"][-1].endswith("and 4,990 more keys that are not question ids (lines 12 to 5001); ignored")
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")["status"] == "correct"
    assert len(grader("quiz", "check", sheet(text)).stdout) < 8000


@pytest.mark.parametrize("key", ["seed", "student"])
def test_a_repeated_seed_or_student_is_refused_with_both_lines(grader, sheet, key):
    result = grader("quiz", "check", sheet(f"{key}: a\nconv-arithmetic/q7: [126, 126, 16]\n{key}: b\n"))
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        f"answers.yaml:3: {key} is written twice (lines 1 and 3), so the variant the sheet answers is unclear"
        in result.stderr
    )


def test_a_repeated_unknown_key_is_reported_once_with_its_lines(grader, sheet):
    doc = grader.json("quiz", "check", sheet("notes: a\nconv-arithmetic/q7: [126, 126, 16]\nnotes: b\nnotes: c\n"))
    assert [p.split("answers.yaml")[1] for p in doc["problems"]] == [
        ":1: 'notes' is not a question id (also at lines 3, 4); ignored"
    ]
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")["status"] == "correct"


def test_an_answer_given_three_times_is_reported_once(grader, sheet):
    doc = grader.json(
        "quiz",
        "check",
        sheet(
            "conv-arithmetic/q7: [1, 1, 1]\nconv-arithmetic/q7: [2, 2, 2]\n"
            "conv-arithmetic/q8: [63, 63, 16]\nconv-arithmetic/q7: [3, 3, 3]\n"
        ),
    )
    assert [p.split("answers.yaml")[1] for p in doc["problems"]] == [
        ":2: conv-arithmetic/q7 is answered 3 times (lines 1, 2 and 4); none is graded"
    ]
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")["status"] == "invalid"


@pytest.mark.parametrize("written", ["0123", "1e3", "0x1F", "yes", "12:30", "007"])
def test_ids_are_read_exactly_as_written(grader, sheet, written, monkeypatch):
    """YAML 1.1 would read 0123 as octal 83, yes as true, 12:30 as 750: two students' ids must never meet."""
    assert grader.json("quiz", "check", sheet(f"seed: {written}\nconv-arithmetic/q7: ~\n"))["seed"] == written
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    monkeypatch.setenv(SECRET_ENV, "0123456789abcdef-a-long-secret")
    doc = grader.json("quiz", "check", sheet(f"student: {written}\nconv-arithmetic/q7: ~\n"))
    assert doc["variant"] == {"kind": "graded", "name": written, "practice_check": False}


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "seed:\nconv-arithmetic/q7: ~\n",
            "answers.yaml:1: seed is empty: write it (e.g. 'seed: alice') or delete the line",
        ),
        ("student: ~\nconv-arithmetic/q7: ~\n", "answers.yaml:1: student is empty"),
        ("seed: " + "x" * 5000 + "\nconv-arithmetic/q7: ~\n", "answers.yaml:1: seed has 5,000 characters"),
    ],
)
def test_an_empty_or_endless_id_is_refused(grader, sheet, text, message):
    result = grader("quiz", "check", sheet(text))
    assert result.exit_code == 1 and message in result.stderr and len(result.stderr) < 500
