"""The enumerations in the code and the JSON Schemas of the documents agree, so a status
added on one side cannot be forgotten on the other."""

from __future__ import annotations

from dataclasses import fields

from grader.batch.store import BatchRow, RowStatus, ScoreStatus
from grader.notebooks.status import RunStatus, Status
from grader.quiz.question_type import QuestionType
from grader.quiz.results import QuestionStatus
from grader.schemas import load_schema


def test_notebook_statuses_match_the_result_schema():
    schema = load_schema("notebook-result")
    assert set(schema["properties"]["status"]["enum"]) == {s.value for s in Status}
    assert {s.value for s in RunStatus} - {"ok"} <= {s.value for s in Status}, "every run failure is a result status"


def test_question_statuses_match_the_quiz_result_schema():
    schema = load_schema("quiz-result")
    question = schema["properties"]["questions"]["items"]
    assert set(question["properties"]["status"]["enum"]) == {s.value for s in QuestionStatus}


def test_row_statuses_match_the_batch_row_schema():
    schema = load_schema("batch-row")
    assert set(schema["properties"]["status"]["enum"]) == {s.value for s in RowStatus}
    assert {s.value for s in Status} <= {s.value for s in RowStatus}, "every notebook status is a row status"
    from grader.batch.submissions import SubmissionKind

    assert set(schema["properties"]["kind"]["enum"]) == {k.value for k in SubmissionKind} | {None}


def test_every_stored_row_field_is_in_the_batch_row_schema():
    properties = load_schema("batch-row")["properties"]
    assert {f.name for f in fields(BatchRow)} == set(properties)
    assert properties["pending_points"]["minimum"] == 0
    assert [s for s in ScoreStatus] == [ScoreStatus.FINAL, ScoreStatus.PENDING_REVIEW]
    assert BatchRow("a", RowStatus.GRADED, 1, 2, pending_points=1).score_status is ScoreStatus.PENDING_REVIEW
    assert BatchRow("a", RowStatus.GRADED, 1, 2).score_status is ScoreStatus.FINAL


def test_question_types_match_the_bank_and_quiz_result_schemas():
    types = {t.value for t in QuestionType}
    assert set(load_schema("bank")["$defs"]["question"]["properties"]["type"]["enum"]) == types
    question = load_schema("quiz-result")["properties"]["questions"]["items"]
    assert set(question["properties"]["type"]["enum"]) == types


def test_status_properties_replace_string_tests():
    assert [s for s in Status if not s.is_failure] == [Status.GRADED]
    assert {s for s in RunStatus if s.stopped_everything} == {
        RunStatus.TIMEOUT,
        RunStatus.DEAD_KERNEL,
        RunStatus.OUT_OF_MEMORY,
    }
    assert [s for s in QuestionStatus if not s.counted] == [QuestionStatus.ELSEWHERE]
    assert all(s.text for s in Status)


def test_similarity_values_match_the_similarity_schema():
    from dataclasses import fields

    from grader.similarity.result import Evidence, EvidenceKind, Excerpt, Material, Similarity, SimilarPair

    schema = load_schema("similarity")
    assert set(schema["properties"]["material"]["enum"]) == {m.value for m in Material}
    assert set(schema["$defs"]["evidence"]["properties"]["kind"]["enum"]) == {k.value for k in EvidenceKind}
    assert set(schema["properties"]) == {f.name for f in fields(Similarity)} | {"kind"}
    assert set(schema["properties"]["pairs"]["items"]["properties"]) == {f.name for f in fields(SimilarPair)}
    assert set(schema["$defs"]["evidence"]["properties"]) == {f.name for f in fields(Evidence)}
    assert set(schema["$defs"]["excerpt"]["properties"]) == {f.name for f in fields(Excerpt)}


def test_notebook_flags_match_the_result_schema():
    from grader.batch.class_report import FLAGS_TO_LOOK_AT
    from grader.notebooks.flags import Flag

    schema = load_schema("notebook-result")
    assert set(schema["properties"]["flags"]["items"]["enum"]) == {f.value for f in Flag}
    assert Flag.TRAINED_ON_HELDOUT in FLAGS_TO_LOOK_AT and Flag.TRAINING_BUDGET_USED not in FLAGS_TO_LOOK_AT


def test_notebook_checks_match_the_assignment_schema():
    from grader.notebooks.assignment import CheckName
    from grader.notebooks.checks import CHECKS

    check = load_schema("assignment")["properties"]["checks"]["items"]["properties"]["check"]
    assert set(check["enum"]) == set(CHECKS) == {c.value for c in CheckName}
    assert all(isinstance(name, CheckName) for name in CHECKS)


def test_every_assignment_option_sets_a_field_whose_default_is_the_only_one():
    """An option the schema allows is read into an Assignment field; one left out takes the
    field's default, written nowhere else."""
    from grader.notebooks.assignment import OPTIONS, Assignment

    properties = load_schema("assignment")["properties"]
    nested = {(s, k) for s in ("data", "limits") for k in properties[s]["properties"]}
    written = {(k,) for k in properties if k not in ("data", "limits")} | nested
    read_apart = {("assignment",), ("title",), ("checks",), ("provide",), ("training_budget",), ("tiers",)}
    assert set(OPTIONS) == written - read_apart
    assert set(OPTIONS.values()) <= {f.name for f in fields(Assignment)}


def test_document_kinds_match_the_result_schemas():
    from grader.schemas import DocumentKind

    for kind in DocumentKind:
        assert load_schema(kind.value)["properties"]["kind"]["const"] == kind.value


def test_the_kernels_record_kinds_are_the_graders():
    """kernel_trace.py runs standalone in the student's kernel and writes its record kinds and
    call kinds as literals: every one it sends is one the grader reads, and every kind the
    grader reads is sent."""
    import ast
    import inspect

    from grader.notebooks import kernel_trace
    from grader.notebooks.trace import CallKind, RecordKind

    tree = ast.parse(inspect.getsource(kernel_trace))
    sent, calls = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_send", "_record"):
            if isinstance(node.args[0], ast.Constant):  # not _record's own call of _send(kind, doc)
                sent.add(node.args[0].value)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                    if key.value == "record":
                        sent.add(value.value)
                    elif key.value == "call":
                        calls.add(value.value)
    assert sent == set(RecordKind)
    schema = load_schema("kernel-trace")["properties"]["inputs"]["items"]["properties"]["call"]
    assert calls == set(CallKind) == set(schema["enum"])


def test_variant_kinds_match_the_quiz_result_schema():
    from grader.quiz.variants import Variant, VariantKind

    kind = load_schema("quiz-result")["properties"]["variant"]["properties"]["kind"]
    assert set(kind["enum"]) == {k.value for k in VariantKind}
    assert Variant("practice", "s").kind is VariantKind.PRACTICE
