"""What a batch writes for people and other systems: the gradebook, the Canvas import CSV,
Gradescope results, the class summary, the class report and the feedback pages.

Every exporter reads only what the batch stored (:class:`StoredBatch`: the rows in
results/, each student's result document, batch.json), so ``grader export OUT``, the
review workspace and the batch itself write the same files with the same code, at any time.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.atomic import write_atomically, write_csv_atomically
from grader.batch.store import BatchInfo, BatchOutputError, BatchRow, CanvasPending, RowStatus, read_rows
from grader.errors import GraderError
from grader.quiz.results import QuestionStatus, SheetResult
from grader.quiz.variants import VariantKind
from grader.results import ResultDocumentError, load_result
from grader.roster import kept_roster

if TYPE_CHECKING:
    from grader.results import Result

GRADEBOOK_FIELDS = (
    "student",
    "status",
    "points",
    "points_possible",
    "pending_points",  # still to review: not in points until a person has decided them
    "score_status",  # final, or pending_review while pending_points is not 0
    "message",
    "submission",
    "seconds",
)


@dataclass(frozen=True)
class StoredBatch:
    """A batch output folder as stored: the batch's rows in its order, and the result of
    each student that has one (the reviewed one when there is one), read from its document."""

    out: Path
    info: BatchInfo
    rows: tuple[BatchRow, ...]
    results: dict[str, Result]
    document_files: dict[str, Path]

    @classmethod
    def load(cls, out: Path) -> StoredBatch:
        stored = read_rows(out)
        info = BatchInfo.read(out, stored)
        rows = tuple(stored[s] for s in info.students)
        results, files = {}, {}
        for row in rows:
            found = _result(out / "feedback" / row.student, row)
            if found:
                files[row.student], results[row.student] = found
        rows = tuple(_with_pending(row, results.get(row.student)) for row in rows)
        return cls(out, info, rows, results, files)

    @property
    def points_possible(self) -> float:
        return max((r.points_possible for r in self.rows), default=0)

    @property
    def pending(self) -> tuple[BatchRow, ...]:
        """The rows whose points are not final: some still wait for a person's decision."""
        return tuple(r for r in self.rows if r.pending_points)


def _with_pending(row: BatchRow, result: Result | None) -> BatchRow:
    """A row stored before rows recorded their pending points (0 there) takes them from its
    sheet's result, whose document has always recorded its questions to review."""
    if row.pending_points or not isinstance(result, SheetResult):
        return row
    return replace(row, pending_points=float(result.pending_review))


def _result(feedback: Path, row: BatchRow) -> tuple[Path, Result] | None:
    """The student's result (reviewed.json, else result.json) if it is this row's: a grading
    that failed after an earlier one succeeded leaves the earlier document behind."""
    for path in (feedback / "reviewed.json", feedback / "result.json"):
        if not path.is_file():
            continue
        try:
            result = load_result(path)
        except ResultDocumentError as exc:
            raise BatchOutputError(str(exc)) from None
        status = RowStatus.GRADED if isinstance(result, SheetResult) else RowStatus(result.status)
        if status is row.status and math.isclose(result.points, row.points, abs_tol=1e-6):
            return path, result
    return None


Exporter = Callable[[StoredBatch], list[Path]]  # writes its files from the stored batch, returns them


def _cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading quote (OWASP, CSV injection). Student ids and file
    names come from the students."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_csv(path: Path, table: list[list[Any]]) -> None:
    """Every CSV the batch writes: cells neutralised, the file replaced atomically."""
    write_csv_atomically(path, [[_cell(v) for v in row] for row in table])


def gradebook(batch: StoredBatch) -> list[Path]:
    path = batch.out / "gradebook.csv"
    _write_csv(path, [list(GRADEBOOK_FIELDS)] + [[getattr(r, f) for f in GRADEBOOK_FIELDS] for r in batch.rows])
    return [path]


def canvas_identities(batch: StoredBatch) -> dict[str, list[str]]:
    """Each student's five identifying cells in canvas.csv (Student, ID, SIS User ID, SIS Login
    ID, Section): from the roster the batch kept (OUT/roster.csv), found by the student line of
    the sheet graded, else by the id from the file name; without either, the id as Student and
    SIS Login ID."""
    roster = kept_roster(batch.out)
    cells = {}
    for row in batch.rows:
        result = batch.results.get(row.student)
        variant = result.variant if isinstance(result, SheetResult) else None
        on_sheet = variant.name if variant and variant.kind in (VariantKind.GRADED, VariantKind.SHEET) else None
        found = roster.find(on_sheet, row.student) if roster else None
        cells[row.student] = found.canvas_cells() if found else [row.student, "", "", row.student, ""]
    return cells


