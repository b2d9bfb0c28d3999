"""Results, feedback pages and exports recomputed from the instructor's decisions.

For an answer sheet the sheet is graded again in-process with the student's grades file
(exactly what ``grader quiz check SHEET --grades FILE`` does); for a notebook the batch's
result document has the overridden checks' points replaced. The batch's own result
(``feedback/STUDENT/result.json``) is kept as it was; the reviewed one is written beside it
(``reviewed.json``) and the feedback page is rewritten to show it. The student's row in
``results/`` gets the reviewed points (the automatic ones stay in ``auto_points``), so a
resumed ``grader batch`` keeps them, and the gradebook, exports and class report are written
again (:func:`grader.batch.exports.export`, as `grader export` does).
Recomputing from the decisions each time makes this safe to run any number of times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader.atomic import write_atomically
from grader.batch.store import BatchRow, sentences, write_row
from grader.errors import AnswerSheetError, CourseSecretError
from grader.quiz.answers import Grade
from grader.quiz.bank import Catalog
from grader.quiz.kinds import is_written
from grader.quiz.results import QuestionStatus
from grader.results import load_notebook_result
from grader.review.decisions import Decisions
from grader.review.workspace import WorkspaceError, is_notebook, is_sheet, read_rows

if TYPE_CHECKING:
    from grader.notebooks.checks import CheckResult
    from grader.notebooks.results import NotebookResult


def regenerate(
    out: Path, students: Iterable[str] | None = None, catalog: Catalog | None = None, secret: bytes | None = None
) -> list[BatchRow]:
    """Recompute the reviewed students' results (all of them, or ``students``) and rewrite
    the gradebook and exports; returns every row, in the gradebook's order. A sheet is graded
    again on the numbers the batch graded it on: practice ones for a row graded on practice
    numbers, else with the course ``secret`` (None: the environment's)."""
    catalog = catalog or Catalog.load()
    rows = read_rows(out)
    decisions = Decisions(out, who="")
    todo = decisions.reviewed_students() if students is None else list(students)
    for student in todo:
        if student not in rows:
            raise WorkspaceError(f"{out}: decisions for {student!r}, who has no result in results/")
        row = _with_automatic(rows[student])
        grades = decisions.grades(student)
        feedback = out / "feedback" / student
        if is_sheet(row) and not row.status.is_failure:
            row = _sheet(catalog, row, decisions.grades_path(student) if grades else None, feedback, secret)
        elif is_notebook(row) and (feedback / "result.json").is_file():
            row = _notebook(row, grades, feedback, reviewed=bool(decisions.meta(student)))
        else:
            continue
        rows[student] = row
        write_row(out, row)
    ordered = [rows[s] for s in sorted(rows)]
    write_exports(out)
    return ordered


def _with_automatic(row: BatchRow) -> BatchRow:
    """The row keeping the batch's own points and message (``auto_*``) the first time a
    review changes them: every later review starts again from those."""
    return replace(
        row,
        auto_points=row.points if row.auto_points is None else row.auto_points,
        auto_message=row.message if row.auto_message is None else row.auto_message,
    )


def _sheet(
    catalog: Catalog, row: BatchRow, grades_path: Path | None, feedback: Path, secret: bytes | None = None
) -> BatchRow:
    from grader.quiz.render import report_html, result_document
    from grader.quiz.sheets import grade_sheet, read_grades
    from grader.quiz.variants import HOW_TO_GIVE, course_secret

    practice = row.practice_check  # graded on practice numbers by the batch: again on them
    try:
        grades = read_grades(grades_path, catalog) if grades_path else None
        key = None if practice else secret or course_secret()
        result = grade_sheet(catalog, row.submission, None, grades, secret=key)
    except (AnswerSheetError, CourseSecretError) as exc:
        raise WorkspaceError(f"cannot regrade {row.student}: {exc}") from None
    if result.practice_check and not practice:  # never replace a graded score by one on practice numbers
        raise WorkspaceError(
            f"cannot regrade {row.student}: the sheet names a student, whose graded variant "
            f"needs the course secret: start grader review with it ({HOW_TO_GIVE})"
        )
    write_atomically(feedback / "reviewed.json", json.dumps(result_document(result), indent=1))
    write_atomically(feedback / "feedback.html", report_html(result))
    written = [
        r
        for r in result.results
        if is_written(r.type) and r.status in (QuestionStatus.REVIEWED, QuestionStatus.NEEDS_REVIEW)
    ]
    done = sum(r.status is QuestionStatus.REVIEWED for r in written)
    note = f"written answers reviewed: {done} of {len(written)}" if written else ""
    if result.pending_review:
        note = sentences(note, f"{result.pending_review:g} points await review")
    return replace(
        row,
        points=result.points,
        points_possible=result.points_possible,
        pending_points=result.pending_review,
        message=sentences(row.auto_message or "", note),
        reviewed={"written": done, "of": len(written)},
    )


def reviewed_result(result: NotebookResult, grades: dict[str, Grade]) -> NotebookResult:
    """The notebook result with the instructor's points for the overridden checks."""
    return replace(result, checks=tuple(_reviewed_check(c, grades.get(c.check)) for c in result.checks))


def _reviewed_check(check: CheckResult, grade: Grade | None) -> CheckResult:
    """The check with the instructor's points, kept exactly, and their note after its message."""
    if grade is None:
        return check
    possible = check.points_possible
    if not 0 <= grade.points <= possible:
        raise WorkspaceError(f"{check.check}: points must be from 0 to {possible:g}, got {grade.points:g}")
    note = f"Instructor: {grade.points:g}/{possible:g}" + (f" ({grade.comment})" if grade.comment else "")
    fraction = round(grade.points / possible, 4) if possible else 0.0
    return replace(check, fraction=fraction, message=sentences(check.message, note) + ".", awarded=grade.points)


def _notebook(row: BatchRow, grades: dict[str, Grade], feedback: Path, reviewed: bool) -> BatchRow:
    original = load_notebook_result(feedback / "result.json")
    result = reviewed_result(original, grades)
    write_atomically(feedback / "reviewed.json", json.dumps(result.document(), indent=1))
    changed = sum(1 for c in original.checks if c.check in grades)
    note = (f"instructor changed {changed} check(s)" if changed else "") or ("reviewed" if reviewed else "")
    return replace(
        row,
        points=result.points,
        points_possible=result.points_possible,
        message=sentences(row.auto_message or "", note),
        reviewed={"checks_changed": changed},
    )


def write_exports(out: Path) -> None:
    """The gradebook, exports, class report and notebook pages, through the batch's own
    exporters (a notebook's page is drawn again because its reviewed document is newer)."""
    from grader.batch.exports import export

    export(out)
