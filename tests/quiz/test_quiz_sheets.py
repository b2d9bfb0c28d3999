"""``grader quiz check``: full marks for the key, named slips for typical wrong answers,
and clear messages (file, line, question id) for sheets that are bad in every way."""

from __future__ import annotations

import json

import pytest

from grader.quiz.render import template
from grader.schemas import schema_errors


def key_sheet(grader, tmp_path, seed=None):
    """The computed answer key of both banks, as one answer sheet."""
    args = ["--seed", seed] if seed else []
    text = "".join(grader("quiz", "key", bank, *args).stdout for bank in ("cnn-exercises", "conv-arithmetic"))
    text = text.replace(f'seed: "{seed}"\n', "", 1) if seed else text  # keep one seed line
    path = tmp_path / "key.yaml"
    path.write_text(text)
    return path


def full_grades(catalog, tmp_path):
    """An instructor's grades file giving every written answer full marks."""
    lines = [
        f"{q.id}: {{points: {q.points}, comment: matches the model answer}}"
        for b in catalog.banks
        for q in b.questions
        if q.type == "free_text"
    ]
    path = tmp_path / "grades.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_computed_key_scores_full_marks(grader, catalog, tmp_path):
    doc = grader.json("quiz", "check", key_sheet(grader, tmp_path), "--grades", full_grades(catalog, tmp_path))
    assert doc["score"]["points"] == doc["score"]["possible"] > 0
    assert doc["score"]["pending_review"] == 0
    assert {q["status"] for q in doc["questions"]} <= {"correct", "reviewed", "graded_elsewhere"}
    assert doc["banks"] == ["cnn-exercises", "conv-arithmetic"]


@pytest.mark.parametrize("seed", ["3", "student-042"])
def test_the_key_of_a_variant_scores_full_marks_for_that_variant_only(grader, tmp_path, seed):
    path = key_sheet(grader, tmp_path, seed)
    graded = grader.json("quiz", "check", path)
    assert graded["seed"] == seed
    auto = [q for q in graded["questions"] if q["type"] not in ("free_text", "notebook", "not_graded")]
    assert all(q["status"] == "correct" for q in auto), [q for q in auto if q["status"] != "correct"]
    # The same answers checked against the default variant are mostly wrong.
    default = grader.json("quiz", "check", path, "--seed", "a-different-student")
    wrong = [q for q in default["questions"] if q["status"] in ("incorrect", "partial")]
    assert len(wrong) >= 3


def test_free_text_without_grades_waits_for_review_and_shows_key_points(grader, sheet):
    path = sheet("cnn-exercises/q1: |\n  Weight sharing means fewer parameters.\n")
    doc = grader.json("quiz", "check", path)
    q1 = next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q1")
    assert q1["status"] == "needs_review" and q1["points"] == 0
    assert any(f.startswith("Key points:") for f in q1["feedback"])
    assert doc["score"]["pending_review"] > 0


# Typical slips from real submissions, with the slip the feedback must name.
SLIPS = [
    ("cnn-exercises/q2a", "900000", None),  # an arithmetic slip: no named misconception
    ("cnn-exercises/q2a", "902700", "biases_forgotten"),
    ("cnn-exercises/q2a", "19600", "input_channels_reused"),
    ("cnn-exercises/q2a", "903400 bytes", None),  # a unit on a count: unreadable
    ("cnn-exercises/q2b", '"9 MB"', "parameters_left_out"),
    ("cnn-exercises/q2b", '"100.9 MB"', "bits_for_bytes"),
    ("cnn-exercises/q2b", '"12.6 MiB"', "prefix_mixed_up"),
    ("cnn-exercises/q2c", '"529.6 MB"', "input_batch_left_out"),
    ("cnn-exercises/q2c", '"4524.9 MB"', "bits_for_bytes"),
    ("cnn-exercises/q2c", '"14.85 MB"', "batch_left_out"),
    ("conv-arithmetic/q1", "[[0, 0], [2, 4]]", "kernel_flipped"),
    ("conv-arithmetic/q2", "[[0, 0], [-2, -4]]", "zero_padding_mixed_up"),
    ("conv-arithmetic/q3", "[[-3, -2, 0, 3], [-4, 0, 0, 3], [-2, -2, -4, 5], [-1, 1, -3, 2]]", "dilation_ignored"),
    ("conv-arithmetic/q8", "[126, 126, 16]", "stride_ignored"),
    ("conv-arithmetic/q7", "[128, 128, 16]", "padding_ignored"),
    ("conv-arithmetic/q9a", "[64, 64, 32]", "filters_from_input"),
    ("conv-arithmetic/q11", "[[2, 3, 3], [2, 3, 3], [2, 2, 3]]", "pool_stride_ignored"),
]


