"""The ``grader`` command. Thin: it names each command and the module that holds it.

Exit codes: 0 when the work was done (a graded sheet may still have wrong answers),
1 when an input cannot be used (the message says which file and where), 2 for a
command-line mistake. A command's module (``grader/commands/``) is imported only when
that command runs, and heavy modules only inside the commands that need them: so
``grader quiz check`` loads no batch, review or notebook module, and never TensorFlow.
"""

from __future__ import annotations

from importlib import import_module

import click

COMMANDS = {
    "batch": "grader.commands.batch:batch",
    "check": "grader.commands.notebooks:check",
    "export": "grader.commands.batch:export_command",
    "grade": "grader.commands.notebooks:grade",
    "quiz": "grader.commands.quiz:quiz",
    "review": "grader.commands.review:review",
    "similarity": "grader.commands.similarity:similarity",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when one is asked for (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        return getattr(import_module(module), name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnn-homework-grader")
def main() -> None:
    """Grade CNN homework: quizzes with computed answer keys, and notebooks run for real."""
