"""Suggested points for written answers: agreement with the labelled answers stays at what the
README reports, wrong-but-fluent answers are not suggested full marks, and `grader quiz suggest`
reports covered and missed key points (and works without the review extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.errors import InputFileError
from grader.review.calibration import AnswerKind, cohen_kappa, evaluate, load_labelled
from grader.review.reading import negated
from grader.review.suggest import Suggester, clauses, make_similarity

LABELS = Path(__file__).parents[1] / "data" / "written_answers.yaml"


@pytest.fixture(scope="module")
def labelled(catalog):
    return load_labelled(LABELS, catalog)


def test_the_labelled_set_covers_ten_questions_and_every_kind(labelled):
    assert len({a.question for a in labelled}) >= 10
    assert {a.kind for a in labelled} == set(AnswerKind)


@pytest.mark.parametrize("model, kappa, within", [("lexical", 0.45, 0.9), ("hybrid", 0.5, 0.9)])
def test_suggestions_agree_with_the_labels(catalog, labelled, model, kappa, within):
    if model != "lexical":
        pytest.importorskip("wordllama")
    agreement = evaluate(Suggester(make_similarity(model, catalog)), catalog, labelled)
    assert agreement.kappa >= kappa and agreement.within_half >= within, agreement
    assert agreement.correlation >= 0.8 and abs(agreement.bias) <= 0.1 and not agreement.credited_accused, agreement
    assert agreement.fluent_wrong_full <= 1, "right words, wrong statement: no full marks"


def test_a_wrong_statement_costs_full_marks(catalog):
    spec = catalog.by_id["conv-arithmetic/q12"][1].spec
    suggester = Suggester(make_similarity("lexical", catalog))
    right = (
        "Max pooling downsamples the feature maps, reducing computation and memory, gives some invariance "
        "to small translations and has no parameters: it keeps the strongest activations."
    )
    wrong = right.replace("has no parameters", "has trainable weights that learn which value to keep")
    good, bad = suggester.suggest(spec, "conv-arithmetic/q12", [right, wrong])
    assert good.points == 2 and not good.wrong
    assert bad.points < 2 and bad.wrong


def test_clauses_and_negation():
    assert "pooling has no parameters" in clauses("Pooling is cheap, and pooling has no parameters.")
    assert negated("it doesn't learn") and negated("no parameters") and not negated("few parameters")


def test_cohen_kappa():
    assert cohen_kappa([0, 1, 2, 2], [0, 1, 2, 2]) == 1.0
    assert cohen_kappa([0, 0, 1, 1], [1, 1, 0, 0]) < 0


def test_a_bad_labelled_file_is_refused_with_its_line(catalog, tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("conv-arithmetic/q7:\n  - {kind: correct, points: 2, text: x}\n")
    with pytest.raises(InputFileError, match=r"labels.yaml:1: conv-arithmetic/q7: not a written"):
        load_labelled(path, catalog)


def test_quiz_suggest_reports_covered_and_missed_key_points(grader, sheet):
    path = sheet(
        "conv-arithmetic/q12: It makes the feature maps smaller so the network is faster.\n"
        "conv-arithmetic/q7: [126, 126, 16]\n"
    )
    result = grader("quiz", "suggest", path, "--model", "lexical")
    assert result.exit_code == 0, result.stderr
    assert (
        "conv-arithmetic/q12" in result.stdout
        and "✓ downsamples" in result.stdout
        and "✗ some invariance" in result.stdout
    )
    document = grader.json("quiz", "suggest", path, "--model", "lexical")
    assert document[0]["id"] == "conv-arithmetic/q12" and document[0]["points"] == 0.5  # 1 of 3 key points
    assert document[0]["missed"] == [
        "some invariance to small translations",
        "no parameters; keeps the strongest activations",
    ]
    assert json.dumps(document)


def test_quiz_suggest_refuses_a_sheet_it_cannot_read(grader, sheet):
    result = grader("quiz", "suggest", sheet("- just a list\n"))
    assert result.exit_code == 1 and "must be a mapping" in result.stderr
