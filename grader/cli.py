"""The ``grader`` command. Thin: it parses arguments and calls the library.

Exit codes: 0 when the work was done (a graded sheet may still have wrong answers),
1 when an input cannot be used (the message says which file and where), 2 for a
command-line mistake. Heavy modules are imported inside the commands that need them,
so ``grader quiz`` never loads TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import click

from grader.batch import ZIP_ENTRY_MB, ZIP_RATIO, ZIP_RATIO_ABOVE_MB, ZIP_TOTAL_MB
from grader.batch.store import CanvasPending
from grader.errors import GraderError
from grader.isolation.process_limits import DEFAULT_MAX_PROCESSES
from grader.lms import FORMATS as LMS_FORMATS

BANKS_HELP = "folder of question banks (default: the banks shipped with the grader)"
CANVAS_PENDING_HELP = (
    "what canvas.csv does with a student whose written answers are not all reviewed yet: hold leaves the "
    "row out (summary.txt lists who) until the review has decided, so no total that is not final reaches "
    "Canvas; mark writes the points so far, with the pending points in a column Canvas's import skips"
)


def _fail(error: GraderError) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + str(error), err=True)
    sys.exit(1)


def _catalog(ctx: click.Context) -> Any:
    from grader.quiz.bank import Catalog

    return Catalog.load(ctx.obj.get("banks"))


def _pattern_option(command: Any) -> Any:
    """--pattern: how a student id is read from each submission's name (grader batch, grader similarity)."""
    return click.option(
        "--pattern",
        default=r"^(?P<student>[^_.]+)",
        show_default=True,
        help="regular expression with a (?P<student>...) group, applied to each file or folder name",
    )(command)


def _secret_file_option(command: Any) -> Any:
    """--secret-file, on every command that reads the course secret."""
    return click.option(
        "--secret-file",
        type=click.Path(dir_okay=False),
        help="the course secret (instructors; default: $GRADER_COURSE_SECRET_FILE, "
        "or the secret itself in $GRADER_COURSE_SECRET)",
    )(command)


def _variant_options(command: Any) -> Any:
    """--seed (a practice variant, anyone), --student (a graded one, the instructor) and --secret-file."""
    command = _secret_file_option(command)
    command = click.option("--student", help="a student's graded variant (needs the course secret)")(command)
    return click.option("--seed", help="a practice variant: any word or number (not graded)")(command)


def _secret(secret_file: str | None, needed: bool) -> bytes | None:
    """The course secret when it is given or needed (a missing or weak one is refused)."""
    from grader.quiz.variants import course_secret

    return course_secret(secret_file) if needed or secret_file else None


def _one_variant(seed: str | None, student: str | None) -> None:
    if seed is not None and student is not None:
        raise click.UsageError("--seed (a practice variant) and --student (a graded one) exclude each other")


def _variant(seed: str | None, student: str | None, secret_file: str | None) -> Any:
    """The variant --seed or --student names (the default without either)."""
    from grader.quiz.variants import chosen

    _one_variant(seed, student)
    return chosen(seed, student, _secret(secret_file, student is not None))


def _print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))


FEEDBACK_HELP = (
    "what 'grader quiz check' tells a student before grading, stated on the sheet: immediate (verdicts and "
    "slip feedback on the sheet's own numbers) or after-grading (only whether each answer can be read)"
)
ROSTER_HELP = (
    "the class roster (CSV: Canvas's gradebook export, or a table with a student, id, login, username or email "
    "column), kept as OUT/roster.csv: canvas.csv then carries each student's Canvas ids"
)


def _banks(ctx: click.Context, names: tuple[str, ...]) -> list[Any]:
    catalog = _catalog(ctx)
    return [catalog.bank(name) for name in dict.fromkeys(names)]


def _keep_roster(out: str, roster: str) -> None:
    """Check the roster given to a batch or an export and keep it in OUT for every export."""
    from pathlib import Path

    from grader.roster import ROSTER_FILE, keep_roster

    try:
        kept = keep_roster(Path(out), roster)
    except GraderError as exc:
        _fail(exc)
    click.echo(f"roster: {len(kept.students)} students from {roster}, kept as {Path(out) / ROSTER_FILE}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnn-homework-grader")
def main() -> None:
    """Grade CNN homework: quizzes with computed answer keys, and notebooks run for real."""


@main.group()
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
        _fail(exc)
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
        _print_json(rows)
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
        _fail(exc)


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
            make(banks, student, _secret(secret_file, True), Feedback(feedback or "immediate")) if student else None
        )
        if sheet_format == "ipynb":
            from grader.quiz.notebook_sheet import notebook_text

            if not output:
                raise click.UsageError("--format ipynb writes a notebook: give its file with -o FILE.ipynb")
            text = notebook_text(banks, variant, signed)
        else:
            text = sheet(banks, variant, signed)
    except GraderError as exc:
        _fail(exc)
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
        secret = _secret(secret_file, needed=True)
        if secret is None:
            raise CourseSecretError(
                f"grader quiz handout signs each sheet with the course secret: give it by {HOW_TO_GIVE}"
            )
        roster = read_roster(roster_path, id_column)
        written = write_sheets(banks, roster, Path(out), secret, Feedback(feedback))
    except GraderError as exc:
        _fail(exc)
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
        _fail(exc)


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
    from grader.quiz.variants import SHEET

    _one_variant(seed, student)
    try:
        catalog = _catalog(ctx)
        secret = _secret(secret_file, needed=True)
        scores = read_grades(grades, catalog) if grades else None
        result = as_handed_out(grade_sheet(catalog, answers, seed, scores, student=student, secret=secret))
    except GraderError as exc:
        _fail(exc)
    if reveal and result.variant.kind == SHEET:
        click.echo("note: --reveal shows no key when a handed-out sheet is checked without the course secret", err=True)
    if html_file:
        from grader.quiz.render import report_html

        with open(html_file, "w", encoding="utf-8") as handle:
            handle.write(report_html(result, reveal))
    if as_json:
        _print_json(result_document(result, reveal))
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
        _fail(exc)
    if note:
        click.echo(f"note: {note}", err=True)
    if as_json:
        _print_json([{"id": f.question, "answer": f.answer, **f.suggestion.document()} for f in found])
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
        _fail(exc)
    for line in written.lines():
        click.echo(line, err=True)