def canvas(batch: StoredBatch) -> list[Path]:
    """Canvas's gradebook import. A total that is not final is held out (the default: the
    summary lists who) or, with ``canvas_pending`` MARK, written with its pending points in
    a column whose "Points Possible" cell says read only, which Canvas's import skips."""
    path, possible = batch.out / "canvas.csv", batch.points_possible
    who = canvas_identities(batch)
    column = f"{batch.info.assignment} ({possible:g})"
    mark = batch.info.canvas_pending is CanvasPending.MARK
    rows = batch.rows if mark else tuple(r for r in batch.rows if not r.pending_points)
    extra = lambda cell: [cell] if mark else []
    _write_csv(
        path,
        [
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
            + extra(f"Pending review: {batch.info.assignment}"),
            ["Points Possible", "", "", "", "", f"{possible:g}"] + extra("(read only)"),
        ]
        + [[*who[r.student], f"{r.points:g}"] + extra(f"{r.pending_points:g}") for r in rows],
    )
    return [path]


class TestStatus(StrEnum):
    """A Gradescope test's ``status``: the only two its results format has."""

    PASSED = "passed"
    FAILED = "failed"


class Visibility(StrEnum):
    """When Gradescope shows a test (or, at the top, every test and the total) to the student."""

    VISIBLE = "visible"
    AFTER_PUBLISHED = "after_published"  # once the instructor publishes the grades


def gradescope(batch: StoredBatch) -> list[Path]:
    """Gradescope's autograder results: one test per quiz question or notebook check; one
    saying why when the submission has no result document (it could not be graded).

    Gradescope's results have no pending status (a test is passed or failed), so a written
    answer still to review is a test with neither a status nor a score, saying so, always
    visible; and while any is pending, the total is not final: it is kept from the student
    until the instructor publishes the grades (top-level visibility), with the pending points
    in ``extra_data``."""
    written = []
    for row in batch.rows:
        path = batch.out / "gradescope" / row.student / "results.json"
        output = f"{row.status}: {row.message}".strip(": ")
        results: dict[str, Any] = {"score": row.points, "output": output}
        if row.pending_points:
            results["output"] = (
                f"{output}. Not final: {row.pending_points:g} points of written answers await the instructor's "
                f"review; {row.points:g} of {row.points_possible:g} are scored so far."
            )
            results["visibility"] = Visibility.AFTER_PUBLISHED
            results["extra_data"] = {"pending_points": row.pending_points}
        results["tests"] = gradescope_tests(row, batch.results.get(row.student), batch.info.assignment)
        write_atomically(path, json.dumps(results))
        written.append(path)
    return written


def gradescope_tests(row: BatchRow, result: Result | None, assignment: str) -> list[dict[str, Any]]:
    """One test per question or check of the student's result; one saying why when there is none."""
    if result is None:
        return [_test(assignment, row.points, row.points_possible, row.message, passed=not row.status.is_failure)]
    if isinstance(result, SheetResult):
        return [
            _pending_test(q.id, q.points_possible)
            if q.status is QuestionStatus.NEEDS_REVIEW
            else _test(q.id, q.points, q.points_possible, "\n".join([q.status.replace("_", " "), *q.feedback]))
            for q in result.results
        ]
    return [_test(c.check, c.points, c.points_possible, c.message) for c in result.checks]


def _test(name: str, score: float, max_score: float, output: str, passed: bool | None = None) -> dict[str, Any]:
    """One Gradescope test: passed when it earned all its points, unless ``passed`` says otherwise."""
    passed = score >= max_score if passed is None else passed
    return {
        "name": name,
        "score": score,
        "max_score": max_score,
        "output": output,
        "status": TestStatus.PASSED if passed else TestStatus.FAILED,
    }


def _pending_test(name: str, points: float) -> dict[str, Any]:
    """A written answer no one has scored yet: no status and no score (Gradescope would call
    a score below the maximum failed), a text saying so, and its points in ``extra_data``."""
    return {
        "name": name,
        "output": f"Pending review: this written answer ({points:g} points) has not been scored yet; "
        "its points are added when the instructor has read it.",
        "visibility": Visibility.VISIBLE,
        "extra_data": {"pending_points": points},
    }


def class_summary(batch: StoredBatch) -> list[Path]:
    path = batch.out / "summary.txt"
    write_atomically(path, summary(batch.rows, batch.info))
    return [path]


