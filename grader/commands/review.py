"""grader review: a batch's written answers and notebook checks, decided in the browser."""

from __future__ import annotations

import click

from grader.commands import shared
from grader.commands.shared import BANKS_HELP
from grader.errors import GraderError


@click.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to listen on (anything but 127.0.0.1 lets other machines try the token)",
)
@click.option("--who", help="name recorded with each decision (default: your user name)")
@click.option(
    "--model",
    type=click.Choice(["hybrid", "wordllama", "lexical"]),
    help="similarity model for suggested points (default: hybrid)",
)
@click.option("--banks", type=click.Path(file_okay=False), envvar="GRADER_BANKS", help=BANKS_HELP)
@shared.secret_file_option
@click.option(
    "--practice",
    is_flag=True,
    help="review answer sheets that `grader batch --practice` graded without the course secret (regraded on "
    "the same numbers); without this flag such a folder is refused",
)
def review(
    out: str,
    port: int,
    host: str,
    who: str | None,
    model: str | None,
    banks: str | None,
    secret_file: str | None,
    practice: bool,
) -> None:
    """Grade a batch's written answers and check notebook checks in the browser (OUT: grader batch --out)."""
    import getpass
    from pathlib import Path

    from grader.quiz.bank import Catalog
    from grader.review.app import serve

    try:
        serve(
            Path(out),
            host=host,
            port=port,
            who=who or getpass.getuser(),
            model=model,
            catalog=Catalog.load(banks),
            echo=click.echo,
            course_secret=shared.secret(secret_file, needed=True),
            practice=practice,
        )
    except GraderError as exc:
        shared.fail(exc)
    except ImportError as exc:
        shared.fail(
            GraderError(f"grader review needs the review extra ({exc.name} is missing): pip install -e '.[review]'")
        )
