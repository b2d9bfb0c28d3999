"""Long answers read as their passages say them: split at headings, bullets and sentences; a
wrong statement is suggested only when a passage asserts it, never when it says the opposite;
no answer is suggested 0 while it covers a key point; and on the student-style labelled set
(tests/data/student_style/, written for this project) the suggestions agree with the rubric's
labels on questions the thresholds were not calibrated on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.review.calibration import evaluate, load_labelled
from grader.review.reading import assertions, direction, opposite, passages
from grader.review.suggest import Suggester, Thresholds, make_similarity, points_for

STUDENT_STYLE = Path(__file__).parents[1] / "data" / "student_style" / "answers.yaml"
SHORT = Path(__file__).parents[1] / "data" / "written_answers.yaml"
ESSAY = """\
## Parameters
In a dense layer every input is connected to every unit.
Shared weights greatly reduces the number of parameters.

## Invariance
- a feature learned in one place
  is detected anywhere in the image
* less overfitting
"""


def test_an_essay_splits_at_headings_bullets_and_sentences():
    found = passages(ESSAY)
    assert "Parameters" not in found and "Invariance" not in found
    assert "Shared weights greatly reduces the number of parameters" in found
    assert "a feature learned in one place is detected anywhere in the image" in found
    assert "less overfitting" in found
    assert not any(len(p) > 200 for p in found), "never the whole answer at once"


def test_a_clause_keeps_the_sentence_it_belongs_to():
    found = assertions("A 1x1 filter does not look at neighbours, and it mixes the channels.")
    assert found["it mixes the channels"] == "A 1x1 filter does not look at neighbours, and it mixes the channels"


@pytest.mark.parametrize(
    "passage, statement",
    [
        ("shared weights greatly reduces the number of parameters", "a CNN has more parameters than a dense network"),
        ("far fewer parameters than a dense net", "a CNN has more parameters than a fully connected network"),
        ("a 1x1 filter does not look at neighbouring pixels", "a 1x1 convolution looks at the neighbouring pixels"),
        ("augmentation is only applied to the training data", "augmentation is applied to the test set too"),
        ("gradient ascent on the input image", "gradient descent on the weights of the filter"),
        ("strong neurons inhibit their neighbours", "neighbouring neurons are amplified"),
    ],
)
def test_saying_the_opposite_is_not_asserting(passage, statement):
    assert opposite(passage, statement)


@pytest.mark.parametrize(
    "passage, statement",
    [
        ("every filter has more weights than a dense layer", "a CNN has more parameters than a dense network"),
        ("max pooling has weights that are learned", "max pooling has trainable weights"),
    ],
)
def test_saying_the_same_is_not_opposite(passage, statement):
    assert not opposite(passage, statement)


def test_a_negation_turns_a_direction_round():
    assert direction("it reduces the size") == -1 and direction("it does not reduce the size") == 1
    assert direction("the maps") == 0


@pytest.fixture(scope="module")
def lexical(catalog):
    return Suggester(make_similarity("lexical", catalog))


def test_reducing_the_parameters_is_not_having_more(catalog, lexical):
    """The issue's example: a full-mark answer taken for "more parameters than a dense network"."""
    answer = (
        "## Why a CNN\nIn a fully connected layer each unit sees the whole image. With shared weights a CNN "
        "greatly reduces the number of parameters, so it needs less training data and overfits less.\n"
        "## Translation\nA feature learned in one place is detected anywhere in the image."
    )
    [suggestion] = lexical.suggest(catalog.by_id["cnn-exercises/q1"][1].spec, "cnn-exercises/q1", [answer])
    assert "a CNN has more parameters than a fully connected network" not in suggestion.wrong
    assert suggestion.points >= 1.5


def test_asserting_a_wrong_statement_is_still_caught(catalog, lexical):
    answer = "A CNN has more parameters than a fully connected network, so it detects features anywhere."
    [suggestion] = lexical.suggest(catalog.by_id["cnn-exercises/q1"][1].spec, "cnn-exercises/q1", [answer])
    assert suggestion.wrong == ("a CNN has more parameters than a fully connected network",)


def test_sharing_the_questions_words_is_not_making_a_wrong_statement(catalog):
    """Cross-validation found this credited passage taken for "template matching means the filter
    is learned from a fixed template image" when a fold calibrated a low threshold: it shares
    "template matching" and "image" but says nothing of a learned or fixed template."""
    answer = "In template matching you slide a template over the image."
    suggester = Suggester(make_similarity("lexical", catalog), Thresholds(cover=0.3, wrong=0.3, margin=0.0))
    [suggestion] = suggester.suggest(catalog.by_id["conv-arithmetic/q4"][1].spec, "conv-arithmetic/q4", [answer])
    assert not suggestion.wrong
    worded = "In template matching the filter is learned from a fixed template image."
    [suggestion] = suggester.suggest(catalog.by_id["conv-arithmetic/q4"][1].spec, "conv-arithmetic/q4", [worded])
    assert suggestion.wrong == ("template matching means the filter is learned from a fixed template image",)


