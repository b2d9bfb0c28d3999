"""What each review page shows, built from the review's state without a server or HTML: the
overview's progress, a question's groups with their decisions, a notebook's checks with the
instructor's overrides."""

from __future__ import annotations

import json

import pytest

from grader.notebooks.status import Status
from grader.quiz.answers import Grade
from grader.results import ResultDocumentError
from grader.review.decisions import Via
from grader.review.pages import index_page, notebook_page, question_page
from grader.review.regenerate import regenerate
from grader.review.state import Review, ReviewInputError
from tests.review.test_review_fixtures import NOTEBOOK_STUDENT, make_out

Q12, Q13 = "conv-arithmetic/q12", "conv-arithmetic/q13"


@pytest.fixture
def review(tmp_path, catalog):
    return Review(make_out(tmp_path), catalog, "tester", model="lexical")


def test_the_overview_counts_answers_groups_and_notebooks(review):
    page = index_page(review)
    assert [(q.id, q.done, q.total, q.points) for q in page.questions] == [(Q12, 0, 5, 2), (Q13, 0, 2, 2)]
    assert page.questions[0].groups == len(review.groups[Q12]) and page.students == 6
    (nora,) = page.notebooks
    assert (nora.student, nora.points, nora.possible, nora.status, nora.reviewed) == (
        NOTEBOOK_STUDENT,
        3.5,
        6,
        Status.GRADED,
        False,
    )
    review.grade(Q13, ["dev"], 1, "")
    review.mark_reviewed(NOTEBOOK_STUDENT)
    page = index_page(review)
    assert page.questions[1].done == 1 and page.notebooks[0].reviewed


def test_a_group_graded_at_once_shows_its_grade_who_gave_it_and_goes_last(review):
    page = question_page(review, Q12)
    assert (page.previous, page.next, page.steps) == (None, Q13, (0, 0.5, 1, 1.5, 2))
    same = next(g for g in page.groups if {m.student for m in g.members} == {"dev", "eli", "gus"})
    review.grade(Q12, [m.student for m in same.members], 1, "only speed")
    page = question_page(review, Q12)
    assert page.done == 3 and page.groups[-1].key == same.key, "the graded group goes last"
    graded = page.groups[-1]
    assert graded.grade == Grade(1, "only speed") and graded.done == 3
    assert all(m.decided.by == "tester" and m.decided.via is Via.GROUP and m.decided.for_group for m in graded.members)
    review.grade(Q12, ["gus"], 1.5, "")
    graded = next(g for g in question_page(review, Q12).groups if g.key == same.key)
    assert graded.grade is None and graded.done == 3, "members graded differently: no grade for the group"
    assert next(m for m in graded.members if m.student == "gus").decided.via is Via.ANSWER


def test_an_overridden_check_shows_the_instructors_points_beside_the_graders(review):
    before = notebook_page(review, NOTEBOOK_STUDENT)
    assert (before.points, before.status, before.reviewed, before.has_notebook) == (3.5, Status.GRADED, None, True)
    review.override(NOTEBOOK_STUDENT, "images_per_class", 1.5, "class 3 was given")
    review.mark_reviewed(NOTEBOOK_STUDENT)
    page = notebook_page(review, NOTEBOOK_STUDENT)
    check = next(c for c in page.checks if c.check == "images_per_class")
    assert (check.points, check.auto_points, check.fraction) == (1.5, 0, 1.0)
    assert check.grade == Grade(1.5, "class 3 was given") and check.decided.via is Via.CHECK
    assert page.points == 5.0 and page.reviewed is not None and page.reviewed.via is None
    with pytest.raises(ReviewInputError, match="0 to 2.5"):
        review.override(NOTEBOOK_STUDENT, "accuracy", 9, "")


def test_an_instructors_points_are_kept_exactly_and_a_bad_result_is_a_problem(tmp_path, catalog):
    """The review reads the batch's notebook results as typed results (grader.results): two
    thirds of a point stay two thirds on the page and in reviewed.json, with the fraction beside
    them rounded as the grader rounds; a damaged result document is refused by name, and a missing
    one is named on the overview instead of stopping the review."""
    out = make_out(tmp_path)
    review = Review(out, catalog, "tester", model="lexical")
    review.override(NOTEBOOK_STUDENT, "frozen_then_unfrozen", 2 / 3, "a third")
    check = next(c for c in notebook_page(review, NOTEBOOK_STUDENT).checks if c.check == "frozen_then_unfrozen")
    assert (check.points, check.fraction) == (2 / 3, 0.3333)
    regenerate(out, [NOTEBOOK_STUDENT], catalog)
    stored = json.loads((out / "feedback" / NOTEBOOK_STUDENT / "reviewed.json").read_text())
    [frozen] = [c for c in stored["checks"] if c["check"] == "frozen_then_unfrozen"]
    assert (frozen["points"], frozen["fraction"], stored["points"]) == (2 / 3, 0.3333, round(2.5 + 0 + 2 / 3, 4))
    assert frozen["message"] == "Never unfrozen; Instructor: 0.666667/2 (a third)."
    result = out / "feedback" / NOTEBOOK_STUDENT / "result.json"
    result.write_text('{"kind": "quiz-result"}')
    with pytest.raises(ResultDocumentError, match=r"nora/result.json: not a result document"):
        regenerate(out, [NOTEBOOK_STUDENT], catalog)
    result.unlink()
    again = Review(out, catalog, "tester", model="lexical")
    assert NOTEBOOK_STUDENT not in again.workspace.notebooks
    assert any(p.startswith(f"{NOTEBOOK_STUDENT}: no notebook result to review") for p in again.workspace.problems)
