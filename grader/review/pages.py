"""What each page of the review shows, built from the review's state as small dataclasses
(no request, no HTML): the handlers render them with the templates, the tests read them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from grader.notebooks.status import Status
from grader.quiz.answers import Grade
from grader.review.decisions import NOTEBOOK_REVIEWED, Decided
from grader.review.regenerate import reviewed_result
from grader.review.state import Review
from grader.review.suggest import Suggestion


def context(page: Any) -> dict[str, Any]:
    """A page's fields as the template's variables (one level: nested values stay typed)."""
    return {f.name: getattr(page, f.name) for f in fields(page)}


@dataclass(frozen=True)
class QuestionLine:
    """A written question on the overview: how far its review is."""

    id: str
    title: str
    done: int
    total: int
    groups: int
    points: float


@dataclass(frozen=True)
class NotebookLine:
    """A graded notebook on the overview."""

    student: str
    points: float
    possible: float
    status: Status
    reviewed: bool


@dataclass(frozen=True)
class IndexPage:
    questions: tuple[QuestionLine, ...]
    notebooks: tuple[NotebookLine, ...]
    students: int
    problems: tuple[str, ...]
    model: str
    model_note: str


def index_page(review: Review) -> IndexPage:
    workspace = review.workspace
    questions = []
    for qid, q in workspace.questions.items():
        done, total = review.progress(qid)
        questions.append(
            QuestionLine(qid, q.question.spec.get("title", ""), done, total, len(review.groups[qid]), q.question.points)
        )
    notebooks = tuple(
        NotebookLine(
            s,
            workspace.rows[s].points,
            workspace.rows[s].points_possible,
            d.status,
            review.notebook_reviewed(s),
        )
        for s, d in workspace.notebooks.items()
    )
    return IndexPage(
        tuple(questions),
        notebooks,
        len(workspace.rows),
        tuple(workspace.problems),
        review.suggester.similarity.name,
        review.model_note,
    )


@dataclass(frozen=True)
class Answer:
    """One student's answer as the question page shows it."""

    student: str
    text: str
    suggestion: Suggestion
    grade: Grade | None
    decided: Decided | None


@dataclass(frozen=True)
class AnswerGroup:
    """Identical or near-identical answers, graded at once (``grade``: the one all members have)."""

    number: int
    key: str  # the student whose answer stands for the group
    text: str
    members: tuple[Answer, ...]
    suggestion: Suggestion
    grade: Grade | None
    done: int  # members graded


@dataclass(frozen=True)
class QuestionPage:
    qid: str
    spec: dict[str, Any]  # the bank's question: title, prompt, key points, model answer, points
    groups: tuple[AnswerGroup, ...]
    done: int
    total: int
    previous: str | None
    next: str | None
    steps: tuple[float, ...]  # the points a button gives


def _answers(review: Review, qid: str, shown: dict[str, Suggestion]) -> dict[str, Answer]:
    decisions = review.decisions
    return {
        s: Answer(s, t, shown[s], decisions.grades(s).get(qid), decisions.decided(s).get(qid))
        for s, t in review.workspace.questions[qid].answers
    }


def _groups(review: Review, qid: str) -> list[AnswerGroup]:
    """The question's groups; once some are graded, the least sure ungraded ones first."""
    shown, sure = review.learned(qid)
    answers = _answers(review, qid, shown)
    groups = []
    for number, group in enumerate(review.groups[qid], start=1):
        members = tuple(answers[s] for s in group.members)
        decided = {m.grade for m in members}
        grade = decided.pop() if len(decided) == 1 else None
        done = sum(m.grade is not None for m in members)
        groups.append(AnswerGroup(number, group.key, group.text, members, answers[group.key].suggestion, grade, done))
    groups.sort(key=lambda g: (g.done == len(g.members), sure.get(g.key, 1.0)) if sure else 0)
    return groups


def question_page(review: Review, qid: str) -> QuestionPage:
    spec = review.workspace.questions[qid].question.spec
    done, total = review.progress(qid)
    ids = list(review.workspace.questions)
    position = ids.index(qid)
    return QuestionPage(
        qid,
        spec,
        tuple(_groups(review, qid)),
        done,
        total,
        ids[position - 1] if position else None,
        ids[position + 1] if position + 1 < len(ids) else None,
        tuple(i / 2 for i in range(int(spec["points"] * 2) + 1)),
    )


@dataclass(frozen=True)
class CheckLine:
    """A notebook's check: its points now, the grader's own, and the instructor's decision."""

    check: str
    points: float
    points_possible: float
    fraction: float
    auto_points: float
    auto_message: str
    grade: Grade | None
    decided: Decided | None


@dataclass(frozen=True)
class NotebookPage:
    student: str
    assignment: str
    notebook: str
    points: float  # with the instructor's overrides
    points_possible: float
    status: Status
    measured_accuracy: float | None
    messages: tuple[str, ...]
    checks: tuple[CheckLine, ...]
    reviewed: Decided | None
    has_notebook: bool
    next: str | None


def notebook_page(review: Review, student: str) -> NotebookPage:
    grades = review.decisions.grades(student)
    decided = review.decisions.decided(student)
    original = review.workspace.notebooks[student]
    auto = {c.check: c for c in original.checks}
    result = reviewed_result(original, grades)
    checks = tuple(
        CheckLine(
            c.check,
            c.points,
            c.points_possible,
            c.fraction,
            auto[c.check].points,
            auto[c.check].message,
            grades.get(c.check),
            decided.get(c.check),
        )
        for c in result.checks
    )
    students = list(review.workspace.notebooks)
    position = students.index(student)
    return NotebookPage(
        student,
        result.assignment,
        result.notebook,
        result.points,
        result.points_possible,
        result.status,
        result.measured_accuracy,
        result.messages,
        checks,
        decided.get(NOTEBOOK_REVIEWED),
        review.workspace.executed_notebook(student) is not None,
        students[position + 1] if position + 1 < len(students) else None,
    )
