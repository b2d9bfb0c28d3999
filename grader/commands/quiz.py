"""grader quiz: question banks, answer sheets, handouts, keys, checks and exports.

A student's ``grader quiz check`` runs this module and the quiz package alone: nothing of
the batch, the review or the notebooks, and never TensorFlow.
"""

from __future__ import annotations

from typing import Any

import click

from grader.commands import shared
from grader.commands.shared import BANKS_HELP, ROSTER_HELP
from grader.errors import GraderError
from grader.lms import FORMATS as LMS_FORMATS

FEEDBACK_HELP = (
    "what 'grader quiz check' tells a student before grading, stated on the sheet: immediate (verdicts and "
    "slip feedback on the sheet's own numbers) or after-grading (only whether each answer can be read)"
)


def _catalog(ctx: click.Context) -> Any:
    from grader.quiz.bank import Catalog

    return Catalog.load(ctx.obj.get("banks"))


def _variant_options(command: Any) -> Any:
    """--seed (a practice variant, anyone), --student (a graded one, the instructor) and --secret-file."""
    command = shared.secret_file_option(command)
    command = click.option("--student", help="a student's graded variant (needs the course secret)")(command)
    return click.option("--seed", help="a practice variant: any word or number (not graded)")(command)


def _one_variant(seed: str | None, student: str | None) -> None:
    if seed is not None and student is not None:
        raise click.UsageError("--seed (a practice variant) and --student (a graded one) exclude each other")


def _variant(seed: str | None, student: str | None, secret_file: str | None) -> Any:
    """The variant --seed or --student names (the default without either)."""
    from grader.quiz.variants import chosen

    _one_variant(seed, student)
    return chosen(seed, student, shared.secret(secret_file, student is not None))


def _banks(ctx: click.Context, names: tuple[str, ...]) -> list[Any]:
    catalog = _catalog(ctx)
    return [catalog.bank(name) for name in dict.fromkeys(names)]


@click.group()
@click.option("--banks", type=click.Path(file_okay=False), envvar="GRADER_BANKS", help=BANKS_HELP)
@click.pass_context
def quiz(ctx: click.Context, banks: str | None) -> None:
    """Question banks and answer sheets."""
    ctx.ensure_object(dict)
    ctx.obj["banks"] = banks


@quiz.command("list")
@click.option("--bank", "bank_name", help="only this bank")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def quiz_list(ctx: click.Context, bank_name: str | None, as_json: bool) -> None:
    """List the questions: ids, types, points and prompts."""
    try:
        catalog = _catalog(ctx)
        banks = [catalog.bank(bank_name)] if bank_name else list(catalog.banks)
    except GraderError as exc:
        shared.fail(exc)
    rows = [
        {
            "id": q.id,
            "type": q.type,
            "points": q.points,
            "title": q.spec.get("title", ""),
            "prompt": bank.instance(q).prompt,
            "variants": bank.has_variants(q),
        }
        for bank in banks
        for q in bank.questions
    ]
    if as_json:
        shared.print_json(rows)
        return
    for bank in banks:
        click.echo(click.style(f"{bank.name}: {bank.title}", bold=True))
        for row in (r for r in rows if r["id"].startswith(bank.name + "/")):
            first_line = row["title"] or row["prompt"].splitlines()[0]
            click.echo(f"  {row['id']:<26} {row['type']:<13} {row['points']:>4g} pts  {first_line}")


@quiz.command("show")
@click.argument("question_id")
@_variant_options
@click.pass_context
def quiz_show(
    ctx: click.Context, question_id: str, seed: str | None, student: str | None, secret_file: str | None
) -> None:
    """Show one question as a student sees it."""
    from grader.quiz.render import question_text

    try:
        bank, question = _catalog(ctx).find(question_id)
        click.echo(question_text(bank.instance(question, _variant(seed, student, secret_file))))
    except GraderError as exc:
        shared.fail(exc)


