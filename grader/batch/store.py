"""The batch's stored results: one row per student in OUT/results/, written atomically as
soon as it is known, keyed by the submission's content and the assignment, so that a batch
killed at any moment and started again grades only what is missing or changed; and
OUT/batch.json, what the batch knew beyond its rows. Every export is written from these
alone (:mod:`grader.batch.exports`)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from grader.atomic import write_atomically
from grader.batch.submissions import AssignmentKey, Submission, SubmissionKind
from grader.errors import GraderError
from grader.notebooks.status import GradingStatus, Status

BATCH_FILE = "batch.json"


class BatchOutputError(GraderError):
    """A folder that is not a batch's output (``grader batch --out``), or a stored row that
    cannot be read."""


RowStatus = GradingStatus.extended(
    "RowStatus",
    Status,  # a notebook's statuses (out_of_memory also: everything the submission started held too much)
    {
        "INVALID": "invalid",  # the grader refused the file (an answer sheet it cannot read): the message says why
        "FAILED": "failed",  # the child process itself failed (crash, wall-time limit): a grader-side status
        "REJECTED": "rejected",  # part of the submission was refused at extraction (zip bomb, unsafe path)
    },
    __name__,
)
RowStatus.__doc__ = """A batch row's status: a notebook's (:class:`grader.notebooks.status.Status`, its
members and values), then the batch's own. ``is_failure``: anything but graded."""


class ScoreStatus(StrEnum):
    """Whether a row's points are final, or some still wait for a person's decision (written
    answers no instructor has scored yet: :attr:`BatchRow.pending_points`)."""

    FINAL = "final"
    PENDING_REVIEW = "pending_review"


class CanvasPending(StrEnum):
    """What canvas.csv does with a student whose points are not final: HOLD leaves the row
    out (the summary lists it) until the review has decided; MARK writes the points so far
    with the pending points in a column Canvas's import skips."""

    HOLD = "hold"
    MARK = "mark"


def sentences(*parts: str) -> str:
    """One message from several, without doubled punctuation between them."""
    return "; ".join(p.rstrip(" .;") for p in parts if p)


@dataclass
class BatchRow:
    """One student's stored result (``results/STUDENT.json``, grader/schemas/batch-row.schema.json):
    what the gradebook and every export are written from. The review workspace adds the
    instructor's points (``auto_*`` keep the automatic ones)."""

    student: str
    status: RowStatus
    points: float
    points_possible: float
    message: str = ""
    submission: str = ""
    digest: str | None = None
    seconds: float = 0.0
    peak_memory_mb: float | None = None
    peak_processes: int | None = None
    assignment: str | None = None  # None: graded by a grader that did not record it
    assignment_sha256: str | None = None
    practice_check: bool = False  # an answer sheet graded on practice numbers (no course secret)
    pending_points: float = 0  # points no person has decided yet (unreviewed written answers): not in points
    kind: SubmissionKind | None = None  # None: a row from before the kind was stored
    auto_points: float | None = None
    auto_message: str | None = None
    reviewed: dict[str, Any] | None = None

    OPTIONAL = ("practice_check", "auto_points", "auto_message", "reviewed")  # written only when set

    def __post_init__(self) -> None:
        self.status = RowStatus(self.status)
        self.kind = SubmissionKind(self.kind) if self.kind else None

    @property
    def score_status(self) -> ScoreStatus:
        return ScoreStatus.PENDING_REVIEW if self.pending_points else ScoreStatus.FINAL

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["status"], row["kind"] = str(self.status), str(self.kind) if self.kind else None
        return {k: v for k, v in row.items() if k not in self.OPTIONAL or (v is not None and v is not False)}

    @classmethod
    def from_json(cls, data: Any, where: str = "row") -> BatchRow:
        """A stored row; an older one may lack what later graders record (it gets the defaults)."""
        if not isinstance(data, dict):
            raise BatchOutputError(f"{where}: not a result row of `grader batch` (a JSON object)")
        missing = [k for k in ("student", "status", "points", "points_possible") if k not in data]
        if missing:
            raise BatchOutputError(f"{where}: not a result row of `grader batch` (no {', '.join(missing)})")
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
        except ValueError:
            field, known = ("status", RowStatus) if data["status"] not in set(RowStatus) else ("kind", SubmissionKind)
            raise BatchOutputError(
                f"{where}: unknown {field} {data.get(field)!r} (one of {', '.join(known)})"
            ) from None