@pytest.mark.parametrize("qid, answer, slip", SLIPS)
def test_typical_wrong_answers_get_the_matching_misconception(grader, sheet, qid, answer, slip):
    doc = grader.json("quiz", "check", sheet(f"{qid}: {answer}\n"))
    result = next(q for q in doc["questions"] if q["id"] == qid)
    assert result["status"] in ("incorrect", "partial", "invalid")
    if slip is None:
        assert result["misconceptions"] == []
    else:
        assert result["misconceptions"] == [slip], result["feedback"]
        assert any("Your answer is what you get" in f or "labelled" in f for f in result["feedback"])


def test_slips_are_recomputed_for_each_variant(grader, catalog, sheet):
    """The recognised wrong answer follows the variant: nothing is a stored wrong answer."""
    bank = catalog.bank("cnn-exercises")
    inst = bank.instance(next(q for q in bank.questions if q.local_id == "q2a"), "kim")
    no_bias = inst.key - sum(layer.filters for layer in inst.arguments["layers"])
    doc = grader.json("quiz", "check", sheet(f"seed: kim\ncnn-exercises/q2a: {no_bias}\n"))
    q2a = next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q2a")
    assert q2a["misconceptions"] == ["biases_forgotten"]


def test_two_slips_together_are_named(grader, sheet):
    # biases forgotten *and* bits counted as bytes, on the prediction-memory question
    doc = grader.json("quiz", "check", sheet('cnn-exercises/q2b: "100.8 MB"\n'))
    q2b = next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q2b")
    assert set(q2b["misconceptions"]) == {"bits_for_bytes", "biases_forgotten"} or q2b["misconceptions"] == [
        "bits_for_bytes"
    ]


@pytest.mark.parametrize(
    "answer, status",
    [
        ('"12.6 MB"', "correct"),
        ('"12613600 B"', "correct"),
        ('"12.03 MiB"', "correct"),
        ("12.6", "correct"),
        ('"0.0126 GB"', "correct"),
        ('"12,613,600 bytes"', "correct"),
        ('"11 MB"', "incorrect"),
    ],
)
def test_memory_answers_convert_units(grader, sheet, answer, status):
    doc = grader.json("quiz", "check", sheet(f"cnn-exercises/q2b: {answer}\n"))
    assert next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q2b")["status"] == status


def test_grids_get_partial_credit_per_cell(grader, sheet):
    doc = grader.json("quiz", "check", sheet("conv-arithmetic/q1: [[0, 0], [-2, 99]]\n"))
    q1 = next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q1")
    assert q1["status"] == "partial" and q1["points"] == pytest.approx(3.0)
    assert "3 of 4 cells are right" in q1["feedback"][0]


def test_shape_length_is_checked_first(grader, sheet):
    doc = grader.json("quiz", "check", sheet("conv-arithmetic/q7: [null, 126, 126, 16]\n"))
    q7 = next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")
    assert q7["status"] == "incorrect"
    assert "4 dimensions; expected 3" in q7["feedback"][0]
    assert "batch dimension" in q7["feedback"][1]


@pytest.mark.parametrize("answer", ['"(126, 126, 16)"', '"126x126x16"', "[126, 126, 16]"])
def test_shapes_may_be_written_as_text(grader, sheet, answer):
    doc = grader.json("quiz", "check", sheet(f"conv-arithmetic/q7: {answer}\n"))
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")["status"] == "correct"


