"""The class report an instructor looks at after a batch: distributions, the questions the
class found hard, the slips many students made, and the students to look at.

It is computed only from what a batch stored (each student's row and result document),
so it can be written again at any time (after a review, by ``grader export``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from grader.notebooks.flags import Flag
from grader.quiz.results import QuestionResult, QuestionStatus, SheetResult

if TYPE_CHECKING:
    from grader.batch.store import BatchRow
    from grader.results import Result
    from grader.similarity.result import Similarity

FLAGS_TO_LOOK_AT = tuple(flag for flag in Flag if flag.for_instructor)


@dataclass(frozen=True)
class QuestionStats:
    """How the class did on one quiz question."""

    id: str
    type: str
    points_possible: float
    answered: int
    students: int
    share_correct: float
    mean_points: float
    discrimination: float | None  # correlation of this question's score with the rest of the total
    slips: tuple[tuple[str, int], ...]  # misconception -> number of students, most common first
    awaiting_review: int = 0  # written answers no instructor has scored yet


@dataclass(frozen=True)
class ClassReport:
    assignment: str
    students: int
    scores: tuple[float, ...]
    points_possible: float
    statuses: dict[str, int]
    questions: tuple[QuestionStats, ...] = ()
    common_slips: tuple[tuple[str, str, int], ...] = ()  # (question, slip, students)
    accuracies: tuple[float, ...] = ()
    gaps: tuple[float, ...] = ()  # printed minus measured accuracy, where both are known
    training_seconds: tuple[float, ...] = ()
    look_at: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    pending: tuple[BatchRow, ...] = ()  # the students whose totals are not final: points still to review
    similarity: Similarity | None = None  # the batch's similar submissions (OUT/similarity.json)

    @property
    def pending_points(self) -> float:
        return sum(r.pending_points for r in self.pending)

    @property
    def mean(self) -> float | None:
        return statistics.mean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None when either side does not vary (every student scored the same)."""
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(xs, ys)


def question_stats(
    sheets: Sequence[SheetResult],
) -> tuple[tuple[QuestionStats, ...], tuple[tuple[str, str, int], ...]]:
    """Per-question statistics over the answer sheets of a class."""
    totals = [sheet.points for sheet in sheets]
    by_id: dict[str, list[QuestionResult | None]] = {}
    for index, sheet in enumerate(sheets):
        for q in sheet.results:
            if q.counted:
                by_id.setdefault(q.id, [None] * len(sheets))[index] = q
    stats, slips_all = [], []
    for qid, answers in by_id.items():
        present = [a for a in answers if a is not None]
        scores = [a.points if a else 0.0 for a in answers]
        rest = [total - score for total, score in zip(totals, scores)]
        slips = Counter(s for a in present for s in set(a.misconceptions))
        ranked = tuple(slips.most_common())
        slips_all += [(qid, slip, n) for slip, n in ranked]
        stats.append(
            QuestionStats(
                id=qid,
                type=present[0].type,
                points_possible=present[0].points_possible,
                answered=sum(a.status is not QuestionStatus.UNANSWERED for a in present),
                students=len(answers),
                share_correct=sum(a.status is QuestionStatus.CORRECT for a in present) / len(answers),
                mean_points=statistics.mean(scores),
                discrimination=correlation(scores, rest),
                slips=ranked,
                awaiting_review=sum(a.status is QuestionStatus.NEEDS_REVIEW for a in present),
            )
        )
    common = tuple(sorted(slips_all, key=lambda t: (-t[2], t[0], t[1])))
    return tuple(stats), common


