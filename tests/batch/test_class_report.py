"""The class report: per-question statistics checked against figures worked out by hand
for a class of 8, and the page showing every figure with student text escaped."""

from __future__ import annotations

import math

import pytest

from grader.batch import class_report
from grader.batch.store import BatchRow, RowStatus
from grader.notebooks.flags import Flag
from grader.notebooks.results import NotebookResult
from grader.notebooks.status import Status
from grader.quiz.render import result_document
from grader.quiz.sheets import grade_sheet
from grader.results import result_from_document

# Eight students answer two questions of cnn-exercises (2 points each; default variant).
# q2a: students 0-5 right, 6-7 wrong. q2b: 0-2 right, 3-5 left the parameters out ("9 MB"),
# 6-7 left it blank. Totals: 4, 4, 4, 2, 2, 2, 0, 0.
Q2A = ["903400"] * 6 + ["12345", "1"]
Q2B = ['"12613600 B"'] * 3 + ['"9 MB"'] * 3 + ["~", "~"]


@pytest.fixture(scope="module")
def results(tmp_path_factory, catalog):
    """Each student's result as a batch reads it back: from its stored document."""
    folder = tmp_path_factory.mktemp("class")
    read = {}
    for i, (a, b) in enumerate(zip(Q2A, Q2B)):
        sheet = folder / f"s{i}.yaml"
        sheet.write_text(f"cnn-exercises/q2a: {a}\ncnn-exercises/q2b: {b}\n")
        read[f"s{i}"] = result_from_document(result_document(grade_sheet(catalog, sheet)))
    return read


@pytest.fixture(scope="module")
def report(results):
    rows = [BatchRow(s, RowStatus.GRADED, r.points, r.points_possible) for s, r in results.items()]
    return class_report.build(rows, results, "quiz")


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def test_totals_are_what_the_answers_earn(report):
    assert report.scores == (4, 4, 4, 2, 2, 2, 0, 0)


def test_share_correct_mean_and_discrimination_per_question(report):
    stats = {q.id: q for q in report.questions}
    q2a, q2b = stats["cnn-exercises/q2a"], stats["cnn-exercises/q2b"]
    assert q2a.share_correct == 6 / 8 and q2a.mean_points == 12 / 8
    assert q2b.share_correct == 3 / 8 and q2b.mean_points == 6 / 8
    assert q2b.answered == 6 and q2b.students == 8
    # rest of the total: q2a -> [2, 2, 2, 0, 0, 0, 0, 0]; q2b -> [2, 2, 2, 2, 2, 2, 0, 0]
    assert q2a.discrimination == pytest.approx(pearson([2] * 6 + [0, 0], [2, 2, 2, 0, 0, 0, 0, 0]))
    assert q2b.discrimination == pytest.approx(pearson([2, 2, 2, 0, 0, 0, 0, 0], [2] * 6 + [0, 0]))
    assert stats["cnn-exercises/q1"].discrimination is None, "nobody scored: no correlation"


def test_the_most_common_slip_is_counted_once_per_student(report):
    assert report.common_slips[0] == ("cnn-exercises/q2b", "parameters_left_out", 3)


def test_the_page_shows_every_figure_and_escapes_names(report):
    page = class_report.render(report)
    assert page.count("data:image/png;base64,") == 2  # scores and statuses (no notebooks here)
    assert "parameters left out" in page and 'id="questions"' in page
    student = "<script>alert(1)</script>"
    hostile = class_report.build(
        [BatchRow(student, RowStatus.ERROR, 0, 10, "<b>boom</b>")],
        {student: NotebookResult("n.ipynb", "mnist-cnn", Status.ERROR, (), "MNIST", flags=(Flag.NEVER_TRAINED,))},
        "mnist-cnn",
    )
    page = class_report.render(hostile)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;boom" in page
