"""Grading one MNIST notebook, from the file to a typed result.

notebook -> read (or ``invalid_notebook``) -> scratch copy -> run with hidden setup and
finish cells -> saved model + record -> measured in a separate process on held-out digits
with the student's own preprocessing -> points from the assignment's tiers.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import nbformat

from grader.notebooks import execute as ex
from grader.notebooks import preprocessing
from grader.notebooks.assignment import Assignment
from grader.notebooks.data_cache import PreparedData, prepare_data
from grader.notebooks.measure import Measurer
from grader.notebooks.results import GRADED, MEASURE_FAILED, NO_MODEL, NotebookResult
# Every status a notebook result can have.
STATUSES = (GRADED, ex.ERROR, ex.TIMEOUT, ex.DEAD_KERNEL, ex.OUT_OF_MEMORY, ex.INVALID, NO_MODEL, MEASURE_FAILED)

QUICK_SAMPLES = 256  # images per fit call in a quick check
_CLAIM = re.compile(r"acc(?:uracy)?[^0-9\n]{0,40}?(\d{1,3}(?:\.\d+)?)\s*(%?)", re.IGNORECASE)


def claimed_accuracy(nb: Any) -> float | None:
    """The last accuracy the notebook printed (stdout or a displayed value), as a fraction."""
    claims = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" and output.get("name") == "stdout" \
                else output.get("data", {}).get("text/plain", "")
            for match in _CLAIM.finditer(text if isinstance(text, str) else "".join(text)):
                value = float(match.group(1))
                if match.group(2) or value > 1:
                    value /= 100
                if 0 <= value <= 1:
                    claims.append(value)
    return claims[-1] if claims else None


def _hidden_code(config: dict[str, Any]) -> tuple[str, str]:
    source = Path(__file__).with_name("kernel_trace.py").read_text()
    setup = (
        "import sys as _gs, types as _gt, json as _gj\n"
        "_gm = _gt.ModuleType('_grader_trace')\n"
        f"exec(compile({source!r}, '<grader setup>', 'exec'), _gm.__dict__)\n"
        "_gs.modules['_grader_trace'] = _gm\n"
        f"_gm.install(_gj.loads({json.dumps(config)!r}))\n"
        "del _gs, _gt, _gj, _gm\n"
    )
    finish = (
        "import sys as _gs\n"
        f"_gs.modules['_grader_trace'].finish(globals(), {config['out_dir']!r}, {config.get('variable')!r})\n"
        "del _gs\n"
    )
    return setup, finish


def grade_mnist(notebook: Path, assignment: Assignment, out_dir: Path, *, quick: bool = False) -> NotebookResult:
    """Run and grade one submission; every student failure becomes a result with a status."""
    notebook = Path(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = dict(notebook=str(notebook), assignment=assignment.name, points_possible=assignment.points, quick=quick)
    try:
        nb = ex.read_notebook(notebook)
    except ValueError as exc:
        return NotebookResult(status=ex.INVALID, fraction=0.0, messages=(str(exc),), data="", **base)
    data = prepare_data(assignment)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as scratch_name:
        scratch = Path(scratch_name) / "work"
        shutil.copytree(notebook.parent, scratch, ignore=shutil.ignore_patterns("*.graded", ".git", "grader-out"))
        private = Path(scratch_name) / "grader"
        private.mkdir()
        config = {"served_data": str(data.served), "out_dir": str(private), "variable": assignment.model_variable,
                  "quick": quick, "quick_samples": QUICK_SAMPLES}
        setup, finish = _hidden_code(config)
        measurer = Measurer()
        limits = ex.RunLimits(
            cell_timeout=min(assignment.cell_timeout, 120) if quick else assignment.cell_timeout,
            notebook_timeout=min(assignment.notebook_timeout, 300) if quick else assignment.notebook_timeout,
            memory_mb=assignment.memory_mb)
        run = ex.execute(nb, scratch, setup, finish, limits, env=ex.kernel_env())
        executed = out_dir / f"{notebook.stem}.executed.ipynb"
        nbformat.write(run.notebook, str(executed))
        trace_path, model_path = private / "trace.json", private / "model.keras"
        trace = json.loads(trace_path.read_text()) if trace_path.exists() else {}
        try:
            result = _assess(run, trace, model_path, data, assignment, private, measurer, quick)
        finally:
            measurer.close()
    return NotebookResult(
        executed_notebook=str(executed), seconds=run.seconds, data=data.description, **base, **result)


def _assess(run: ex.Execution, trace: dict[str, Any], model_path: Path, data: PreparedData,
            assignment: Assignment, workdir: Path, measurer: Measurer, quick: bool = False) -> dict[str, Any]:
    """Status, score, messages and details from what the run left behind."""
    messages: list[str] = []
    flags: list[str] = []
    problem = asdict(run.problem) if run.problem else None
    claimed = claimed_accuracy(run.notebook)
    model = trace.get("model")
    fits = trace.get("fits", [])
    training = None
    if model:
        own = [f for f in fits if f["model"] == model["id"]]
        training = {"fit_calls": len(own), "epochs": sum(f["epochs_run"] for f in own),
                    "seconds": round(sum(f["seconds"] for f in own), 2),
                    "samples": own[-1]["samples"] if own else None}
    out: dict[str, Any] = {"claimed_accuracy": claimed, "problem": problem, "model": model, "training": training}
    if run.status != ex.OK:
        messages.append(_problem_text(run))
        if run.status in (ex.TIMEOUT, ex.DEAD_KERNEL, ex.OUT_OF_MEMORY) or not model_path.exists():
            return {**out, "status": run.status, "fraction": 0.0, "messages": tuple(messages), "flags": ()}
    if not model_path.exists():
        why = trace.get("model_found") or "the notebook never created a Keras model"
        messages.append(f"No model to grade: {why}. Build and train a Keras model"
                        + (f" and keep it in the variable '{assignment.model_variable}'." if assignment.model_variable else "."))
        return {**out, "status": NO_MODEL, "fraction": 0.0, "messages": tuple(messages), "flags": ()}
    if model and not model["trained"]:
        flags.append("never_trained")
        messages.append("The model was never trained (no call to fit).")
    transform = preprocessing.infer(trace, set(data.fingerprints), model["id"] if model else None,
                                    model.get("input_shape") if model else None)
    measured = measurer.measure(model_path, data.heldout, transform, assignment.measure_timeout, workdir)
    out["preprocessing"] = transform.describe()
    if "error" in measured:
        messages.append(f"The saved model could not be measured: {measured['error']}")
        return {**out, "status": MEASURE_FAILED, "fraction": 0.0, "messages": tuple(messages), "flags": tuple(flags)}
    accuracy = measured["accuracy"]
    if quick:
        messages.append(f"Quick check passed: the notebook ran, and its trained model was saved, reloaded and "
                        f"measured ({accuracy:.0%} after one short epoch on {QUICK_SAMPLES} images: not your grade). "
                        "Run without --quick for the real measurement.")
        return {**out, "status": GRADED if run.status == ex.OK else run.status, "fraction": 0.0,
                "measured_accuracy": round(accuracy, 4), "messages": tuple(messages), "flags": tuple(flags)}
    fraction, tier = assignment.score(accuracy, data.full)
    out.update(measured_accuracy=round(accuracy, 4),
               tier=(f">= {tier.min_accuracy:.1%}" if tier else "below every tier"))
    messages.append(f"Measured accuracy {accuracy:.2%} on {measured['images']:,} held-out digits"
                    f" ({'full MNIST' if data.full else 'bundled subset'} tiers: "
                    f"{_tier_text(assignment, data.full)}).")
    if tier is None or fraction < 1:
        best = max(assignment.tiers(data.full), key=lambda t: t.min_accuracy)
        messages.append(f"Full marks need {best.min_accuracy:.1%}.")
    if claimed is not None and abs(claimed - accuracy) > assignment.claimed_gap:
        flags.append("claimed_accuracy_gap")
        messages.append(f"The notebook printed an accuracy of {claimed:.2%}, but the grader measured "
                        f"{accuracy:.2%}: points come only from the measured value.")
    if not transform.verified:
        flags.append("preprocessing_not_recognised")
        messages.append("The grader could not recognise the notebook's preprocessing; measured with "
                        + transform.describe())
    status = GRADED if run.status == ex.OK else run.status
    return {**out, "status": status, "fraction": fraction, "messages": tuple(messages), "flags": tuple(flags)}


def _tier_text(assignment: Assignment, full: bool) -> str:
    return ", ".join(f"{t.min_accuracy:.1%}->{t.fraction:.0%}" for t in
                     sorted(assignment.tiers(full), key=lambda t: -t.min_accuracy))


def _problem_text(run: ex.Execution) -> str:
    p = run.problem
    assert p is not None
    if run.status == ex.ERROR:
        where = f" at line {p.line_number}: {p.line}" if p.line else ""
        return f"Cell {p.cell} raised {p.kind}: {p.message}{where}"
    return p.message[:1].upper() + p.message[1:] + "."