@quiz.command("template")
@click.argument("bank_names", nargs=-1, required=True, metavar="BANK...")
@_variant_options
@click.option("--feedback", type=click.Choice(["immediate", "after-grading"]), help=FEEDBACK_HELP + " [with --student]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="write to this file")
@click.option(
    "--format",
    "sheet_format",
    type=click.Choice(["yaml", "ipynb"]),
    default="yaml",
    show_default=True,
    help="a YAML sheet, or a notebook whose answer(...) cells give feedback at once (needs -o)",
)
@click.pass_context
def quiz_template(
    ctx: click.Context,
    bank_names: tuple[str, ...],
    seed: str | None,
    student: str | None,
    secret_file: str | None,
    feedback: str | None,
    sheet_format: str,
    output: str | None,
) -> None:
    """Write a blank answer sheet for one or more BANKs (with --student: that student's graded
    variant, its numbers written on the sheet and signed with the course secret)."""
    from grader.quiz.handout import Feedback, make
    from grader.quiz.render import sheet

    if feedback and student is None:
        raise click.UsageError("--feedback is for a student's handed-out sheet (--student)")
    try:
        banks = _banks(ctx, bank_names)
        variant = _variant(seed, student, secret_file)
        signed = (
            make(banks, student, shared.secret(secret_file, True), Feedback(feedback or "immediate"))
            if student
            else None
        )
        if sheet_format == "ipynb":
            from grader.quiz.notebook_sheet import notebook_text

            if not output:
                raise click.UsageError("--format ipynb writes a notebook: give its file with -o FILE.ipynb")
            text = notebook_text(banks, variant, signed)
        else:
            text = sheet(banks, variant, signed)
    except GraderError as exc:
        shared.fail(exc)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


@quiz.command("handout")
@click.argument("bank_names", nargs=-1, required=True, metavar="BANK...")
@click.option(
    "--roster", "roster_path", required=True, type=click.Path(dir_okay=False), help=ROSTER_HELP.split(", kept")[0]
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="folder for the sheets (one STUDENT.yaml each)"
)
@click.option(
    "--id-column",
    help="the roster's column of student ids, written on each sheet's student line (default: Canvas's SIS "
    "Login ID, else SIS User ID, else ID; in another table: student, id, login, username or email)",
)
@click.option(
    "--feedback",
    type=click.Choice(["immediate", "after-grading"]),
    default="immediate",
    show_default=True,
    help=FEEDBACK_HELP,
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False),
    help="the course secret (default: $GRADER_COURSE_SECRET_FILE, or the secret itself in $GRADER_COURSE_SECRET)",
)
@click.pass_context
def quiz_handout(
    ctx: click.Context,
    bank_names: tuple[str, ...],
    roster_path: str,
    out: str,
    id_column: str | None,
    feedback: str,
    secret_file: str | None,
) -> None:
    """Write one answer sheet per roster student: every BANK in one sheet, the student's graded
    numbers written on it and signed with the course secret."""
    from pathlib import Path

    from grader.errors import CourseSecretError
    from grader.quiz.handout import Feedback
    from grader.quiz.roster_sheets import write_sheets
    from grader.quiz.variants import HOW_TO_GIVE
    from grader.roster import read_roster

    try:
        banks = _banks(ctx, bank_names)
        secret = shared.secret(secret_file, needed=True)
        if secret is None:
            raise CourseSecretError(
                f"grader quiz handout signs each sheet with the course secret: give it by {HOW_TO_GIVE}"
            )
        roster = read_roster(roster_path, id_column)
        written = write_sheets(banks, roster, Path(out), secret, Feedback(feedback))
    except GraderError as exc:
        shared.fail(exc)
    for note in roster.skipped:
        click.echo(f"note: {note}", err=True)
    click.echo(
        f"wrote {len(written)} sheets to {out} ({', '.join(b.name for b in banks)}; feedback {feedback}), "
        f"e.g. {written[0]}"
    )


