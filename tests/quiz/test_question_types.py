"""The question-type registry (``grader.quiz.kinds.REGISTRY``) is the single list of question
types: every type the bank schema allows has an entry, and every entry gives a blank sheet's
line, an answer key that scores full marks, and a report, for a question of its type."""

from __future__ import annotations

import pytest

from grader.quiz import checking, keys
from grader.quiz.answers import Grade
from grader.quiz.bank import load_bank
from grader.quiz.kinds import REGISTRY, QuestionKind
from grader.quiz.question_type import QuestionType
from grader.quiz.render import answer_format, result_document, template
from grader.quiz.results import QuestionStatus, SheetResult
from grader.schemas import load_schema
from grader.yamlsource import read_yaml

# One question of each type; a new type adds its question here (the tests below ask for one).
EVERY_TYPE = """\
bank: kinds
title: One question of each type
questions:
  - {id: integer, type: integer, points: 1, prompt: Parameters?, compute: parameter_count,
     setup: {input_shape: [8, 8, 1], layers: [{type: conv2d, filters: 2, kernel_size: 3}]}}
  - {id: number, type: number, points: 1, prompt: Memory?, compute: prediction_memory, quantity: bytes, unit: kB,
     tolerance: {relative: 0.01}, setup: {input_shape: [8, 8, 1], layers: [{type: conv2d, filters: 2, kernel_size: 3}]}}
  - {id: shape, type: shape, points: 1, prompt: Shape?, compute: output_shape,
     setup: {input_shape: [8, 8, 1], layers: [{type: conv2d, filters: 2, kernel_size: 3}]}}
  - {id: grid, type: grid, points: 1, prompt: Grid?, compute: convolution,
     setup: {image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel: [[1, 0], [0, 1]]}}
  - id: choice
    type: choice
    points: 1
    prompt: One?
    options: [{key: A, text: this, correct: true}, {key: B, text: that, correct: false}]
  - id: multi_select
    type: multi_select
    points: 1
    prompt: Some?
    options: [{key: A, text: this, correct: true}, {key: B, text: that, correct: true},
              {key: C, text: not this, correct: false}]
  - {id: free_text, type: free_text, points: 1, prompt: Why?, model_answer: Because., key_points: [because]}
  - {id: notebook, type: notebook, points: 1, prompt: Train it., assignment: mnist}
  - {id: not_graded, type: not_graded, points: 0, prompt: Try it.}
"""


def bank_schema_types() -> list[str]:
    return load_schema("bank")["$defs"]["question"]["properties"]["type"]["enum"]


def missing_entries(registry: dict[QuestionType, QuestionKind]) -> set[str]:
    """Types the bank schema allows that have no entry: each would crash the grader on its first question."""
    return set(bank_schema_types()) - set(registry)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    path = tmp_path_factory.mktemp("kinds") / "kinds.yaml"
    path.write_text(EVERY_TYPE, encoding="utf-8")
    return load_bank(path)


def test_the_registry_lists_exactly_the_bank_schemas_types():
    assert missing_entries(REGISTRY) == set()
    assert set(REGISTRY) == set(bank_schema_types()) == set(QuestionType)


def test_a_missing_entry_is_noticed():
    registry = {qtype: kind for qtype, kind in REGISTRY.items() if qtype != QuestionType.CHOICE}
    assert missing_entries(registry) == {"choice"}


def test_the_sample_bank_has_a_question_of_each_type(bank):
    assert sorted(q.type for q in bank.questions) == sorted(bank_schema_types())


@pytest.mark.parametrize("qtype", bank_schema_types())
def test_each_type_renders_its_sheet_line_and_key(bank, qtype):
    kind = REGISTRY[qtype]  # a KeyError here: the type has no entry in grader.quiz.kinds.REGISTRY
    question = next(q for q in bank.questions if q.type == qtype)
    inst = bank.instance(question)
    assert answer_format(inst)
    blank, key = template(bank, None), template(bank, None, with_key=True)
    if kind.on_sheet:
        assert f"\n{question.id}: {kind.blank_answer}\n" in blank
        assert kind.key_on_sheet(inst) is not None
        assert f"\n{question.id}: " in key and f"\n{question.id}: ~\n" not in key
    else:
        assert f"\n# {question.id}: {answer_format(inst)}\n" in blank and f"\n{question.id}:" not in blank


def test_each_types_key_scores_full_marks_and_its_report_fits_the_schema(bank, tmp_path):
    sheet = tmp_path / "key.yaml"
    sheet.write_text(template(bank, None, with_key=True), encoding="utf-8")
    answers = read_yaml(sheet).data
    results = []
    for question in bank.questions:
        inst = bank.instance(question)
        result = checking.check(
            inst, answers.get(question.id), 1, Grade(question.points) if question.id in answers else None
        )
        results.append(result)
        assert result.type == question.type
        if REGISTRY[question.type].on_sheet:
            assert result.fraction == 1.0, (question.type, result)
        else:
            assert result.status is QuestionStatus.ELSEWHERE
    result_document(
        SheetResult(str(sheet), bank.instance(bank.questions[0]).variant, ("kinds",), tuple(results)), reveal=True
    )


def test_computed_types_are_those_the_schema_gives_a_calculator():
    """The schema's compute enum for each type is the calculators whose answers have that type."""
    rules = load_schema("bank")["$defs"]["question"]["allOf"]
    in_schema = {}
    for rule in rules:
        then = rule["then"]
        if then.get("$ref") == "#/$defs/computed":
            qtype = rule["if"]["properties"]["type"]["const"]
            in_schema[qtype] = set(then["properties"]["compute"]["enum"])
    assert set(in_schema) == {qtype for qtype, kind in REGISTRY.items() if kind.computed}
    for qtype, computes in in_schema.items():
        assert computes == {name for name, compute in keys.COMPUTES.items() if compute.answer_type == qtype}


def test_an_entry_is_either_checked_on_the_sheet_or_graded_elsewhere():
    with pytest.raises(TypeError, match="exactly one"):
        QuestionKind(answer_format=lambda spec: "anything")
    with pytest.raises(TypeError, match="its key"):
        QuestionKind(answer_format=lambda spec: "anything", check=lambda inst, raw, grade: None)


def test_only_free_text_is_written():
    from grader.quiz.kinds import REGISTRY, is_written
    from grader.quiz.question_type import QuestionType

    assert [t for t in QuestionType if REGISTRY[t].written] == [QuestionType.FREE_TEXT]
    assert is_written("free_text") and not is_written("integer")