def pending_lines(rows: tuple[BatchRow, ...], info: BatchInfo) -> list[str]:
    """What the summary says of totals that are not final, and what canvas.csv did with them."""
    pending = [r for r in rows if r.pending_points]
    if not pending:
        return []
    names = ", ".join(r.student for r in pending)
    return [
        f"pending review: {len(pending)} students, {sum(r.pending_points for r in pending):g} points of written "
        f"answers not yet decided ({', '.join(f'{r.student} {r.pending_points:g}' for r in pending)}): "
        "their totals are not final until `grader review` has decided them",
        f"canvas.csv: held out until reviewed: {names} (`grader export OUT --canvas-pending mark` writes "
        "them with their points so far, marked)"
        if info.canvas_pending is CanvasPending.HOLD
        else f"canvas.csv: marked with their pending points (a column Canvas's import skips): {names}",
    ]


def summary(rows: tuple[BatchRow, ...], info: BatchInfo) -> str:
    """The class summary: score distribution, failures by kind, points still to review, and
    what the batch graded under."""
    scores = [r.points for r in rows]
    lines = [f"{len(rows)} students graded"]
    if scores:
        lines.append(
            f"scores: min {min(scores):g}, median {statistics.median(scores):g}, "
            f"mean {statistics.mean(scores):.2f}, max {max(scores):g}"
        )
        possible = max(r.points_possible for r in rows) or 1
        buckets = [0] * 5
        for s in scores:
            buckets[min(4, int(5 * s / possible))] += 1
        for i, count in enumerate(buckets):
            lines.append(f"  {20 * i:>3}-{20 * (i + 1):<3}% {'#' * count} {count}")
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    lines += pending_lines(rows, info)
    if info.skipped:
        lines.append("skipped entries: " + "; ".join(info.skipped))
    lines.append("isolation: " + ("\n".join(info.context) or "not recorded"))
    return "\n".join(lines) + "\n"


def report(batch: StoredBatch) -> list[Path]:
    from grader.batch import class_report
    from grader.similarity.run import read_similarity

    path = batch.out / "report.html"
    built = class_report.build(batch.rows, batch.results, batch.info.assignment)
    built = class_report.with_similarity(built, read_similarity(batch.out))
    write_atomically(path, class_report.render(built))
    return [path]


def feedback_pages(batch: StoredBatch) -> list[Path]:
    """Notebook feedback pages missing or older than their document (a review changed it).
    Pages the batch's children wrote are not drawn again (their figures cost seconds each);
    an answer sheet's page needs the sheet graded again, which only grading and review do."""
    notebooks = {s: r for s, r in batch.results.items() if not isinstance(r, SheetResult)}
    if not notebooks:
        return []
    try:
        from grader.notebooks.report import html_page
    except ImportError:  # the notebooks extra, which graded any notebook in the first place, is missing
        return []
    written = []
    for student, result in notebooks.items():
        page, source = batch.out / "feedback" / student / "feedback.html", batch.document_files[student]
        if page.exists() and page.stat().st_mtime_ns >= source.stat().st_mtime_ns:
            continue
        try:
            html = html_page(result, _notebook_assignment(result.assignment))
        except (GraderError, ImportError, TypeError, ValueError, KeyError):
            continue  # an older document the page cannot show: the document still says it all
        write_atomically(page, html)
        written.append(page)
    return written


def _notebook_assignment(name: str) -> Any:
    """The assignment a notebook was graded against, for its page's title and minimums; None
    when it can no longer be loaded (the page then shows the name)."""
    from grader.notebooks.assignment import load_assignment

    try:
        return load_assignment(name)
    except (GraderError, OSError):
        return None


EXPORTERS: tuple[tuple[str, Exporter], ...] = (
    ("gradebook", gradebook),
    ("canvas", canvas),
    ("gradescope", gradescope),
    ("summary", class_summary),
    ("class report", report),
    ("feedback pages", feedback_pages),
)


def export(out: Path, canvas_pending: CanvasPending | None = None) -> list[tuple[str, list[Path]]]:
    """Write every export of the batch output ``out`` from what it stores; returns what each
    exporter wrote. ``canvas_pending`` changes what canvas.csv does with points still to
    review, and is kept in batch.json for every later export (the review's too)."""
    batch = StoredBatch.load(out)
    if canvas_pending is not None and canvas_pending is not batch.info.canvas_pending:
        info = replace(batch.info, canvas_pending=canvas_pending)
        info.write(out)
        batch = replace(batch, info=info)
    return [(name, write(batch)) for name, write in EXPORTERS]