def make_row(
    submission: Submission,
    status: RowStatus,
    points: float,
    possible: float,
    message: str,
    started: float,
    peak_memory_mb: float | None = None,
    peak_processes: int | None = None,
    pending_points: float = 0,
    practice_check: bool = False,
) -> BatchRow:
    """A row for a submission just graded (or not): its message joined with what finding the
    submission noted, its time counted from ``started``."""
    note = sentences(message, *submission.notes)
    if submission.duplicates:
        note = sentences(note, f"older submissions ignored: {', '.join(submission.duplicates)}")
    return BatchRow(
        submission.student,
        status,
        points,
        possible,
        note,
        str(submission.path),
        submission.digest,
        round(time.monotonic() - started, 2),
        peak_memory_mb,
        peak_processes,
        practice_check=practice_check,
        pending_points=pending_points,
        kind=submission.kind,
    )


def rejected_row(submission: Submission) -> BatchRow:
    """The row of a student whose zip entries were refused: not graded, and why."""
    return make_row(
        submission,
        RowStatus.REJECTED,
        0,
        0,
        sentences(*submission.refused, "the submission was not graded"),
        time.monotonic(),
    )


def results_dir(out: Path) -> Path:
    """Where a batch keeps one row per student (``OUT/results/STUDENT.json``)."""
    return out / "results"


def write_row(out: Path, row: BatchRow) -> None:
    """Store a student's row, replacing the earlier one in one step."""
    write_atomically(results_dir(out) / f"{row.student}.json", json.dumps(row.to_json(), indent=1))


def finished(out: Path, submission: Submission, assignment: AssignmentKey) -> BatchRow | None:
    """The stored result of this submission, if it was graded against this assignment (name
    and file) and neither has changed since (an unreadable one is graded again)."""
    path = results_dir(out) / f"{submission.student}.json"
    try:
        row = BatchRow.from_json(json.loads(path.read_text()), str(path))
    except (OSError, ValueError, BatchOutputError):
        return None
    same = (row.digest, row.assignment, row.assignment_sha256) == (
        submission.digest,
        assignment.name,
        assignment.sha256,
    )
    return row if same else None


def other_assignments(out: Path, assignment: AssignmentKey) -> list[tuple[Path, str]]:
    """Stored results graded under another assignment name: (file, that name)."""
    other = []
    for path in sorted(results_dir(out).glob("*.json")):
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("assignment")
        except (OSError, ValueError, AttributeError):
            continue
        if name is not None and name != assignment.name:
            other.append((path, name))
    return other


def read_rows(out: Path) -> dict[str, BatchRow]:
    """Every student's stored row, by student id (the file's name), sorted by it; an error
    saying so when ``out`` is not a batch's output folder."""
    if not out.is_dir():
        raise BatchOutputError(f"{out}: no such folder (give the --out folder of a `grader batch` run)")
    results = results_dir(out)
    if not results.is_dir():
        raise BatchOutputError(f"{out}: no results/ folder in it; is it the --out folder of a `grader batch` run?")
    rows = {}
    for path in sorted(results.glob("*.json"), key=lambda p: p.stem):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BatchOutputError(f"{path}: not a readable result ({exc})") from None
        rows[path.stem] = BatchRow.from_json(data, str(path))
    if not rows:
        raise BatchOutputError(f"{results}: no results yet; run `grader batch ... --out {out}` first")
    return rows


@dataclass(frozen=True)
class BatchInfo:
    """What the batch knew beyond its rows (``OUT/batch.json``), for exports written later:
    its assignment, its students in its order (results/ may also hold students of an earlier
    zip), the entries it skipped, the isolation and limits it graded under, and what canvas.csv
    does with points still to review (every later export, the review's too, does the same)."""

    assignment: str
    students: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    context: tuple[str, ...] = ()  # one line each: sandbox, limits, zip
    canvas_pending: CanvasPending = CanvasPending.HOLD

    def write(self, out: Path) -> None:
        write_atomically(out / BATCH_FILE, json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, out: Path, rows: dict[str, BatchRow]) -> BatchInfo:
        """The stored record; for a batch from before batch.json, every stored row under the
        assignment the rows name."""
        path = out / BATCH_FILE
        if not path.exists():
            names = sorted({r.assignment for r in rows.values() if r.assignment})
            return cls(names[0] if len(names) == 1 else out.name, tuple(rows))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            info = cls(
                str(data["assignment"]),
                *(tuple(map(str, data.get(k, ()))) for k in ("students", "skipped", "context")),
                CanvasPending(data.get("canvas_pending", CanvasPending.HOLD)),
            )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise BatchOutputError(f"{path}: not a readable batch record ({exc.__class__.__name__}: {exc})") from None
        if missing := [s for s in info.students if s not in rows]:
            raise BatchOutputError(
                f"{path}: names students with no row in {out / 'results'}: {', '.join(missing[:10])}"
            )
        return info
