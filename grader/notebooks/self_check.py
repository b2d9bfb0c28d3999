"""The self-check's measurement, in the student's own kernel: the grader's checks on the
grader's record, and the accuracy on MNIST's public test digits.

Everything here is what the grader does, fed from the kernel's own lists instead of the
record pipe: the same model choice (``kernel_trace.choose_model``), the same preprocessing
inference, the same prediction (``measure.predictions``), the same checks and tiers. Only the
digits differ: the public test split that ``keras.datasets.mnist.load_data()`` returns.
"""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import dataclass
from typing import Any

from grader.notebooks import kernel_trace, preprocessing
from grader.notebooks.architecture import Architecture, from_config
from grader.notebooks.assignment import Assignment
from grader.notebooks.budget import budget_outcome
from grader.notebooks.checks import CheckResult, Observed, run_checks
from grader.notebooks.measure import predictions
from grader.notebooks.mnist_data import fingerprint
from grader.notebooks.trace import KernelTrace, training_summary

PUBLIC_ONLY = (
    "This is a self-check on public data (MNIST's own test digits) and on what this notebook did. "
    "Your instructor measures your model on digits you never see, so your grade can differ a little: "
    "this is a prediction, not your grade."
)


@dataclass(frozen=True)
class SelfCheck:
    """What ``check()`` found: the points each check would give, and what to change."""

    assignment: str
    points: float
    points_possible: float
    checks: tuple[CheckResult, ...]
    accuracy: float | None
    notes: tuple[str, ...]
    seconds: float = 0.0  # check() itself (benchmarks/self_check.py)
    predict_seconds: float = 0.0  # of which the model's own prediction on the public digits

    def report(self) -> str:
        lines = [f"Self-check for '{self.assignment}': predicted {self.points:g} of {self.points_possible:g} points."]
        lines += [textwrap.fill(PUBLIC_ONLY, 100), ""]
        for result in self.checks:
            mark = "ok  " if result.fraction >= 1 else "todo"
            lines.append(f"[{mark}] {result.check}: {result.points:g} of {result.points_possible:g}")
            lines += textwrap.wrap(result.message, 96, initial_indent="       ", subsequent_indent="       ")
        lines += [""] + [textwrap.fill(note, 100) for note in self.notes]
        return "\n".join(lines).rstrip()

    def __str__(self) -> str:
        return self.report()


FULL_MNIST_DISTINCT = 50_000  # distinct training digits from which load_data() is the real MNIST


def _distinct_digits(images: Any) -> int:
    """Distinct training digits, their top row aside: the grader's bundled subset is served at
    MNIST's sizes by repeats that differ only there (``mnist_data.mark_copies``), and is graded
    on its own tiers, so the self-check must tell it from the real MNIST."""
    return len({fingerprint(image[1:]) for image in images})


@dataclass(frozen=True)
class PublicMeasure:
    """The accuracy on the public test digits, as the accuracy check reads it."""

    accuracy: float | None = None
    note: str = "no data to measure on (the notebook loads its own data)"
    full_data: bool = True
    scale: float | None = None
    images: int | None = None
    said: str = ""
    seconds: float = 0.0  # the model's own prediction


def self_check(spec: Assignment, model: Any, namespace: dict[str, Any]) -> SelfCheck:
    """The assignment's checks and the predicted points for ``model`` (None: the model the
    grader would take from ``namespace``)."""
    started = time.perf_counter()
    chosen, why = (
        (model, "the model given to check()")
        if model is not None
        else kernel_trace.choose_model(namespace, spec.model_variable)
    )
    trace = _trace(chosen, why)
    notes = [f"Model checked: {why}." if chosen is not None else f"No model to check: {why or 'none found'}."]
    public = _public_accuracy(spec, trace, chosen) if chosen is not None and spec.data == "mnist" else PublicMeasure()
    trained = tuple(from_config(c) for c in kernel_trace.trained_configs())
    seen = Observed(
        spec, trace, _architecture(chosen), trained, public.accuracy, public.note, public.full_data, public.scale,
        images_measured=public.images,
    )  # fmt: skip
    results = run_checks(seen)
    notes += [public.said] if public.said else []
    notes.append(_training_note(training_summary(trace), spec))
    if trace.model and not trace.model.trained:
        notes.append("The model was never trained (no call to fit): train it before the last cell.")
    return SelfCheck(
        spec.name,
        round(sum(r.points for r in results), 4),
        round(sum(r.points_possible for r in results), 4),
        results,
        public.accuracy,
        tuple(notes),
        round(time.perf_counter() - started, 3),
        round(public.seconds, 3),
    )


def _training_note(training: dict[str, Any] | None, spec: Assignment) -> str:
    """How much of the assignment's training budget this run used, and where the grader stops."""
    budget = budget_outcome(training, spec.budget)
    if budget:
        return budget.message
    used = (training or {}).get("examples")
    done = f"Training used {used:,} examples" if used else "No training was recorded"
    return f"{done}. The assignment allows {spec.budget.describe()}; the grader stops training there, and start() made this notebook do the same."


def _trace(chosen: Any, why: str) -> KernelTrace:
    """The grader's record of this kernel, read from the lists the recording code keeps."""
    doc = {
        "fits": [_plain(f) for f in kernel_trace.FITS],
        "inputs": [_plain(c) for c in kernel_trace.INPUTS],
        "loaded": [_plain(entry) for entry in kernel_trace.LOADED],
        "model": kernel_trace.model_document(chosen) if chosen is not None else None,
        "model_found": why,
        "other_training": [_plain(o) for o in kernel_trace.other_training_records()],
    }
    return KernelTrace.from_dict(doc)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the grader reads it from the pipe (JSON values only)."""
    return json.loads(json.dumps(record, default=str))


def _architecture(chosen: Any) -> Architecture | None:
    return from_config(kernel_trace.model_config(chosen)) if chosen is not None else None


def _public_accuracy(spec: Assignment, trace: KernelTrace, chosen: Any) -> PublicMeasure:
    """The accuracy on the public test digits, with the preprocessing the grader would recognise."""
    import keras
    import numpy as np

    (x_train, _), (x_test, y_test) = keras.datasets.mnist.load_data()
    served = {fingerprint(image) for image in x_train} | {fingerprint(image) for image in x_test}
    model = trace.model
    transform = preprocessing.infer(trace, served, model.id if model else None, model.input_shape if model else None)
    labels, images = np.asarray(y_test), np.asarray(x_test)
    if spec.classes:
        keep = np.isin(labels, spec.classes)
        images, labels = images[keep], labels[keep]
    started = time.perf_counter()
    predicted, _ = predictions(chosen, transform, images, labels, spec.classes)
    seconds = time.perf_counter() - started
    note = f"{len(labels):,} public test digits (load_data()'s test split)"
    return PublicMeasure(
        float((predicted == labels).mean()),
        note,
        _distinct_digits(x_train) >= FULL_MNIST_DISTINCT,
        transform.scale,
        len(labels),
        f"Measured on {note} with the preprocessing the grader recognised: {transform.describe()}.",
        seconds,
    )
