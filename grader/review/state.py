"""What the review server holds (``app.state.review``) and what its forms change: the
workspace, its written answers grouped and given suggested points once at start, and the
instructor's decisions, read from and written to their files, each one followed by the
student's result and the exports regenerated."""

from __future__ import annotations

from pathlib import Path

from grader.errors import GraderError
from grader.quiz import variants
from grader.quiz.answers import Grade
from grader.quiz.bank import Catalog
from grader.review.decisions import Decisions, Via
from grader.review.groups import Group, group_answers
from grader.review.learn import learned_suggestions
from grader.review.regenerate import regenerate
from grader.review.suggest import Suggestion, default_suggester
from grader.review.workspace import Workspace


class ReviewInputError(GraderError):
    """A form value the workspace cannot take (points out of range, unknown student)."""


class Review:
    """The workspace's state for the pages: groups and suggestions computed once at start,
    decisions read from (and written to) their files."""

    def __init__(
        self,
        out: Path,
        catalog: Catalog,
        who: str,
        model: str | None = None,
        course_secret: bytes | None = None,
        practice: bool = False,
    ) -> None:
        self.out, self.catalog = out, catalog
        self.workspace = Workspace.load(out, catalog)
        self.secret = course_secret if course_secret is not None else variants.course_secret()
        self.workspace.refuse_without_secret(self.secret, practice)  # before anything is written
        self.decisions = Decisions(out, who)
        self.suggester, self.model_note = default_suggester(catalog, model)
        self.groups: dict[str, list[Group]] = {}
        self.suggestions: dict[str, dict[str, Suggestion]] = {}
        for qid, question in self.workspace.questions.items():
            self.groups[qid] = group_answers(question.answers)
            texts = [text for _, text in question.answers]
            found = self.suggester.suggest(question.question.spec, qid, texts)
            self.suggestions[qid] = {student: s for (student, _), s in zip(question.answers, found)}
        regenerate(out, catalog=catalog, secret=self.secret)  # decisions made by hand or by an older run are applied

    def progress(self, qid: str) -> tuple[int, int]:
        answers = self.workspace.questions[qid].answers
        return sum(qid in self.decisions.grades(s) for s, _ in answers), len(answers)

    def notebook_reviewed(self, student: str) -> bool:
        return bool(self.decisions.meta(student))

    def overall(self) -> tuple[int, int]:
        done = total = 0
        for qid in self.workspace.questions:
            d, n = self.progress(qid)
            done, total = done + d, total + n
        for student in self.workspace.notebooks:
            done, total = done + self.notebook_reviewed(student), total + 1
        return done, total

    def learned(self, qid: str) -> tuple[dict[str, Suggestion], dict[str, float]]:
        """Suggestions learned from the grades given so far (grader/review/learn.py) and how sure
        each ungraded one is."""
        texts = dict(self.workspace.questions[qid].answers)
        grades = {s: g.points for s in texts if (g := self.decisions.grades(s).get(qid)) is not None}
        cover = self.suggester.thresholds.cover
        return learned_suggestions(self.suggester.similarity, cover, texts, self.suggestions[qid], grades)

    def grade(self, qid: str, students: list[str], points: float, comment: str) -> None:
        question = self.workspace.questions[qid].question
        if not 0 <= points <= question.points or (points * 2) % 1:
            raise ReviewInputError(f"points for {qid} must be 0 to {question.points:g} in steps of 0.5, got {points:g}")
        known = dict(self.workspace.questions[qid].answers)
        unknown = [s for s in students if s not in known]
        if unknown or not students:
            raise ReviewInputError(f"no answer to {qid} from {', '.join(unknown) or 'nobody'}")
        via = Via.GROUP if len(students) > 1 else Via.ANSWER
        shown, _ = self.learned(qid)
        for student in students:
            self.decisions.record(student, qid, Grade(points, comment), via, shown[student].points)
        regenerate(self.out, students, self.catalog, self.secret)

    def override(self, student: str, check: str, points: float, comment: str) -> None:
        result = self.workspace.notebooks[student]
        spec = next((c for c in result.checks if c.check == check), None)
        if spec is None:
            raise ReviewInputError(f"{student}'s notebook has no check {check!r}")
        if not 0 <= points <= spec.points_possible:
            raise ReviewInputError(f"points for {check} must be 0 to {spec.points_possible:g}, got {points:g}")
        self.decisions.record(student, check, Grade(points, comment), Via.CHECK)
        regenerate(self.out, [student], self.catalog, self.secret)

    def mark_reviewed(self, student: str) -> None:
        self.decisions.mark_reviewed(student)
        regenerate(self.out, [student], self.catalog, self.secret)
