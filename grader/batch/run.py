"""Running a batch: every submission not already graded is graded in a confined child, and
its row stored as it comes; then the exports are written."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from grader.batch.child import OUTCOME, ChildJob, ChildOutcome
from grader.batch.exports import export
from grader.batch.isolation import ChildRun, Limits, Sandbox, default_memory_mb, make_sandbox, run_confined
from grader.batch.store import (
    BatchInfo,
    BatchRow,
    CanvasPending,
    RowStatus,
    finished,
    make_row,
    other_assignments,
    rejected_row,
    results_dir,
    sentences,
    write_row,
)
from grader.batch.submissions import (
    DEFAULT_PATTERN,
    AssignmentKey,
    Submission,
    SubmissionKind,
    assignment_key,
    discover,
    listed,
)
from grader.batch.unzip import Unpacked, ZipLimits, unpack
from grader.errors import BatchError, CourseSecretError
from grader.isolation.process_limits import describe as describe_confinement
from grader.quiz.sheets import names_student
from grader.quiz.variants import HOW_TO_GIVE, SECRET_ENV, course_secret
from grader.scratch import remove_abandoned
from grader.similarity import run as similarity

PRACTICE_NOTE = (
    "practice grading (--practice): the answer sheets naming a student were graded without the course secret, "
    "on practice numbers or on a handed-out sheet's own numbers, unverified: not grades to hand back"
)


def _prepare_shared_data(assignment: str, submissions: list[Submission]) -> None:
    """Prepare the served data before any child runs: in the sandbox children can only read it."""
    if not any(s.kind is SubmissionKind.NOTEBOOK for s in submissions):
        return
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.data_cache import prepare_data

    spec = load_assignment(assignment)
    if spec.data == "mnist":
        prepare_data(spec)


def _naming_a_student(submissions: list[Submission]) -> list[Submission]:
    """The answer sheets to grade that name a student: their graded numbers need the course secret."""
    return [s for s in submissions if not s.refused and s.kind is SubmissionKind.SHEET and names_student(s.path)]


def _refuse_without_secret(source: Path, named: list[Submission]) -> None:
    raise CourseSecretError(
        f"{source}: {len(named)} answer sheet(s) name a student ({listed(s.path.name for s in named)}), whose "
        f"graded numbers need the course secret, and none was given: give it by {HOW_TO_GIVE}; or add --practice "
        "to grade them without it, on practice numbers (or a handed-out sheet's own numbers, unverified), which "
        "are not grades to hand back. Nothing was graded"
    )


def _stored(
    out: Path, submission: Submission, key: AssignmentKey, regrade: bool, secret: bytes | None
) -> BatchRow | None:
    """The stored row to keep: none with --regrade, and none graded on practice numbers when the
    batch now has the course secret (such a sheet is graded again, on the numbers handed out)."""
    previous = None if regrade else finished(out, submission, key)
    return None if previous and previous.practice_check and secret is not None else previous


def grade_one(
    submission: Submission,
    assignment: str,
    out: Path,
    limits: Limits,
    threads: int,
    sandbox: Sandbox,
    secret: bytes | None = None,
) -> BatchRow:
    """Grade one submission in a confined child process (:mod:`grader.batch.child`); always
    returns a result row. Only an answer sheet's child gets the course ``secret`` (in its
    environment, never on a command line); a notebook's never does."""
    feedback = out / "feedback" / submission.student
    feedback.mkdir(parents=True, exist_ok=True)
    (feedback / OUTCOME).unlink(missing_ok=True)  # an earlier run's outcome is not this one's
    quiz = submission.kind is SubmissionKind.SHEET
    job = ChildJob(
        str(submission.path),
        submission.kind,
        assignment,
        str(feedback),
        limits.cell_seconds,
        class_folder=str(submission.class_folder) if submission.class_folder else None,
    )
    command = [sys.executable, "-m", "grader.batch.child", json.dumps(asdict(job))]
    if limits.memory_mb is None:
        limits = replace(limits, memory_mb=default_memory_mb(assignment, [submission]))
    # A notebook's kernel gets its own sandbox from the grading process (grader.notebooks.isolation),
    # which bubblewrap cannot make inside another: the batch's sandbox is for answer sheets.
    outer = sandbox if quiz else Sandbox(None)
    extra_env = {SECRET_ENV: secret.decode()} if quiz and secret else None
    started = time.monotonic()
    run = run_confined(
        lambda work: outer.prefix(work, feedback) + command, submission.student, limits, threads, extra_env
    )
    (feedback / "grader.log").write_text(run.stderr[-20000:])
    return _row_of_run(submission, run, ChildOutcome.read(feedback), limits, started)


