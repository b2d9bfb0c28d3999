"""The process that grades one submission for a batch: ``python -m grader.batch.child JOB``.

:mod:`grader.batch.run` starts it confined (:mod:`grader.batch.isolation`) with a
:class:`ChildJob` as JSON; it grades in-process and writes the result document, the feedback
page and a typed :class:`ChildOutcome` (``outcome.json``) into the student's feedback
folder. The batch reads the outcome, never a command line's printed output; no outcome
means the process itself failed (crash, memory or time limit), which the batch turns into
a row with that status.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.atomic import write_atomically
from grader.batch.store import RowStatus, sentences
from grader.batch.submissions import SubmissionKind
from grader.errors import GraderError
from grader.quiz.results import QuestionStatus
from grader.quiz.variants import Variant, VariantKind

OUTCOME = "outcome.json"


@dataclass(frozen=True)
class ChildJob:
    """What the batch asks of the child: which file, graded how, written where."""

    submission: str
    kind: SubmissionKind  # decided when the batch found the submission
    assignment: str  # a notebook assignment (name or file); unused for answer sheets
    feedback: str  # the student's feedback folder (writable inside the sandbox)
    cell_timeout: float | None = None  # overrides the assignment's (never below its training budget's needs)
    class_folder: str | None = None  # every student's submissions: hidden from the kernel

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SubmissionKind(self.kind))  # read back from the job's JSON


@dataclass(frozen=True)
class ChildOutcome:
    """What the child found: the row's status, points and first message. ``invalid``: the
    submission could not be graded at all (the message says what is wrong and where)."""

    status: RowStatus
    points: float
    points_possible: float
    message: str
    practice_check: bool = False  # an answer sheet graded on practice numbers (no course secret)
    pending_points: float = 0  # an answer sheet's written answers still to review (SheetResult.pending_review)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RowStatus(self.status))

    @classmethod
    def read(cls, feedback: Path) -> ChildOutcome | None:
        """The outcome the child wrote, or None if it wrote none (it failed) or one this grader
        cannot read (an unknown status among them)."""
        try:
            return cls(**json.loads((feedback / OUTCOME).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def grade_sheet_job(job: ChildJob) -> ChildOutcome:
    """An answer sheet, graded on the student's graded variant when the batch passed the
    course secret, with its result document and feedback page."""
    from grader.quiz.bank import Catalog
    from grader.quiz.render import report_html, result_document
    from grader.quiz.sheets import grade_sheet
    from grader.quiz.variants import course_secret

    feedback = Path(job.feedback)
    result = grade_sheet(Catalog.load(), job.submission, secret=course_secret())
    write_atomically(feedback / "result.json", json.dumps(result_document(result), indent=1))
    write_atomically(feedback / "feedback.html", report_html(result))
    invalid = len(result.with_status(QuestionStatus.INVALID))
    message = sentences(
        f"{invalid} answer(s) could not be read" if invalid else "",
        f"graded on the {_unverified(result.variant)}: the batch had no course secret" if result.practice_check else "",
    )
    return ChildOutcome(
        RowStatus.GRADED, result.points, result.points_possible, message, result.practice_check, result.pending_review
    )


def _unverified(variant: Variant) -> str:
    """What a sheet graded without the secret was graded on: a practice variant, or the numbers
    written on a handed-out sheet, whose signature only the secret can verify."""
    return f"{variant.describe()} (not verified)" if variant.kind is VariantKind.SHEET else "practice variant"


def grade_notebook_job(job: ChildJob) -> ChildOutcome:
    """A notebook, run and measured by :func:`grader.notebooks.grading.grade_notebook`."""
    from grader.notebooks import report
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.grading import grade_notebook

    feedback = Path(job.feedback)
    spec = load_assignment(job.assignment)
    if job.cell_timeout:
        spec, _ = spec.with_cell_timeout(job.cell_timeout)  # a raised timeout is said once, by grader batch
    notebook = Path(job.submission)
    class_folder = Path(job.class_folder) if job.class_folder else None
    result = grade_notebook(
        notebook,
        spec,
        feedback,
        with_folder=notebook.parent != class_folder,  # its own folder; the class's is not copied
        hidden_folders=(class_folder,) if class_folder else (),
    )
    document = report.document(result)
    write_atomically(feedback / "result.json", json.dumps(document, indent=1))
    write_atomically(feedback / "feedback.html", report.html_page(result, spec))
    return ChildOutcome(RowStatus(result.status), result.points, result.points_possible, row_message(document))


def row_message(document: dict) -> str:
    """The gradebook's line for a notebook: its first message, else why points were lost (the
    first two checks short of full marks), so that no lost point goes without a reason."""
    if document["messages"]:
        return document["messages"][0]
    lost = [f"{c['check']}: {c['message']}" for c in document["checks"] if c["fraction"] < 1]
    return sentences(*lost[:2])


def run(job: ChildJob) -> ChildOutcome:
    """Grade the job; a submission the grader refuses (GraderError) is an ``invalid`` outcome."""
    try:
        return grade_sheet_job(job) if job.kind is SubmissionKind.SHEET else grade_notebook_job(job)
    except GraderError as exc:
        return ChildOutcome(RowStatus.INVALID, 0, 0, str(exc))


def main(argv: list[str]) -> int:
    job = ChildJob(**json.loads(argv[1]))
    outcome = run(job)
    write_atomically(Path(job.feedback) / OUTCOME, json.dumps(asdict(outcome), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