@pytest.mark.parametrize("model", ["lexical", "hybrid"])
@pytest.mark.parametrize("labels", [STUDENT_STYLE, SHORT])
def test_no_threshold_calibration_may_choose_accuses_a_credited_answer(catalog, model, labels):
    """At the loosest wrong-statement thresholds of the calibration's search (grader.review.
    calibration.calibrate), no answer labelled 1.5 or more is accused, so no fold of a
    cross-validation can accuse one either (before the two-thirds wording rule: 11 and 7)."""
    if model != "lexical":
        pytest.importorskip("wordllama")
    loosest = Suggester(make_similarity(model, catalog), Thresholds(cover=0.3, wrong=0.4, margin=0.0))
    agreement = evaluate(loosest, catalog, load_labelled(labels, catalog))
    assert agreement.credited_accused == 0, agreement
    assert agreement.fluent_wrong_full == 0 or labels == SHORT, agreement


def test_denying_a_wrong_statement_is_not_making_it(catalog, lexical):
    answer = "A 1x1 convolution does not look at the neighbouring pixels: it mixes all the channels at one position."
    [suggestion] = lexical.suggest(catalog.by_id["conv-arithmetic/q9b"][1].spec, "conv-arithmetic/q9b", [answer])
    assert not suggestion.wrong


def test_no_answer_is_suggested_0_while_it_covers_a_key_point():
    assert points_for(2, 1, 3, wrong=True) == 0.5
    assert points_for(2, 0, 3, wrong=True) == 0
    assert points_for(2, 2, 3, wrong=False) == 1.5 and points_for(2, 1, 3, wrong=False) == 0.5
    assert points_for(2, 4, 4, wrong=True) == 1.5


def rubric_points(points: float, covers: list[int], key_points: int, wrong: bool) -> float:
    """RUBRIC.md, rule 3, written out independently of the suggester."""
    share = round(points * len(covers) / key_points * 2 + 1e-9) / 2
    if wrong:
        share = max(0.0, share - 0.5)
    return max(share, 0.5) if covers else share


def test_every_label_follows_the_rubric(catalog):
    data = yaml.safe_load(STUDENT_STYLE.read_text(encoding="utf-8"))
    assert sum(len(items) for items in data.values()) >= 150
    for qid, items in data.items():
        question = catalog.by_id[qid][1]
        n = len(question.spec["key_points"])
        for item in items:
            assert set(item["covers"]) <= set(range(1, n + 1)), (qid, item["text"][:40])
            expected = rubric_points(question.points, item["covers"], n, item["wrong"])
            assert item["points"] == expected, (qid, item["text"][:40], item["points"], expected)
            kind = (
                "fluent_wrong"
                if item["wrong"]
                else "correct"
                if len(item["covers"]) == n
                else "partial"
                if item["covers"]
                else "off_topic"
            )
            assert item["kind"] == kind, (qid, item["text"][:40])


def test_the_set_holds_every_style_and_long_answers(catalog):
    answers = load_labelled(STUDENT_STYLE, catalog)
    assert {a.style for a in answers} == {"essay", "paraphrase", "bullets", "terse"}
    assert len({a.question for a in answers}) == 19
    assert sum(len(a.text) >= 400 for a in answers) >= 15


@pytest.mark.parametrize("model, zeroed", [("lexical", 1), ("hybrid", 0)])
def test_held_out_answers_agree_with_the_labels(catalog, model, zeroed):
    """The shipped thresholds were calibrated on tests/data/written_answers.yaml only, so every
    answer of the student-style set is held out from them."""
    if model != "lexical":
        pytest.importorskip("wordllama")
    suggester = Suggester(make_similarity(model, catalog))
    agreement = evaluate(suggester, catalog, load_labelled(STUDENT_STYLE, catalog))
    assert agreement.correlation >= 0.6 and abs(agreement.bias) <= 0.2, agreement
    assert agreement.within_half >= 0.8, agreement
    assert agreement.covering_zero == 0 and agreement.credited_zero <= zeroed, agreement
    assert agreement.credited_accused == 0, agreement


@pytest.mark.parametrize("qid", ["cnn-exercises/q7", "conv-arithmetic/q9b", "conv-arithmetic/q13"])
def test_full_mark_essays_that_deny_a_wrong_statement_are_not_accused(catalog, lexical, qid):
    """Each of these essays denies one of its question's wrong statements ("with no dense
    layers", "does not look at neighbouring pixels", "only applied to the training data"): the
    suggester before issue 24 accused all three."""
    essay = yaml.safe_load(STUDENT_STYLE.read_text(encoding="utf-8"))[qid][0]
    assert essay["style"] == "essay" and essay["points"] == 2
    [suggestion] = lexical.suggest(catalog.by_id[qid][1].spec, qid, [essay["text"]])
    assert not suggestion.wrong and suggestion.points >= 1.5, suggestion.wrong
