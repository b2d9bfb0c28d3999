"""What several commands share: the error exit, the course secret and the options they
all spell the same way. Light on purpose: every command imports it."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from grader.errors import GraderError

BANKS_HELP = "folder of question banks (default: the banks shipped with the grader)"
ROSTER_HELP = (
    "the class roster (CSV: Canvas's gradebook export, or a table with a student, id, login, username or email "
    "column), kept as OUT/roster.csv: canvas.csv then carries each student's Canvas ids"
)


def fail(error: GraderError) -> None:
    """Exit 1 with the error's message: an input that cannot be used."""
    click.echo(click.style("error: ", fg="red", bold=True) + str(error), err=True)
    sys.exit(1)


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))


def pattern_option(command: Any) -> Any:
    """--pattern: how a student id is read from each submission's name (grader batch, grader similarity)."""
    return click.option(
        "--pattern",
        default=r"^(?P<student>[^_.]+)",
        show_default=True,
        help="regular expression with a (?P<student>...) group, applied to each file or folder name",
    )(command)


def secret_file_option(command: Any) -> Any:
    """--secret-file, on every command that reads the course secret."""
    return click.option(
        "--secret-file",
        type=click.Path(dir_okay=False),
        help="the course secret (instructors; default: $GRADER_COURSE_SECRET_FILE, "
        "or the secret itself in $GRADER_COURSE_SECRET)",
    )(command)


def secret(secret_file: str | None, needed: bool) -> bytes | None:
    """The course secret when it is given or needed (a missing or weak one is refused)."""
    from grader.quiz.variants import course_secret

    return course_secret(secret_file) if needed or secret_file else None


def keep_roster(out: str, roster: str) -> None:
    """Check the roster given to a batch or an export and keep it in OUT for every export."""
    from pathlib import Path

    from grader.roster import ROSTER_FILE, keep_roster

    try:
        kept = keep_roster(Path(out), roster)
    except GraderError as exc:
        fail(exc)
    click.echo(f"roster: {len(kept.students)} students from {roster}, kept as {Path(out) / ROSTER_FILE}", err=True)