@quiz.command("key")
@click.argument("bank_name", metavar="BANK")
@_variant_options
@click.pass_context
def quiz_key(
    ctx: click.Context, bank_name: str, seed: str | None, student: str | None, secret_file: str | None
) -> None:
    """Print BANK's answer key as a filled answer sheet (graded variants need the course secret)."""
    from grader.quiz.render import template

    try:
        click.echo(template(_catalog(ctx).bank(bank_name), _variant(seed, student, secret_file), with_key=True))
    except GraderError as exc:
        shared.fail(exc)


@quiz.command("check")
@click.argument("answers", type=click.Path(dir_okay=True))
@_variant_options
@click.option("--grades", type=click.Path(), help="instructor's scores for written answers (YAML)")
@click.option("--reveal", is_flag=True, help="show the expected answers and model answers")
@click.option("--json", "as_json", is_flag=True, help="print the result document (JSON)")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="also write the report as an HTML page")
@click.pass_context
def quiz_check(
    ctx: click.Context,
    answers: str,
    seed: str | None,
    student: str | None,
    secret_file: str | None,
    grades: str | None,
    reveal: bool,
    as_json: bool,
    html_file: str | None,
) -> None:
    """Grade an answer sheet (YAML: question id -> answer).

    The variant: --seed or --student, else the sheet's own 'student' (its graded variant with
    the course secret; without it, a practice check on other numbers) or 'seed' (practice)."""
    from grader.quiz.render import report_text, result_document
    from grader.quiz.sheets import as_handed_out, grade_sheet, read_grades
    from grader.quiz.variants import VariantKind

    _one_variant(seed, student)
    try:
        catalog = _catalog(ctx)
        secret = shared.secret(secret_file, needed=True)
        scores = read_grades(grades, catalog) if grades else None
        result = as_handed_out(grade_sheet(catalog, answers, seed, scores, student=student, secret=secret))
    except GraderError as exc:
        shared.fail(exc)
    if reveal and result.variant.kind is VariantKind.SHEET:
        click.echo("note: --reveal shows no key when a handed-out sheet is checked without the course secret", err=True)
    if html_file:
        from grader.quiz.render import report_html

        with open(html_file, "w", encoding="utf-8") as handle:
            handle.write(report_html(result, reveal))
    if as_json:
        shared.print_json(result_document(result, reveal))
    else:
        click.echo(report_text(result, reveal))


@quiz.command("suggest")
@click.argument("answers", type=click.Path(dir_okay=False))
@click.option(
    "--model",
    type=click.Choice(["hybrid", "wordllama", "lexical"]),
    help="similarity model (default: hybrid; lexical without the review extra)",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def quiz_suggest(ctx: click.Context, answers: str, model: str | None, as_json: bool) -> None:
    """Suggest points for the written answers on a sheet: key points covered and missed."""
    from grader.review.suggest import sheet_text, suggest_sheet

    try:
        found, note = suggest_sheet(_catalog(ctx), answers, model)
    except GraderError as exc:
        shared.fail(exc)
    if note:
        click.echo(f"note: {note}", err=True)
    if as_json:
        shared.print_json([{"id": f.question, "answer": f.answer, **f.suggestion.document()} for f in found])
    else:
        click.echo(sheet_text(found))


@quiz.command("export")
@click.argument("bank_name", metavar="BANK")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(LMS_FORMATS),
    required=True,
    help="moodle (Moodle XML), qti (a Canvas QTI 1.2 zip) or gift (Moodle's text format)",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the file to write")
@click.option(
    "--variants",
    type=click.IntRange(0, 100),
    default=0,
    show_default=True,
    help="practice variants of each numeric question (their own category in Moodle, a pick-1 group in Canvas)",
)
@click.pass_context
def quiz_export(ctx: click.Context, bank_name: str, fmt: str, out: str, variants: int) -> None:
    """Export BANK to a learning platform, keys and slip feedback computed by the calculators."""
    from pathlib import Path

    from grader.lms.export import export_bank

    try:
        written = export_bank(_catalog(ctx).bank(bank_name), fmt, Path(out), variants)
    except GraderError as exc:
        shared.fail(exc)
    for line in written.lines():
        click.echo(line, err=True)
