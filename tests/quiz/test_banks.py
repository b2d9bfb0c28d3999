"""Question banks: the shipped ones load, and a broken bank is refused with its file,
line, question id and the field at fault."""

from __future__ import annotations

import textwrap

import pytest

from grader.errors import BankError
from grader.quiz.bank import Catalog, load_bank, packaged_bank_dir

GOOD_QUESTION = """\
  - id: q1
    type: shape
    points: 2
    prompt: What shape?
    compute: output_shape
    setup:
      input_shape: [$size, $size, 3]
      layers: [{type: conv2d, filters: 8, kernel_size: 3}]
"""


def write_bank(tmp_path, questions: str, head: str = "params: {size: 32}\n") -> str:
    path = tmp_path / "mini.yaml"
    path.write_text("bank: mini\ntitle: A small bank\n" + head + "questions:\n" + textwrap.dedent(questions))
    return str(path)


def test_shipped_banks_hold_every_question_of_the_course(catalog):
    ids = set(catalog.by_id)
    expected = {f"cnn-exercises/q{n}" for n in ("1", "2a", "2b", "2c", "3", "4", "5", "7", "8", "9", "10", "11")}
    expected |= {f"cnn-exercises/q6{c}" for c in "abcde"}
    expected |= {f"conv-arithmetic/q{n}" for n in range(1, 22) if n != 9} | {
        "conv-arithmetic/q9a",
        "conv-arithmetic/q9b",
    }
    assert expected <= ids


def test_shipped_banks_pass_the_schema():
    """The shipped banks are loaded without the schema check on every run; it is made here."""
    files = sorted(packaged_bank_dir().glob("*.yaml"))
    assert files
    for path in files:
        load_bank(path)


def test_a_bank_folder_of_ones_own_is_checked_against_the_schema(tmp_path):
    write_bank(tmp_path, GOOD_QUESTION.replace("points: 2", "points: two"))
    with pytest.raises(BankError, match="field points"):
        Catalog.load(tmp_path)


def test_a_good_mini_bank_loads(tmp_path):
    bank = load_bank(write_bank(tmp_path, GOOD_QUESTION))
    assert bank.instance(bank.questions[0]).key == [30, 30, 8]


@pytest.mark.parametrize(
    "change, message",
    [
        (("points: 2", "points: -1"), r"mini.yaml:7: question q1: field points: -1 is less than the minimum of 0"),
        (("type: shape", "type: essay"), r"question q1: field type: 'essay' is not one of"),
        (
            ("compute: output_shape", "compute: parameter_count"),
            r"question q1: field compute: 'parameter_count' is not one of",
        ),
        (
            ("    compute: output_shape\n", ""),
            r"question q1: field \(the question itself\): 'compute' is a required property",
        ),
        (
            ("prompt: What shape?", "prompt: What shape?\n    answer: [30, 30, 8]"),
            r"question q1: .*'answer' was unexpected",
        ),
        (("$size", "$sise"), r"mini.yaml:\d+: mini/q1: unknown parameter \$sise"),
        (("kernel_size: 3", "kernel_size: 99"), r"mini/q1: cannot compute the key: layer 1 \(Conv2D\).*does not fit"),
        (("kernel_size: 3", "kernel_sise: 3"), r"mini/q1: setup: layer 1: layer 'conv2d'.*kernel_sise"),
    ],
)
def test_broken_banks_are_refused_with_file_question_and_field(tmp_path, change, message):
    old, new = change
    assert old in GOOD_QUESTION
    with pytest.raises(BankError, match=message) as info:
        load_bank(write_bank(tmp_path, GOOD_QUESTION.replace(old, new, 1)))
    assert "mini.yaml" in str(info.value)


def test_duplicate_question_ids_are_refused(tmp_path):
    with pytest.raises(BankError, match=r"id 'q1' is used twice \(first at line 5\)"):
        load_bank(write_bank(tmp_path, GOOD_QUESTION + GOOD_QUESTION))


def test_duplicate_fields_are_refused(tmp_path):
    with pytest.raises(BankError, match=r"mini.yaml:8: field questions\[0\].points is written twice"):
        load_bank(write_bank(tmp_path, GOOD_QUESTION.replace("points: 2\n", "points: 2\n    points: 3\n")))


def test_choice_questions_need_exactly_one_right_option(tmp_path):
    question = """\
      - id: q2
        type: choice
        points: 1
        prompt: Pick one
        options:
          - {key: A, text: one, correct: true}
          - {key: B, text: two, correct: true}
    """
    with pytest.raises(BankError, match="exactly one correct option, found 2"):
        load_bank(write_bank(tmp_path, question))


def test_an_instructor_bank_folder_is_used_by_the_cli(tmp_path, grader):
    write_bank(tmp_path, GOOD_QUESTION)
    rows = grader("quiz", "--banks", tmp_path, "list").stdout
    assert "mini/q1" in rows
    broken = tmp_path / "other"
    broken.mkdir()
    (broken / "b.yaml").write_text("bank: b\ntitle: t\nquestions: []\n")
    result = grader("quiz", "--banks", broken, "list")
    assert result.exit_code == 1 and "b.yaml" in result.stderr and "questions" in result.stderr


def test_variants_are_reproducible_and_differ_between_students(catalog):
    bank = catalog.bank("conv-arithmetic")
    q1 = next(q for q in bank.questions if q.local_id == "q1")
    assert bank.instance(q1, "ana").values == bank.instance(q1, "ana").values
    images = {str(bank.instance(q1, f"student-{i}").values["image"]) for i in range(20)}
    assert len(images) > 15
    # Questions that share the image see the same one for a given student.
    q11 = next(q for q in bank.questions if q.local_id == "q11")
    assert bank.instance(q11, "ana").values["image"] == bank.instance(q1, "ana").values["image"]


def test_no_numeric_key_is_written_in_the_banks(catalog):
    """Numeric questions carry a setup and a calculator name; the schema forbids keys."""
    for bank in catalog.banks:
        for q in bank.questions:
            if q.type in ("integer", "number", "shape", "grid"):
                assert "compute" in q.spec and "setup" in q.spec
                assert not {"answer", "key", "expected"} & q.spec.keys()


def test_single_choice_questions_are_graded_with_the_chosen_options_feedback(tmp_path, grader):
    write_bank(
        tmp_path,
        """\
      - id: q2
        type: choice
        points: 1
        prompt: Which layer has no parameters?
        options:
          - {key: A, text: Conv2D, correct: false, feedback: A convolution learns its kernels.}
          - {key: B, text: MaxPooling2D, correct: true, feedback: Pooling only takes a maximum.}
    """,
    )
    for answer, status, note in (("B", "correct", "Pooling only"), ("a", "incorrect", "learns its kernels")):
        sheet = tmp_path.parent / f"{tmp_path.name}-sheet.yaml"
        sheet.write_text(f"mini/q2: {answer}\n")
        doc = grader.json("quiz", "--banks", tmp_path, "check", sheet)
        q2 = doc["questions"][0]
        assert (q2["status"], q2["feedback"]) == (status, [next(f for f in q2["feedback"] if note in f)])
    sheet.write_text("mini/q2: [A, B]\n")
    doc = grader.json("quiz", "--banks", tmp_path, "check", sheet)
    assert doc["questions"][0]["status"] == "invalid" and "exactly one option" in doc["questions"][0]["feedback"][0]
