"""The batch's stored results: one row per student in OUT/results/, written atomically as
soon as it is known, keyed by the submission's content and the assignment, so that a batch
killed at any moment and started again grades only what is missing or changed."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from grader.batch.submissions import AssignmentKey, Submission



class RowStatus(StrEnum):
    """A batch row's status: a notebook's (:class:`grader.notebooks.status.Status`, equal
    values), or one of the batch's own."""

    GRADED = "graded"
    ERROR = "error"
    TIMEOUT = "timeout"
    DEAD_KERNEL = "dead_kernel"
    OUT_OF_MEMORY = "out_of_memory"  # also: everything the submission started held more than its memory limit
    INVALID_NOTEBOOK = "invalid_notebook"
    NO_MODEL = "no_model"
    MEASURE_FAILED = "measure_failed"
    MISSING_RESOURCE = "missing_resource"
    INVALID = "invalid"  # the grader refused the file (an answer sheet it cannot read): the message says why
    FAILED = "failed"  # the child process itself failed (crash, wall-time limit): a grader-side status
    REJECTED = "rejected"  # part of the submission was refused at extraction (zip bomb, unsafe path)

    @property
    def is_failure(self) -> bool:
        """Anything but a graded submission: the instructor should look at it."""
        return self is not RowStatus.GRADED


FAILED, OUT_OF_MEMORY, REJECTED = RowStatus.FAILED, RowStatus.OUT_OF_MEMORY, RowStatus.REJECTED


def sentences(*parts: str) -> str:
    """One message from several, without doubled punctuation between them."""
    return "; ".join(p.rstrip(" .;") for p in parts if p)


def make_row(submission: Submission, status: str, points: float, possible: float, message: str,
         started: float, peak_memory_mb: float | None = None, peak_processes: int | None = None) -> dict[str, Any]:
    note = sentences(message, *submission.notes)
    if submission.duplicates:
        note = sentences(note, f"older submissions ignored: {', '.join(submission.duplicates)}")
    return {"student": submission.student, "status": status, "points": points, "points_possible": possible,
            "message": note, "submission": str(submission.path), "digest": submission.digest,
            "seconds": round(time.monotonic() - started, 2), "peak_memory_mb": peak_memory_mb,
            "peak_processes": peak_processes}


def rejected_row(submission: Submission) -> dict[str, Any]:
    """The row of a student whose zip entries were refused: not graded, and why."""
    return make_row(submission, REJECTED, 0, 0, sentences(*submission.refused, "the submission was not graded"),
                time.monotonic())


def finished(out: Path, submission: Submission, assignment: AssignmentKey) -> dict[str, Any] | None:
    """The stored result of this submission, if it was graded against this assignment (name
    and file) and neither has changed since."""
    path = out / "results" / f"{submission.student}.json"
    try:
        row = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    same = (row.get("digest"), row.get("assignment"), row.get("assignment_sha256")) == (
        submission.digest, assignment.name, assignment.sha256)
    return row if same else None


def other_assignments(out: Path, assignment: AssignmentKey) -> list[tuple[Path, str]]:
    """Stored results graded under another assignment name: (file, that name)."""
    other = []
    for path in sorted((out / "results").glob("*.json")):
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("assignment")
        except (OSError, ValueError, AttributeError):
            continue
        if name is not None and name != assignment.name:
            other.append((path, name))
    return other