def _with_cell_timeout(spec: Any, cell_timeout: float) -> Any:
    """The assignment with --cell-timeout, saying when it was raised to what its training budget needs."""
    spec, note = spec.with_cell_timeout(cell_timeout)
    if note:
        click.echo(f"note: {note}", err=True)
    return spec


def _cell_timeout_note(assignment: str, cell_timeout: float) -> None:
    from grader.notebooks.assignment import load_assignment

    try:
        _with_cell_timeout(load_assignment(assignment), cell_timeout)
    except GraderError as exc:
        _fail(exc)


def _grade_notebook(
    notebook: str, assignment: str, out: str | None, quick: bool, cell_timeout: float | None = None
) -> Any:
    from pathlib import Path

    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.grading import grade_notebook

    try:
        spec = load_assignment(assignment)
    except GraderError as exc:
        _fail(exc)
    if cell_timeout:
        spec = _with_cell_timeout(spec, cell_timeout)
    out_dir = Path(out) if out else Path("grader-out") / Path(notebook).stem
    try:
        return grade_notebook(Path(notebook), spec, out_dir, quick=quick)
    except GraderError as exc:
        _fail(exc)


@main.command()
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "--assignment",
    "-a",
    default="mnist-cnn",
    show_default=True,
    help="a shipped assignment name or an assignment YAML file",
)
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
        _print_json(document)
    else:
        click.echo(report.text(result))


@main.command()
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "--assignment",
    "-a",
    default="mnist-cnn",
    show_default=True,
    help="a shipped assignment name or an assignment YAML file",
)
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


@main.command()
@click.argument("submissions", type=click.Path(exists=True))
@click.option(
    "--assignment",
    "-a",
    required=True,
    help="notebook assignment (name or YAML file); answer sheets (.yaml) are graded as quizzes",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="folder for results and reports")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="submissions at once")
@_pattern_option
@click.option("--regrade", is_flag=True, help="grade again even what was already graded")
@click.option("--roster", type=click.Path(dir_okay=False), help=ROSTER_HELP)
@_secret_file_option
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
    from pathlib import Path

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from grader.batch import Limits, ZipLimits, run_batch
    from grader.batch.store import BatchRow
    from grader.batch.submissions import is_quiz

    if cell_timeout and not is_quiz(assignment):
        _cell_timeout_note(assignment, cell_timeout)
    try:
        secret = _secret(secret_file, needed=True)
    except GraderError as exc:
        _fail(exc)
    if roster:
        _keep_roster(out, roster)
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

        def on_result(row: BatchRow, reused: bool) -> None:
            counts["failed" if row.status.is_failure else "done"] += 1
            progress.update(task, advance=1, status=f"done {counts['done']}, failed {counts['failed']}")

        try:
            with contextlib.ExitStack() as stack:
                executor = None
                if scheduler:
                    from grader.batch.distributed import cluster_executor

                    executor = stack.enter_context(cluster_executor(scheduler))
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
                    on_start=lambda total: progress.update(task, total=total),
                    executor=executor,
                    canvas_pending=CanvasPending(canvas_pending),
                )
        except GraderError as exc:
            _fail(exc)
    click.echo((Path(out) / "summary.txt").read_text())
    click.echo(
        f"gradebook: {Path(out) / 'gradebook.csv'}  canvas: {Path(out) / 'canvas.csv'}  "
        f"gradescope: {Path(out) / 'gradescope'}/STUDENT/results.json  feedback: {Path(out) / 'feedback'}\n"
        f"class report: {Path(out) / 'report.html'}"
    )


@main.command("export")
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
    from pathlib import Path

    from grader.batch.exports import export

    if roster:
        _keep_roster(out, roster)
    try:
        written = export(Path(out), CanvasPending(canvas_pending) if canvas_pending else None)
    except GraderError as exc:
        _fail(exc)
    for name, paths in written:
        if len(paths) > 1:
            click.echo(f"{name}: {len(paths)} files under {os.path.commonpath(paths)}")
        else:
            click.echo(f"{name}: {paths[0] if paths else 'none to rewrite'}")


@main.command()
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
@_secret_file_option
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
            course_secret=_secret(secret_file, needed=True),
            practice=practice,
        )
    except GraderError as exc:
        _fail(exc)
    except ImportError as exc:
        _fail(GraderError(f"grader review needs the review extra ({exc.name} is missing): pip install -e '.[review]'"))


@main.command()
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
@_pattern_option
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
        _fail(exc)
    for note in found.not_compared:
        click.echo(f"not compared: {note}", err=True)
    click.echo(
        f"{len(found.students)} students compared, {len(found.flagged)} similar pairs flagged "
        f"(score {found.threshold:g} or more)"
    )
    for pair in found.flagged:
        click.echo(f"  {pair.score:.2f}  {pair.a} and {pair.b}  ({pair.strongest})")
    click.echo(f"similarity: {written[0]}  page: {written[1]}")