def build(rows: Sequence[BatchRow], results: Mapping[str, Result], assignment: str) -> ClassReport:
    """The report from the batch's rows and each student's stored result (read from its
    document: :func:`grader.results.load_result`)."""
    statuses = Counter(str(r.status) for r in rows)
    sheets = [result for r in rows if isinstance(result := results.get(r.student), SheetResult)]
    questions, common = question_stats(sheets) if sheets else ((), ())
    notebooks = [
        (r, result) for r in rows if (result := results.get(r.student)) and not isinstance(result, SheetResult)
    ]
    accuracies = tuple(d.measured_accuracy for _, d in notebooks if d.measured_accuracy is not None)
    gaps = tuple(
        d.claimed_accuracy - d.measured_accuracy
        for _, d in notebooks
        if d.measured_accuracy is not None and d.claimed_accuracy is not None
    )
    seconds = tuple(d.training["seconds"] for _, d in notebooks if d.training)
    look_at = []
    for row, result in notebooks:
        flags = [f for f in result.flags if f in FLAGS_TO_LOOK_AT]
        if flags or row.status.is_failure:
            look_at.append(
                {
                    "student": row.student,
                    "status": str(row.status),
                    "flags": flags,
                    "measured": result.measured_accuracy,
                    "claimed": result.claimed_accuracy,
                    "message": row.message,
                }
            )
    return ClassReport(
        assignment=assignment,
        students=len(rows),
        scores=tuple(r.points for r in rows),
        points_possible=max((r.points_possible for r in rows), default=0),
        statuses=dict(statuses.most_common()),
        questions=questions,
        common_slips=common[:15],
        accuracies=accuracies,
        gaps=gaps,
        training_seconds=seconds,
        look_at=tuple(look_at),
        pending=tuple(r for r in rows if r.pending_points),
    )


def with_similarity(report: ClassReport, similarity: Similarity | None) -> ClassReport:
    """The report with the batch's similar submissions (its section links to similarity.html)."""
    return replace(report, similarity=similarity)


def render(report: ClassReport) -> str:
    """The class report page (one file: figures inline)."""
    from grader.pages import figures
    from grader.pages import render as render_page

    charts = [
        (
            "Scores",
            figures.histogram(
                report.scores, "Score distribution", "points", value_range=(0, report.points_possible or 1)
            ),
        ),
        ("Statuses", figures.bars(report.statuses, "Results by status")),
    ]
    if report.accuracies:
        charts.append(
            (
                "Measured accuracy",
                figures.histogram(
                    [100 * a for a in report.accuracies], "Measured accuracy on held-out data", "accuracy (%)"
                ),
            )
        )
    if report.gaps:
        charts.append(
            (
                "Printed minus measured",
                figures.histogram(
                    [100 * g for g in report.gaps], "Printed minus measured accuracy", "percentage points"
                ),
            )
        )
    if report.training_seconds:
        charts.append(("Training time", figures.histogram(report.training_seconds, "Training time", "seconds")))
    texts = chart_texts(report)
    return render_page(
        "class_report.html.j2",
        report=report,
        hardest=hardest_first(report.questions),
        charts=[{"title": t, "uri": uri, "alt": texts[t]} for t, uri in charts if uri],
    )


def chart_texts(report: ClassReport) -> dict[str, str]:
    """Each chart's alternative text: what it shows, in words."""
    from grader.pages import alt_text

    return {
        "Scores": alt_text.distribution(report.scores, "Scores", "points"),
        "Statuses": alt_text.counts(report.statuses, "Results by status"),
        "Measured accuracy": alt_text.distribution([100 * a for a in report.accuracies], "Measured accuracy", "%"),
        "Printed minus measured": alt_text.distribution(
            [100 * g for g in report.gaps], "Printed minus measured accuracy", "percentage points"
        ),
        "Training time": alt_text.distribution(report.training_seconds, "Training time", "seconds"),
    }


def hardest_first(stats: Iterable[QuestionStats]) -> list[QuestionStats]:
    """By mean share of the points; a question no one answered, or whose every answer awaits
    review, says nothing yet about how hard it is: those come last."""

    def key(q: QuestionStats) -> tuple[bool, float, str]:
        unknown = q.answered == 0 or q.awaiting_review == q.answered
        return unknown, q.mean_points / q.points_possible if q.points_possible else 1, q.id

    return sorted(stats, key=key)