def test_multi_select_has_per_option_feedback(grader, sheet):
    doc = grader.json("quiz", "check", sheet("cnn-exercises/q3: [A, C, G]\n"))
    q3 = next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q3")
    assert q3["status"] == "partial"
    assert q3["points"] == pytest.approx(3 * (2 - 1) / 6)
    assert any(f.startswith("G should not be chosen") and "larger batch" in f for f in q3["feedback"])
    assert any(f.startswith("D was missed") for f in q3["feedback"])


@pytest.mark.parametrize(
    "line, message",
    [
        ("cnn-exercises/q2a: .nan", "NaN"),
        ("cnn-exercises/q2a: .inf", "infinite"),
        ("cnn-exercises/q2a: 1.0e+30", "implausibly large"),
        ("cnn-exercises/q2a: 1" + "0" * 5000, "digits"),
        ("cnn-exercises/q2a: [1, 2]", "expected a whole number, got a list"),
        ("cnn-exercises/q2a: true", "true/false"),
        ('cnn-exercises/q2b: "12.6 parsecs"', "not a unit of memory"),
        ('cnn-exercises/q2b: "100 Mbit"', "counts bits"),
        ('cnn-exercises/q2b: "100 Mb"', "'Mb' counts bits (b is a bit, B a byte)"),
        ('cnn-exercises/q2b: "12,6 MB"', "write the decimal separator as a point"),
        pytest.param(
            'cnn-exercises/q2b: "' + "1" * 10_000 + ' MB"', "a number with 10,000 digits is not an answer", id="long"
        ),
        ("conv-arithmetic/q1: [[1, 2], [3]]", "different lengths"),
        ("conv-arithmetic/q1: [[1, x], [3, 4]]", "row 1"),
        ("cnn-exercises/q3: [A, Z]", "not an option"),
        ("conv-arithmetic/q4: 42", "expected a written answer"),
    ],
)
def test_unreadable_answers_are_invalid_with_line_and_id(grader, sheet, line, message):
    text = "conv-arithmetic/q7: [126, 126, 16]\n" + line + "\n"
    doc = grader.json("quiz", "check", sheet(text))
    qid = line.split(":")[0]
    result = next(q for q in doc["questions"] if q["id"] == qid)
    assert result["status"] == "invalid" and result["points"] == 0
    assert message in result["feedback"][0]
    assert result["feedback"][0].startswith(f"line 2: {qid}:")
    assert len(result["feedback"][0]) < 400, "an answer is never echoed whole"
    # The other answer on the sheet is still graded.
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")["status"] == "correct"


def test_unknown_ids_are_reported_and_the_rest_graded(grader, sheet):
    doc = grader.json("quiz", "check", sheet("conv-arithmetic/q7: [126, 126, 16]\nconv-arithmetic/q77: 3\n"))
    assert any(
        "answers.yaml:2" in p and "'conv-arithmetic/q77' is not a question id" in p and "did you mean" in p
        for p in doc["problems"]
    )
    assert doc["score"]["points"] == 2


def test_duplicated_ids_are_reported_with_both_lines(grader, sheet):
    doc = grader.json(
        "quiz",
        "check",
        sheet("conv-arithmetic/q7: [126, 126, 16]\nconv-arithmetic/q8: [63, 63, 16]\nconv-arithmetic/q7: [1, 1, 1]\n"),
    )
    q7 = next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q7")
    assert q7["status"] == "invalid"
    assert "answered twice (lines 1 and 3)" in q7["feedback"][0]
    assert next(q for q in doc["questions"] if q["id"] == "conv-arithmetic/q8")["status"] == "correct"