def _row_of_run(
    submission: Submission, run: ChildRun, outcome: ChildOutcome | None, limits: Limits, started: float
) -> BatchRow:
    """The row of a graded submission: the child's outcome, unless the child was stopped (time
    or memory limit) or wrote none (it failed), with what the limits refused it."""
    usage = {"peak_memory_mb": run.peak_memory_mb, "peak_processes": run.peak_processes}
    notes = []
    if run.refused_processes:
        notes.append(
            f"it tried to run more than {limits.max_processes} processes and threads at once "
            f"({run.refused_processes} refused)"
        )
    memory_note = f"its processes used more than {limits.memory_mb:g} MB together and were stopped"
    if run.timed_out:
        stopped = f"grading took longer than {limits.wall_seconds:g} s and was stopped"
        return make_row(submission, RowStatus.FAILED, 0, 0, sentences(stopped, *notes), started, **usage)
    if outcome is None:
        if run.memory_stopped:
            return make_row(submission, RowStatus.OUT_OF_MEMORY, 0, 0, sentences(memory_note, *notes), started, **usage)
        reason = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
        failed = f"the grading process failed: {reason[:300]}"
        return make_row(submission, RowStatus.FAILED, 0, 0, sentences(failed, *notes), started, **usage)
    status, message = outcome.status, outcome.message
    if run.memory_stopped and status.is_failure:
        status, message = RowStatus.OUT_OF_MEMORY, memory_note
    elif run.memory_stopped:
        notes.append("one of its processes was stopped at the memory limit")
    return make_row(
        submission,
        status,
        outcome.points,
        outcome.points_possible,
        sentences(message, *notes),
        started,
        **usage,
        pending_points=outcome.pending_points,
        practice_check=outcome.practice_check,
    )


