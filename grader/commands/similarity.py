"""grader similarity: which submissions share more than the class does."""

from __future__ import annotations

import click

from grader.commands import shared
from grader.errors import GraderError


@click.command()
@click.argument("submissions", type=click.Path(exists=True))
@click.option(
    "--assignment",
    "-a",
    required=True,
    help="notebook assignment (name or YAML file): notebooks are compared; quiz: answer sheets' written answers",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="folder for similarity.json and .html")
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False),
    help="the starter notebook handed out: its code counts for nothing",
)
@shared.pattern_option
def similarity(submissions: str, assignment: str, out: str, template: str | None, pattern: str) -> None:
    """Which submissions share more than the class does: SUBMISSIONS as for grader batch (a
    folder or an LMS zip), compared without running anything. Scores are evidence for a
    person to weigh, not a verdict."""
    from pathlib import Path

    from grader.similarity.run import compare_folder, write_similarity

    try:
        found = compare_folder(Path(submissions), assignment, Path(out), Path(template) if template else None, pattern)
        written = write_similarity(found, Path(out))
    except GraderError as exc:
        shared.fail(exc)
    for note in found.not_compared:
        click.echo(f"not compared: {note}", err=True)
    click.echo(
        f"{len(found.students)} students compared, {len(found.flagged)} similar pairs flagged "
        f"(score {found.threshold:g} or more)"
    )
    for pair in found.flagged:
        click.echo(f"  {pair.score:.2f}  {pair.a} and {pair.b}  ({pair.strongest})")
    click.echo(f"similarity: {written[0]}  page: {written[1]}")
