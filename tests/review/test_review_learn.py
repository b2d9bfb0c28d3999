"""Learning from the instructor's first grades within a question: suggestions move towards the
grades of similar graded answers, the least sure are shown first, and on the student-style set
the less sure half of the answers is where the errors are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.review.app import create_app
from grader.review.calibration import load_labelled, simulate_learning
from grader.review.learn import learn, least_sure_first
from grader.review.suggest import Coverage, Suggester, Suggestion, make_similarity

STUDENT_STYLE = Path(__file__).parents[1] / "data" / "student_style" / "answers.yaml"


class Same:
    """A similarity that knows only identical texts."""

    name = "same"

    def matrix(self, left, right):
        return [[1.0 if a == b else 0.0 for b in right] for a in left]


def suggestion(points: float, similarity: float = 0.9) -> Suggestion:
    return Suggestion(points, 2, (Coverage("k", similarity, similarity > 0.3, ""),), (), "same")


def test_an_answer_like_a_graded_one_moves_towards_its_grade():
    texts = ["pooling shrinks the maps", "something else", "pooling shrinks the maps"]
    found = learn(Same(), texts, [suggestion(2), suggestion(2), suggestion(2)], {0: 0.0, 1: 2.0}, 0.3)
    assert set(found) == {2}
    assert found[2].points < 2 and found[2].nearest == 1.0


def test_without_grades_nothing_is_learned():
    assert learn(Same(), ["a b"], [suggestion(1)], {}, 0.3) == {}


def test_the_least_sure_come_first():
    texts = ["a a", "b b", "c c"]
    found = learn(Same(), texts, [suggestion(1), suggestion(1, similarity=0.31), suggestion(1)], {0: 1.0}, 0.3)
    assert least_sure_first(found) == [1, 2]


@pytest.fixture(scope="module")
def labelled(catalog):
    return load_labelled(STUDENT_STYLE, catalog)


@pytest.mark.parametrize("graded", [1, 3])
def test_the_less_sure_half_holds_the_errors(catalog, labelled, graded):
    learning = simulate_learning(Suggester(make_similarity("lexical", catalog)), catalog, labelled, graded)
    assert learning.error_least_sure > 1.5 * learning.error_surer, learning
    assert learning.correlation >= learning.coverage_correlation - 0.05 and abs(learning.bias) <= 0.2, learning


def test_the_workspace_shows_ungraded_groups_first_once_some_are_graded(tmp_path, catalog):
    pytest.importorskip("starlette")
    pytest.importorskip("multipart", reason="python-multipart (the review extra) reads the forms")
    from starlette.testclient import TestClient

    from tests.review.test_review_fixtures import make_out

    out = make_out(tmp_path)
    client = TestClient(create_app(out, token="t", who="tester", model="lexical", catalog=catalog))
    assert client.get("/?token=t").status_code == 200
    q12 = "conv-arithmetic/q12"
    page = client.get(f"/q/{q12}").text
    first = re.findall(r'id="g(\d+)"', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    members = re.findall(r'name="student" value="([^"]+)"', page.split(f'id="g{first[0]}"')[1].split('id="g')[0])
    response = client.post(f"/q/{q12}", data={"student": members, "points": "2", "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    after = re.findall(r'id="g(\d+)"', client.get(f"/q/{q12}").text)
    assert sorted(after) == sorted(first) and after[-1] == first[0], "the graded group goes last"