def run_batch(
    source: Path,
    assignment: str,
    out: Path,
    *,
    jobs: int = 1,
    pattern: str = DEFAULT_PATTERN,
    regrade: bool = False,
    limits: Limits = Limits(7200, 7200),
    zip_limits: ZipLimits = ZipLimits(),
    secret: bytes | None = None,  # the course secret, for answer sheets only (None: from the environment)
    practice: bool = False,  # without the secret, grade sheets naming a student on practice numbers
    on_result: Callable[[BatchRow, bool], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    canvas_pending: CanvasPending = CanvasPending.HOLD,
) -> list[BatchRow]:
    """Grade every submission not already graded; returns one row per student. ``canvas_pending``:
    what canvas.csv does with points still to review (kept in batch.json for later exports).

    Submissions are graded by ``grade_one`` on ``executor``: by default a local pool of
    ``jobs`` threads (each supervising one confined child), or any other
    ``concurrent.futures.Executor``, such as a Dask cluster's (:mod:`grader.batch.distributed`)."""
    source, out = source.resolve(), out.resolve()  # children run in their own temporary folder: absolute paths
    remove_abandoned()  # what a batch killed before it left in the temporary folder
    assignment = str(Path(assignment).resolve()) if Path(assignment).is_file() else assignment
    key = assignment_key(assignment)
    secret = course_secret() if secret is None else secret  # read once, a bad one refused before any grading
    other = _other_assignments(out, key, regrade)
    unpacked, submissions, skipped = _find(source, out, pattern, zip_limits, key)
    named = _naming_a_student(submissions) if secret is None else []
    if named and not practice:
        _refuse_without_secret(source, named)
    _move_aside(out, other)
    if on_start:
        on_start(len(submissions))
    batch = _Batch(out, key, on_result)
    todo = batch.keep_stored(submissions, regrade, secret)
    limits, sandbox = _ready(assignment, out, submissions, todo, limits)
    grade = partial(grade_one, assignment=assignment, out=out, limits=limits, sandbox=sandbox, secret=secret)
    batch.grade(todo, executor, jobs, grade)
    context = _context(sandbox, limits, submissions, unpacked.note, practice=bool(named))
    BatchInfo(key.name, tuple(s.student for s in submissions), tuple(skipped), context, canvas_pending).write(out)
    similarity.write_similarity(similarity.compare_submissions(submissions, key), out)  # before the class report
    export(out)
    return [batch.rows[s.student] for s in submissions]


def _ready(
    assignment: str, out: Path, submissions: list[Submission], todo: list[Submission], limits: Limits
) -> tuple[Limits, Sandbox]:
    """What grading needs before the first child starts: the memory limit (from what is graded
    when none was given), the served data, the feedback folder and the sandbox."""
    if limits.memory_mb is None:
        graded = [s for s in submissions if not s.refused]
        limits = replace(limits, memory_mb=default_memory_mb(assignment, graded))
    _prepare_shared_data(assignment, todo)
    (out / "feedback").mkdir(exist_ok=True)
    return limits, make_sandbox()


def _context(
    sandbox: Sandbox, limits: Limits, submissions: list[Submission], zip_note: str, practice: bool
) -> tuple[str, ...]:
    """What the batch graded under, one line each (batch.json): the sandbox, the limits, the
    zip, and whether sheets naming a student were graded without the secret."""
    notebooks = any(s.kind is SubmissionKind.NOTEBOOK for s in submissions if not s.refused)
    lines = (sandbox.describe(notebooks), _limits_line(limits), zip_note, PRACTICE_NOTE if practice else "")
    return tuple(line for line in lines if line)


def _other_assignments(out: Path, key: AssignmentKey, regrade: bool) -> list[tuple[Path, str]]:
    """The stored results of another assignment in ``out`` (refused unless --regrade, which
    moves them aside); creates ``out`` and its results folder."""
    out.mkdir(parents=True, exist_ok=True)
    results_dir(out).mkdir(exist_ok=True)
    other = other_assignments(out, key)
    if other and not regrade:
        names = ", ".join(sorted({repr(name) for _, name in other}))
        raise BatchError(
            f"{out} holds results of assignment {names} ({len(other)} students); this batch grades "
            f"{key.name!r}: give another --out, or add --regrade to grade everything again under "
            f"{key.name!r} (the other results are then moved to {out / 'replaced'})"
        )
    return other


def _find(
    source: Path, out: Path, pattern: str, zip_limits: ZipLimits, key: AssignmentKey
) -> tuple[Unpacked, list[Submission], list[str]]:
    """The submissions in ``source`` (a folder, or a zip unpacked into ``out``) and the entries
    skipped; an error when there is none, before anything in ``out`` is changed."""
    unpacked = unpack(source, out, zip_limits)
    submissions, skipped = discover(unpacked.folder, pattern, unpacked.refused, key)
    if not submissions:
        raise BatchError(
            f"{source}: no submission found, 0 students graded (the gradebook and results in {out} "
            "were left as they were)" + (f"; skipped entries: {'; '.join(skipped[:10])}" if skipped else "")
        )
    return unpacked, submissions, skipped


def _move_aside(out: Path, other: list[tuple[Path, str]]) -> None:
    """--regrade into another assignment's folder: its results are moved, nothing graded is deleted."""
    if not other:
        return
    replaced = out / "replaced" / time.strftime("%Y%m%d-%H%M%S")
    replaced.mkdir(parents=True, exist_ok=True)
    for path, _ in other:
        os.replace(path, replaced / path.name)


def _limits_line(limits: Limits) -> str:
    """What the summary says of the limits each submission was graded under."""
    return (
        f"limits per submission: {limits.memory_mb:g} MB, {limits.max_processes} processes and threads, "
        f"{limits.cpu_seconds} CPU s, {limits.wall_seconds:g} s wall"
        + (f", cells {limits.cell_seconds:g} s" if limits.cell_seconds else "")
        + f"; enforcement {describe_confinement()}"
    )


class _Batch:
    """The rows of one batch as they come: each stored as soon as it is known, and reported."""

    def __init__(self, out: Path, key: AssignmentKey, on_result: Callable[[BatchRow, bool], None] | None) -> None:
        self.out, self.key, self.on_result = out, key, on_result
        self.rows: dict[str, BatchRow] = {}

    def record(self, row: BatchRow) -> None:
        """A row just graded (or rejected), under this batch's assignment."""
        row = replace(row, assignment=self.key.name, assignment_sha256=self.key.sha256)
        write_row(self.out, row)
        self.rows[row.student] = row
        if self.on_result:
            self.on_result(row, False)

    def keep_stored(self, submissions: list[Submission], regrade: bool, secret: bytes | None) -> list[Submission]:
        """Keep the stored rows still valid, record the rejected submissions; returns the
        submissions left to grade."""
        todo = []
        for submission in submissions:
            previous = _stored(self.out, submission, self.key, regrade, secret)
            if previous:
                if previous.submission != str(submission.path):  # same content, from another zip
                    previous = replace(previous, submission=str(submission.path))
                    write_row(self.out, previous)
                self.rows[submission.student] = previous
                if self.on_result:
                    self.on_result(previous, True)
            elif submission.refused:
                self.record(rejected_row(submission))
            else:
                todo.append(submission)
        return todo

    def grade(
        self,
        todo: list[Submission],
        executor: Executor | None,
        jobs: int,
        grade: Callable[..., BatchRow],
    ) -> None:
        """Grade ``todo`` with ``grade(submission, threads=...)`` on ``executor`` (by default a pool
        of ``jobs`` threads), each with its share of the machine's threads; every row recorded as
        it comes. ``grade`` is a partial of :func:`grade_one`, which a cluster's workers import."""
        threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
        pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = [pool.submit(grade, s, threads=threads) for s in todo]
            for future in as_completed(futures):
                self.record(future.result())
        finally:
            if executor is None:
                pool.shutdown(cancel_futures=True)
