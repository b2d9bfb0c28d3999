"""What a batch output folder (``grader batch ... --out OUT``) holds, read for review: one
row per student (``results/STUDENT.json``), the written answers of the answer sheets they
name, and the graded notebooks' result documents (``feedback/STUDENT/result.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.batch import store
from grader.batch.store import BatchOutputError, BatchRow
from grader.batch.submissions import SubmissionKind, kind_of, listed
from grader.errors import AnswerSheetError, CourseSecretError, GraderError, InputFileError
from grader.quiz.bank import Catalog, Question
from grader.quiz.kinds import is_written
from grader.quiz.sheets import read_sheet
from grader.quiz.variants import HOW_TO_GIVE
from grader.results import ResultDocumentError, load_notebook_result

if TYPE_CHECKING:
    from grader.notebooks.results import NotebookResult


class WorkspaceError(GraderError):
    """OUT is not a batch output folder, or a file in it cannot be read."""


def _kind(row: BatchRow) -> SubmissionKind:
    """The kind the batch decided when it found the submission (older rows: from the suffix)."""
    return row.kind or kind_of(Path(row.submission), None)


def is_sheet(row: BatchRow) -> bool:
    return bool(row.submission) and _kind(row) is SubmissionKind.SHEET


def is_notebook(row: BatchRow) -> bool:
    return bool(row.submission) and _kind(row) is SubmissionKind.NOTEBOOK


def read_rows(out: Path) -> dict[str, BatchRow]:
    """Every student's stored row, by student id, sorted by it (:func:`grader.batch.store.read_rows`),
    with the review's error when ``out`` is not a batch's output."""
    try:
        return store.read_rows(out)
    except BatchOutputError as exc:
        raise WorkspaceError(str(exc)) from None


@dataclass
class WrittenQuestion:
    question: Question
    answers: list[tuple[str, str]] = field(default_factory=list)  # (student, text), students in order

    @property
    def id(self) -> str:
        return self.question.id


@dataclass
class Workspace:
    out: Path
    catalog: Catalog
    rows: dict[str, BatchRow]
    questions: dict[str, WrittenQuestion]  # written questions someone answered, in bank order
    notebooks: dict[str, NotebookResult]  # student -> the batch's result of their notebook
    problems: list[str]  # what could not be read (shown on the overview page)
    named: list[str] = field(default_factory=list)  # students whose graded sheet names a student (student: line)

    @classmethod
    def load(cls, out: Path, catalog: Catalog) -> Workspace:
        rows = read_rows(out)
        questions = {q.id: WrittenQuestion(q) for b in catalog.banks for q in b.questions if is_written(q.type)}
        notebooks, problems, named = {}, [], []
        for student, row in rows.items():
            if is_sheet(row) and not row.status.is_failure:
                try:
                    sheet = read_sheet(row.submission, catalog)
                except (AnswerSheetError, InputFileError) as exc:
                    problems.append(f"{student}: {exc}")
                    continue
                if "student" in sheet.meta:
                    named.append(student)
                for qid, text in sheet.written_answers(catalog).items():
                    questions[qid].answers.append((student, text))
            elif is_sheet(row):
                problems.append(f"{student}: {row.status}: {row.message or 'not graded'}")
            elif is_notebook(row):
                path = out / "feedback" / student / "result.json"
                try:
                    notebooks[student] = load_notebook_result(path)
                except ResultDocumentError as exc:
                    problems.append(f"{student}: no notebook result to review ({exc})")
        answered = {qid: q for qid, q in questions.items() if q.answers}
        return cls(out, catalog, rows, answered, notebooks, problems, named)

    def refuse_without_secret(self, secret: bytes | None, practice: bool) -> None:
        """A sheet is regraded on the numbers the batch graded it on: practice numbers only when
        the instructor asks for practice (``--practice``), graded numbers only with the course secret."""
        practised = [s for s, row in self.rows.items() if is_sheet(row) and row.practice_check]
        if practised and not practice:
            raise CourseSecretError(
                f"{self.out}: {len(practised)} answer sheet(s) were graded without the course secret, on practice "
                f"numbers or a handed-out sheet's own numbers, unverified ({listed(practised)}): grade them again with "
                f"grader batch SUBMISSIONS --out {self.out} --secret-file PATH, or review them on those numbers "
                "with --practice"
            )
        graded = [s for s in self.named if not self.rows[s].practice_check]
        if graded and secret is None:
            raise CourseSecretError(
                f"{self.out}: {len(graded)} answer sheet(s) name a student ({listed(graded)}) and were graded "
                f"on their graded numbers, so regrading them needs the course secret: give it by {HOW_TO_GIVE} "
                "(--practice only reviews sheets the batch graded on practice numbers)"
            )

    def executed_notebook(self, student: str) -> Path | None:
        """The executed notebook the batch kept for ``student``, if it is still there."""
        result = self.notebooks.get(student)
        name = result.executed_notebook if result else None
        path = Path(name) if name else None
        if path is None or not path.is_file():
            candidates = sorted((self.out / "feedback" / student).glob("*.executed.ipynb"))
            path = candidates[0] if candidates else None
        return path