def test_a_sheets_written_answers_leave_out_blank_repeated_and_other_answers(catalog, sheet):
    from grader.quiz.sheets import read_sheet

    path = sheet(
        "cnn-exercises/q1: '  fewer parameters  '\ncnn-exercises/q5: '   '\ncnn-exercises/q7: one\n"
        "cnn-exercises/q7: two\nconv-arithmetic/q7: [126, 126, 16]\nconv-arithmetic/q4: 12\n"
    )
    assert read_sheet(path, catalog).written_answers(catalog) == {"cnn-exercises/q1": "fewer parameters"}


def test_unanswered_questions_score_zero_and_are_listed(grader, sheet):
    result = grader("quiz", "check", sheet("conv-arithmetic/q7: [126, 126, 16]\nconv-arithmetic/q8: ~\n"))
    assert result.exit_code == 0
    assert "Unanswered (" in result.stdout and "conv-arithmetic/q8" in result.stdout.split("Unanswered")[1]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the file is empty"),
        ("just some words\n", "must be a mapping from question id to answer"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("a: [1, 2\n", "not valid YAML"),
        ("nothing: here\n", "none of its keys is a question id"),
    ],
)
def test_sheets_that_cannot_be_read_exit_1_with_a_message(grader, sheet, content, message):
    result = grader("quiz", "check", sheet(content))
    assert result.exit_code == 1
    assert message in result.stderr and "answers.yaml" in result.stderr
    assert result.stdout == ""


def test_missing_sheet(grader, tmp_path):
    result = grader("quiz", "check", tmp_path / "absent.yaml")
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_json_result_matches_its_schema_and_hides_keys_unless_revealed(grader, sheet):
    path = sheet("cnn-exercises/q2a: 902700\n")
    doc = grader.json("quiz", "check", path)
    assert schema_errors(doc, "quiz-result") == []
    assert all("expected" not in q for q in doc["questions"])
    revealed = grader.json("quiz", "check", path, "--reveal")
    q2a = next(q for q in revealed["questions"] if q["id"] == "cnn-exercises/q2a")
    assert q2a["expected"] == 903400


def test_json_carries_the_model_answer_only_with_reveal(grader, sheet):
    path = sheet("cnn-exercises/q1: Weight sharing means fewer parameters.\n")

    def q1_feedback(*args):
        doc = grader.json("quiz", "check", path, *args)
        return next(q for q in doc["questions"] if q["id"] == "cnn-exercises/q1")["feedback"]

    hidden = q1_feedback()
    assert any(f.startswith("Key points:") for f in hidden)
    assert not any(f.startswith("Model answer") for f in hidden), hidden
    assert any(f.startswith("Model answer") for f in q1_feedback("--reveal"))


def test_feedback_names_each_question_by_id_title_and_prompt(grader, sheet, tmp_path):
    path = sheet('cnn-exercises/q2c: "529.6 MB"\ncnn-exercises/q6a: [A, B]\n')
    text = grader("quiz", "check", path).stdout
    lines = text.splitlines()
    named = lines[next(i for i, line in enumerate(lines) if line.startswith("cnn-exercises/q2c")) + 1]
    assert named.strip().startswith("RAM to train on a mini-batch: The same CNN (100, 200 and 400 feature maps")
    assert len(named) <= 110 and named.endswith("..."), "a long prompt is shortened to one line"
    page_file = tmp_path / "feedback.html"
    assert grader("quiz", "check", path, "--html", page_file).exit_code == 0
    page = page_file.read_text()
    assert "RAM to train on a mini-batch" in page and "AlexNet&#39;s innovations over LeNet-5" in page
    assert "stride 2;\n&#34;same&#34; padding; 200×300 RGB input" in page, "the whole prompt, escaped"
    assert '"same" padding' not in page


def test_one_grade_reads_and_writes_an_entry_of_a_grades_file():
    """The review writes and the quiz check reads a grades file through the one Grade."""
    from grader.quiz.answers import Grade

    assert Grade.from_entry(2) == Grade(2.0) and Grade(2.0).entry() == 2 and isinstance(Grade(2.0).entry(), int)
    assert Grade.from_entry({"points": 1.5, "comment": "ok"}) == Grade(1.5, "ok")
    assert Grade(1.5, "ok").entry() == {"points": 1.5, "comment": "ok"}
    assert Grade.from_entry({"points": 1, "comment": None}) == Grade(1.0)
    assert Grade.from_entry(-1) == Grade(-1.0), "without a maximum, no range"
    for bad in (True, "2", None, {"comment": "no points"}):
        with pytest.raises(ValueError):
            Grade.from_entry(bad)
    with pytest.raises(ValueError, match="^7$"):
        Grade.from_entry(7, most=2)


