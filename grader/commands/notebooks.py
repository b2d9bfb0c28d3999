"""grader grade and grader check: one notebook, run in a fresh kernel and graded."""

from __future__ import annotations

import sys
from typing import Any

import click

from grader.commands import shared
from grader.errors import GraderError


def _with_cell_timeout(spec: Any, cell_timeout: float) -> Any:
    """The assignment with --cell-timeout, saying when it was raised to what its training budget needs."""
    spec, note = spec.with_cell_timeout(cell_timeout)
    if note:
        click.echo(f"note: {note}", err=True)
    return spec


def cell_timeout_note(assignment: str, cell_timeout: float) -> None:
    from grader.notebooks.assignment import load_assignment

    try:
        _with_cell_timeout(load_assignment(assignment), cell_timeout)
    except GraderError as exc:
        shared.fail(exc)


def _grade_notebook(
    notebook: str, assignment: str, out: str | None, quick: bool, cell_timeout: float | None = None
) -> Any:
    from pathlib import Path

    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.grading import grade_notebook

    try:
        spec = load_assignment(assignment)
    except GraderError as exc:
        shared.fail(exc)
    if cell_timeout:
        spec = _with_cell_timeout(spec, cell_timeout)
    out_dir = Path(out) if out else Path("grader-out") / Path(notebook).stem
    try:
        return grade_notebook(Path(notebook), spec, out_dir, quick=quick)
    except GraderError as exc:
        shared.fail(exc)


def _notebook_and_assignment(command: Any) -> Any:
    """NOTEBOOK and --assignment, as grader grade and grader check both take them."""
    command = click.option(
        "--assignment",
        "-a",
        default="mnist-cnn",
        show_default=True,
        help="a shipped assignment name or an assignment YAML file",
    )(command)
    return click.argument("notebook", type=click.Path(dir_okay=False))(command)


@click.command()
@_notebook_and_assignment
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="folder for the executed notebook and results (default: grader-out/NOTEBOOK_NAME)",
)
@click.option("--json", "as_json", is_flag=True, help="print the result document (JSON)")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="also write an HTML feedback page")
@click.option("--cell-timeout", type=click.FloatRange(min=1), help="seconds a cell may run (overrides the assignment)")
def grade(
    notebook: str, assignment: str, out: str | None, as_json: bool, html_file: str | None, cell_timeout: float | None
) -> None:
    """Run NOTEBOOK in a fresh kernel and grade the model it trained, measured by the grader."""
    from grader.notebooks import report

    result = _grade_notebook(notebook, assignment, out, quick=False, cell_timeout=cell_timeout)
    document = report.document(result)
    if html_file:
        with open(html_file, "w", encoding="utf-8") as handle:
            from grader.notebooks.assignment import load_assignment

            handle.write(report.html_page(result, load_assignment(assignment)))
    if as_json:
        shared.print_json(document)
    else:
        click.echo(report.text(result))


@click.command()
@_notebook_and_assignment
@click.option("--quick", is_flag=True, help="one short epoch on a slice of the data: finds errors in seconds")
@click.option("--out", type=click.Path(file_okay=False), help="folder for the executed notebook")
def check(notebook: str, assignment: str, quick: bool, out: str | None) -> None:
    """A student's self-check: run NOTEBOOK as the grader will and report what it finds."""
    from grader.notebooks import report

    result = _grade_notebook(notebook, assignment, out, quick=quick)
    click.echo(report.text(result))
    if not quick:
        click.echo(
            "These are the points grader grade gives this notebook for this assignment, on any machine: the "
            "kernel starts from the same seed and training is counted in examples, not seconds."
        )
    if result.status.is_failure:
        sys.exit(3)
