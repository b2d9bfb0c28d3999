"""grader batch and grader export: a class graded, and its exports written again."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from grader.batch import ZIP_ENTRY_MB, ZIP_RATIO, ZIP_RATIO_ABOVE_MB, ZIP_TOTAL_MB
from grader.batch.store import BatchRow, CanvasPending
from grader.commands import shared
from grader.commands.notebooks import cell_timeout_note
from grader.commands.shared import ROSTER_HELP
from grader.errors import GraderError
from grader.isolation.process_limits import DEFAULT_MAX_PROCESSES

CANVAS_PENDING_HELP = (
    "what canvas.csv does with a student whose written answers are not all reviewed yet: hold leaves the "
    "row out (summary.txt lists who) until the review has decided, so no total that is not final reaches "
    "Canvas; mark writes the points so far, with the pending points in a column Canvas's import skips"
)


@click.command()
@click.argument("submissions", type=click.Path(exists=True))
@click.option(
    "--assignment",
    "-a",
    required=True,
    help="notebook assignment (name or YAML file); answer sheets (.yaml) are graded as quizzes",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="folder for results and reports")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="submissions at once")
@shared.pattern_option
@click.option("--regrade", is_flag=True, help="grade again even what was already graded")
@click.option("--roster", type=click.Path(dir_okay=False), help=ROSTER_HELP)
@shared.secret_file_option
@click.option(
    "--practice",
    is_flag=True,
    help="without the course secret, grade answer sheets that name a student anyway: on practice numbers, or a "
    "handed-out sheet's own numbers, unverified (their rows say so); without the secret or this flag such a "
    "batch is refused",
)
@click.option(
    "--wall-limit",
    type=click.FloatRange(min=1),
    default=7200,
    show_default=True,
    help="seconds one submission may take in all",
)
@click.option(
    "--cpu-limit",
    type=click.IntRange(min=1),
    default=7200,
    show_default=True,
    help="CPU seconds one submission may use",
)
@click.option(
    "--memory-limit",
    type=click.FloatRange(min=64),
    default=None,
    help="MB that everything one submission starts may hold together "
    "[default: the assignment's kernel limit plus room for the grading processes; "
    "1 GB for answer sheets]",
)
@click.option(
    "--max-processes",
    type=click.IntRange(min=16),
    default=DEFAULT_MAX_PROCESSES,
    show_default=True,
    help="processes and threads one submission may run at once (stops fork bombs)",
)
@click.option("--scheduler", help="address of a Dask scheduler (tcp://host:8786) to run the batch on")
@click.option(
    "--zip-entry-limit",
    type=click.FloatRange(min=1),
    default=ZIP_ENTRY_MB,
    show_default=True,
    help="MB one file of a zip may expand to; a bigger one is refused for its student",
)
@click.option(
    "--cell-timeout",
    type=click.FloatRange(min=1),
    help="seconds a notebook cell may run (overrides the assignment's; never below its training budget plus 120 s)",
)
@click.option(
    "--zip-total-limit",
    type=click.FloatRange(min=1),
    default=ZIP_TOTAL_MB,
    show_default=True,
    help="MB a whole zip may expand to",
)
@click.option(
    "--zip-ratio-limit",
    type=click.FloatRange(min=2),
    default=ZIP_RATIO,
    show_default=True,
    help=f"compression ratio refused for files of a zip over {ZIP_RATIO_ABOVE_MB} MB (zip bombs)",
)
@click.option(
    "--canvas-pending",
    type=click.Choice([p.value for p in CanvasPending]),
    default=CanvasPending.HOLD.value,
    show_default=True,
    help=CANVAS_PENDING_HELP,
)
def batch(
    submissions: str,
    assignment: str,
    out: str,
    jobs: int,
    pattern: str,
    regrade: bool,
    roster: str | None,
    secret_file: str | None,
    practice: bool,
    wall_limit: float,
    cpu_limit: int,
    memory_limit: float | None,
    max_processes: int,
    scheduler: str | None,
    zip_entry_limit: float,
    zip_total_limit: float,
    zip_ratio_limit: float,
    cell_timeout: float | None,
    canvas_pending: str,
) -> None:
    """Grade a class: SUBMISSIONS is a folder (one file or folder per student) or an LMS zip."""
    from grader.batch import Limits, ZipLimits, run_batch
    from grader.batch.submissions import is_quiz

    if cell_timeout and not is_quiz(assignment):
        cell_timeout_note(assignment, cell_timeout)
    try:
        secret = shared.secret(secret_file, needed=True)
    except GraderError as exc:
        shared.fail(exc)
    if roster:
        shared.keep_roster(out, roster)
    try:
        with _progress() as (on_start, on_result), _executor(scheduler) as executor:
            run_batch(
                Path(submissions),
                assignment,
                Path(out),
                jobs=jobs,
                pattern=pattern,
                regrade=regrade,
                limits=Limits(wall_limit, cpu_limit, memory_limit, max_processes, cell_timeout),
                zip_limits=ZipLimits(zip_entry_limit, zip_total_limit, zip_ratio_limit),
                secret=secret,
                practice=practice,
                on_result=on_result,
                on_start=on_start,
                executor=executor,
                canvas_pending=CanvasPending(canvas_pending),
            )
    except GraderError as exc:
        shared.fail(exc)
    _written(Path(out))


@contextlib.contextmanager
def _progress() -> Iterator[tuple[Callable[[int], None], Callable[[BatchRow, bool], None]]]:
    """A progress bar of the submissions done and failed; yields run_batch's on_start and on_result."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    counts = {"done": 0, "failed": 0}
    with Progress(
        TextColumn("[bold]grading"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("batch", total=None, status="")

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_result(row: BatchRow, reused: bool) -> None:
            counts["failed" if row.status.is_failure else "done"] += 1
            progress.update(task, advance=1, status=f"done {counts['done']}, failed {counts['failed']}")

        yield on_start, on_result


@contextlib.contextmanager
def _executor(scheduler: str | None) -> Iterator[Any]:
    """The Dask cluster's executor with --scheduler, else None (run_batch's local pool)."""
    if not scheduler:
        yield None
        return
    from grader.batch.distributed import cluster_executor

    with cluster_executor(scheduler) as executor:
        yield executor


def _written(out: Path) -> None:
    """The batch's summary and where each export was written."""
    click.echo((out / "summary.txt").read_text())
    click.echo(
        f"gradebook: {out / 'gradebook.csv'}  canvas: {out / 'canvas.csv'}  "
        f"gradescope: {out / 'gradescope'}/STUDENT/results.json  feedback: {out / 'feedback'}\n"
        f"class report: {out / 'report.html'}"
    )


@click.command("export")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--roster", type=click.Path(dir_okay=False), help=ROSTER_HELP + " [default: the one OUT kept]")
@click.option(
    "--canvas-pending",
    type=click.Choice([p.value for p in CanvasPending]),
    help=CANVAS_PENDING_HELP + " [default: as the batch (or the last export) chose; hold if none did]",
)
def export_command(out: str, roster: str | None, canvas_pending: str | None) -> None:
    """Write every export of a batch again from its stored results (OUT: grader batch --out)."""
    import os

    from grader.batch.exports import export

    if roster:
        shared.keep_roster(out, roster)
    try:
        written = export(Path(out), CanvasPending(canvas_pending) if canvas_pending else None)
    except GraderError as exc:
        shared.fail(exc)
    for name, paths in written:
        if len(paths) > 1:
            click.echo(f"{name}: {len(paths)} files under {os.path.commonpath(paths)}")
        else:
            click.echo(f"{name}: {paths[0] if paths else 'none to rewrite'}")