def test_grades_file_errors_name_the_line(grader, sheet, tmp_path):
    answers = sheet("cnn-exercises/q1: fewer parameters\n")
    grades = tmp_path / "grades.yaml"
    grades.write_text("cnn-exercises/q1: 7\n")
    result = grader("quiz", "check", answers, "--grades", grades)
    assert (
        result.exit_code == 1
        and "grades.yaml:1: cnn-exercises/q1: points must be a number from 0 to 2" in result.stderr
    )


def test_the_template_is_a_sheet_that_grades_as_all_unanswered(grader, catalog, tmp_path):
    path = tmp_path / "blank.yaml"
    path.write_text(template(catalog.bank("conv-arithmetic"), "9"))
    doc = grader.json("quiz", "check", path)
    assert doc["seed"] == "9"
    statuses = {q["status"] for q in doc["questions"]}
    assert statuses <= {"unanswered", "graded_elsewhere"}


def test_list_and_show(grader):
    rows = json.loads(grader("quiz", "list", "--json").stdout)
    ids = {r["id"] for r in rows}
    assert {f"cnn-exercises/q{i}" for i in (1, 3, 4, 5, 7, 8, 9, 10)} <= ids
    assert {"cnn-exercises/q2a", "cnn-exercises/q2b", "cnn-exercises/q2c"} <= ids
    assert {f"conv-arithmetic/q{i}" for i in range(1, 22) if i != 9} <= ids
    shown = grader("quiz", "show", "conv-arithmetic/q7", "--seed", "5").stdout
    assert "practice variant '5'" in shown and "Answer: a list" in shown
    missing = grader("quiz", "show", "conv-arithmetic/q99")
    assert missing.exit_code == 1 and "no question 'conv-arithmetic/q99'" in missing.stderr


# What an attacker hands in: a real answer first, then nested aliases (9**9 "lol"s in under
# 500 bytes; it took 30 s and 2.4 GB before anchors were refused), once more as grades.
LAUGHS = (
    "conv-arithmetic/q7: [126, 126, 16]\n"
    "cnn-exercises/q5: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"x{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "cnn-exercises/q1: *i\n"
)


def test_a_billion_laughs_sheet_is_refused_at_once(grader, sheet):
    result = grader("quiz", "check", sheet(LAUGHS))
    assert result.exit_code == 1 and result.stdout == ""
    assert "answers.yaml:2: YAML anchor &a: an answer sheet may not use anchors (&) or aliases (*)" in result.stderr
    grades = sheet(LAUGHS.replace("conv-arithmetic/q7: [126, 126, 16]", "cnn-exercises/q8: 1"), "grades.yaml")
    result = grader("quiz", "check", sheet("conv-arithmetic/q7: [126, 126, 16]\n"), "--grades", grades)
    assert result.exit_code == 1 and "grades.yaml:2: YAML anchor &a: a grades file may not use anchors" in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "conv-arithmetic/q7: [126, 126, 16]\nseed: {alice: 1}\n",
            "answers.yaml:2: seed must be a word or number (e.g. 'seed: alice'), not a mapping",
        ),
        (
            "conv-arithmetic/q7: [126, 126, 16]\nstudent:\n  - alice\n",
            "answers.yaml:2: student must be a word or number (e.g. 'student: alice'), not a list",
        ),
    ],
)
def test_a_seed_or_student_that_is_a_list_or_mapping_is_refused(grader, sheet, text, message):
    result = grader("quiz", "check", sheet(text))
    assert result.exit_code == 1 and result.stdout == "" and message in result.stderr
