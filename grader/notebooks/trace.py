"""Typed records of what crossed from the student's kernel and the measuring process.

The kernel trace (``kernel_trace.py`` sends it as JSON lines, inside the kernel, with the
standard library only, on a pipe read here by :class:`RecordStream` as the notebook runs)
and the measurement are read here once, checked against their JSON Schemas
(``schemas/kernel-trace.schema.json``, ``schemas/measurement.schema.json``), and turned
into dataclasses, so that the checks, the preprocessing inference and the reports read
fields, not dictionary keys spelled in several modules.

The record comes from the student's kernel: what was sent cannot be rewritten later, but
code in the kernel could still send made-up records. :meth:`KernelTrace.contradictions`
compares it with what the saved model itself says (read by the measuring process), and the
grader credits nothing from a record that contradicts it.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from grader.errors import TraceError
from grader.notebooks.budget import BudgetStop
from grader.notebooks.kernel_trace import SAMPLE_LIMIT
from grader.schemas import schema_errors


def _known(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``doc`` that ``cls`` has fields for (older or partial records load too)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


def _with_input(cls: type, doc: dict[str, Any]) -> Any:
    """A fit or call record, its input summary typed too."""
    return cls(**{**_known(cls, doc), "input": InputSummary.read(doc.get("input"))})


def _with_budget_stop(cls: type, doc: dict[str, Any]) -> Any:
    """A training record, why the budget stopped it typed too (the schema checked the value)."""
    stop = doc.get("stopped_by_budget")
    typed = {**doc, "stopped_by_budget": BudgetStop(stop) if stop else None}
    if "image_prints" in typed and typed["image_prints"] is None:
        typed["image_prints"] = []
    return _with_input(cls, typed) if cls is FitRecord else cls(**_known(cls, typed))


@dataclass(frozen=True)
class InputSummary:
    """Shape, value range and first sample of what a call received."""

    shape: list[Any]
    min: float
    max: float
    first: list[float] = field(default_factory=list)
    dtype: str = ""

    @classmethod
    def read(cls, doc: dict[str, Any] | None) -> InputSummary | None:
        return cls(**_known(cls, doc)) if doc else None


@dataclass(frozen=True)
class FitRecord:
    """One call to ``fit``: how long, on what, with which parameters frozen."""

    model: int
    epochs_run: int = 0
    seconds: float = 0.0
    model_name: str = ""
    epochs_requested: Any = None
    epochs_done: float | None = None
    stopped_by_budget: BudgetStop | None = None
    examples: int | None = None  # training examples the call processed (counted batch by batch)
    multiply_adds_per_example: int | None = None  # the model's forward multiply-adds per example
    samples: int | None = None
    input: InputSummary | None = None
    trainable_params: int = 0
    frozen_params: int = 0
    total_params: int = 0
    label_counts: dict[str, int] | None = None
    train_hashes: list[str] | None = None
    validation_hashes: list[str] | None = None
    image_prints: list[str] = field(default_factory=list)
    validation_split: float = 0.0
    data_kind: str = ""
    layers: list[Any] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch metrics Keras reported
    optimizer: int | None = None  # which optimizer object trained (a serial number in the kernel)
    iterations: int | None = None  # that optimizer's step count after this fit
    steps: int | None = None  # training steps this fit took


@dataclass(frozen=True)
class OtherTraining:
    """A model's training outside fit: ``train_on_batch`` calls, or the optimizer steps of an
    custom loop (counted against the budget like fit's batches; skipped once it is used)."""

    model: int
    how: str
    steps: int = 0
    examples: int = 0
    skipped_steps: int = 0
    seconds: float = 0.0
    stopped_by_budget: BudgetStop | None = None
    image_prints: list[str] = field(default_factory=list)  # of the images trained on, against the held-out digits


class RecordKind(StrEnum):
    """What one line of the kernel's record holds (its ``record`` field). The kernel side
    (``kernel_trace.py``, standalone in the student's kernel) writes these as literals; a test
    holds the two equal."""

    FIT = "fit"
    CALL = "call"
    LOADED = "loaded"
    OTHER_TRAINING = "other_training"
    HASHES = "hashes"  # long hash lists, sent once and referred to by id
    MODEL = "model"
    SAVED = "saved"
    TRAINED = "trained"
    DETERMINISM = "determinism"
    END = "end"


class CallKind(StrEnum):
    """Which model method a :class:`CallRecord` saw (the kernel trace schema's enum)."""

    EVALUATE = "evaluate"
    PREDICT = "predict"


# The records that are kept as a list of the trace, by the trace document's key.
_LISTED = {
    RecordKind.FIT: "fits",
    RecordKind.CALL: "inputs",
    RecordKind.LOADED: "loaded",
    RecordKind.OTHER_TRAINING: "other_training",
}


@dataclass(frozen=True)
class CallRecord:
    """One call to ``evaluate`` or ``predict`` outside training."""

    call: CallKind
    model: int
    input: InputSummary | None = None
    hashes: list[str] | None = None
    label_counts: dict[str, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "call", CallKind(self.call))


@dataclass(frozen=True)
class LoadedRecord:
    """A model or weights file the notebook loaded: a candidate pretrained base."""

    how: str
    name: str | None = None
    layers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelRecord:
    """The model chosen for grading, as the kernel saw it before saving it."""

    id: int
    params: int = 0
    name: str = ""
    kind: str = ""  # its Python class (``class`` in the JSON)
    trained: bool = False
    layers: list[dict[str, Any]] = field(default_factory=list)
    input_shape: list[Any] | None = None
    optimizer: int | None = None  # the serial number of its optimizer when it was saved

    @classmethod
    def read(cls, doc: dict[str, Any] | None) -> ModelRecord | None:
        if not doc:
            return None
        return cls(**_known(cls, doc), kind=doc.get("class", ""))

    def document(self) -> dict[str, Any]:
        """The JSON shape of the result document's ``model`` field."""
        return {
            "name": self.name,
            "class": self.kind,
            "id": self.id,
            "trained": self.trained,
            "params": self.params,
            "layers": self.layers,
            "input_shape": self.input_shape,
        }


@dataclass(frozen=True)
class KernelTrace:
    """Everything the kernel recorded. Information only: the student's code could have
    changed it, so points rest on the saved model measured elsewhere."""

    fits: tuple[FitRecord, ...] = ()
    inputs: tuple[CallRecord, ...] = ()
    loaded: tuple[LoadedRecord, ...] = ()
    model: ModelRecord | None = None
    model_found: str = ""
    model_sha256: str | None = None  # of the file the kernel saved, just after saving it
    trained_models: tuple[dict[str, Any], ...] = ()  # the layer graph of every model that was trained
    other_training: tuple[OtherTraining, ...] = ()  # training outside fit, per model
    determinism_off: str | None = None  # why TensorFlow's op determinism was turned off, if it was

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> KernelTrace:
        fits = tuple(_with_budget_stop(FitRecord, f) for f in doc.get("fits", []))
        other = tuple(_with_budget_stop(OtherTraining, o) for o in doc.get("other_training", []))
        model = ModelRecord.read(doc.get("model"))
        if model is not None:  # trained or not is what the training records say, not what the kernel concluded
            trained = any(f.model == model.id for f in fits) or any(o.model == model.id and o.steps for o in other)
            model = ModelRecord(**{**model.__dict__, "trained": trained})
        return cls(
            fits=fits,
            inputs=tuple(_with_input(CallRecord, c) for c in doc.get("inputs", [])),
            loaded=tuple(LoadedRecord(**_known(LoadedRecord, d)) for d in doc.get("loaded", [])),
            model=model,
            model_found=doc.get("model_found") or "",
            model_sha256=doc.get("model_sha256"),
            trained_models=tuple(c for c in doc.get("trained_models", []) if isinstance(c, dict)),
            other_training=other,
            determinism_off=doc.get("determinism_off"),
        )

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> KernelTrace:
        """The trace from the records the kernel sent, in order, up to its last one ("end");
        checked against the schema like a trace file."""
        doc: dict[str, Any] = {"fits": [], "inputs": [], "loaded": [], "model": None, "model_found": ""}
        doc["other_training"] = []
        hashes: dict[str, Any] = {}
        for record in records:
            record = dict(record)
            kind = record.pop("record", None)
            if kind == RecordKind.END:
                break
            if kind == RecordKind.HASHES:
                hashes[str(record.get("id"))] = record.get("values")
            elif kind in _LISTED:
                for key, value in record.items():
                    if isinstance(value, dict) and set(value) == {"same_as"}:
                        record[key] = hashes.get(str(value["same_as"]))
                doc[_LISTED[RecordKind(kind)]].append(record)
            elif kind == RecordKind.MODEL:
                doc.update(model=record.get("model"), model_found=record.get("model_found") or "")
            elif kind == RecordKind.SAVED:
                doc["model_sha256"] = record.get("sha256")
            elif kind == RecordKind.TRAINED:
                doc["trained_models"] = record.get("configs") or []
            elif kind == RecordKind.DETERMINISM:
                doc["determinism_off"] = str(record.get("off") or "")
        errors = schema_errors(doc, "kernel-trace")
        if errors:
            where = "/".join(map(str, errors[0].absolute_path)) or "top level"
            raise TraceError(f"the kernel's record breaks its format at {where}: {errors[0].message}")
        return cls.from_dict(doc)

    def contradictions(self, saved: dict[str, Any] | None) -> list[str]:
        """Where this record contradicts what the saved model itself says (``saved``: its
        parameters, layers and optimizer steps, as the measuring process read them). Each is
        impossible for a record the hidden code made of a model the notebook trained."""
        model = self.model
        if model is None or not saved:
            return []
        found = []
        if saved.get("params") is not None and saved["params"] != model.params:
            found.append(f"it gives the model {model.params:,} parameters; the saved model has {saved['params']:,}")
        said = [[layer.get("name"), layer.get("class")] for layer in model.layers]
        if saved.get("layers") is not None and said != saved["layers"]:
            found.append("its list of the model's layers is not the saved model's")
        fits = self.fits_of(model.id)
        for fit in fits:
            found.extend(_incomplete(fit))
            if fit.steps is not None and fit.steps < fit.epochs_run:
                found.append(f"a fit call is said to have run {fit.epochs_run} epochs in {fit.steps} training steps")
        steps = saved.get("optimizer_iterations")
        same = [f for f in fits if model.optimizer is not None and f.optimizer == model.optimizer]
        if steps is not None and same and "LossScale" not in str(saved.get("optimizer") or ""):
            claimed = max(f.iterations or 0 for f in same)
            taken = sum(f.steps or 0 for f in same)
            if max(claimed, taken) > steps:
                found.append(
                    f"its fit calls took the optimizer to step {max(claimed, taken):,}, but the saved "
                    f"model's optimizer has taken {steps:,} steps"
                )
        return found

    @classmethod
    def read(cls, path: Path) -> KernelTrace:
        """The trace file, checked against its schema; an empty trace when there is none."""
        if not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise TraceError(f"{path}: the kernel's record is not JSON ({exc})") from None
        errors = schema_errors(doc, "kernel-trace")
        if errors:
            where = "/".join(map(str, errors[0].absolute_path)) or "top level"
            raise TraceError(f"{path}: the kernel's record breaks its format at {where}: {errors[0].message}")
        return cls.from_dict(doc)

    def fits_of(self, model_id: int | None) -> list[FitRecord]:
        return [f for f in self.fits if f.model == model_id]

    def evaluations_of(self, model_id: int | None) -> list[CallRecord]:
        return [c for c in self.inputs if c.call is CallKind.EVALUATE and c.model == model_id]


ARRAY_KINDS = ("ndarray", "EagerTensor", "Tensor", "ResourceVariable")  # data the hidden code always hashes


def _incomplete(fit: FitRecord) -> list[str]:
    """What a fit record made by the hidden code always carries and this one lacks: the
    optimizer steps the call took, and the content hashes of array data (the held-out check
    rests on them)."""
    missing = []
    if fit.steps is None:
        missing.append("a fit call records no training steps")
    if fit.data_kind in ARRAY_KINDS and (fit.samples or 0) <= SAMPLE_LIMIT and fit.train_hashes is None:
        missing.append(f"a fit call on {fit.data_kind} data records no hashes of its images")
    return missing


class RecordStream:
    """The kernel's record as it happens: a pipe whose write end the kernel inherits (its
    number is in the hidden code's configuration) and whose read end only the grader holds.
    A thread reads it while the notebook runs, up to ``limit`` bytes (a notebook cannot
    make the grader hold more)."""

    HASHES = b'{"record": "hashes"'

    def __init__(self, limit: int = 256 * 2**20) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.write_fd, True)
        self.limit = limit
        self.lines: list[bytes] = []
        self.size = 0
        self.cut = False  # some of what was sent was dropped: past ``limit`` (hash lists) or twice it
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        parts: list[bytes] = []
        with os.fdopen(self.read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 20):
                while (end := chunk.find(b"\n")) >= 0:
                    parts.append(chunk[:end])
                    self._keep(b"".join(parts))
                    parts, chunk = [], chunk[end + 1 :]
                if sum(map(len, parts)) <= 2 * self.limit:
                    parts.append(chunk)

    def _keep(self, line: bytes) -> None:
        """Keep a line unless the limit is reached: past it hash lists are dropped (the checks
        that need them then say so), past twice it everything."""
        if self.size + len(line) > 2 * self.limit or (
            self.size + len(line) > self.limit and line.startswith(self.HASHES)
        ):
            self.cut = True
            return
        self.size += len(line)
        self.lines.append(line)

    def started(self) -> None:
        """The kernel has its copy of the write end: close ours, so the pipe ends with it."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def records(self, timeout: float = 10) -> list[dict[str, Any]]:
        """Every complete record sent (waiting up to ``timeout`` s for the pipe to end; what
        the notebook left running may hold it open). Lines that are not JSON objects are
        skipped."""
        self.started()
        self._thread.join(timeout)
        out = []
        for line in list(self.lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out


@dataclass(frozen=True)
class Measurement:
    """What the measuring process found: accuracy on the held-out images, or why not."""

    accuracy: float | None = None
    images: int = 0
    error: str | None = None
    labels: list[int] = field(default_factory=list)  # the class each row/column of the confusion matrix is
    confusion: list[list[int]] = field(default_factory=list)  # [true][predicted] counts
    mistakes: list[dict[str, Any]] = field(default_factory=list)  # most confident wrong answers first
    model: dict[str, Any] | None = None  # the saved model's parameters, layers and optimizer steps

    @classmethod
    def read(cls, path: Path) -> Measurement:
        doc = json.loads(path.read_text())
        errors = schema_errors(doc, "measurement")
        if errors:
            raise TraceError(f"{path}: the measurement breaks its format: {errors[0].message}")
        return cls(**_known(cls, doc))

    @classmethod
    def failed(cls, error: str) -> Measurement:
        return cls(error=error)


def training_summary(trace: KernelTrace) -> dict[str, Any] | None:
    """How the graded model was trained: calls, epochs, examples (fit's and outside fit), and
    why the budget stopped it, if it did."""
    if not trace.model:
        return None
    own = trace.fits_of(trace.model.id)
    other = [o for o in trace.other_training if o.model == trace.model.id]
    stops = [f.stopped_by_budget for f in own] + [o.stopped_by_budget for o in other]
    requested = [f.epochs_requested for f in own]
    counted = [f.examples for f in own if f.examples is not None] + [o.examples for o in other]
    return {
        "fit_calls": len(own),
        "epochs": sum(f.epochs_run for f in own),
        "seconds": round(sum(f.seconds for f in own) + sum(o.seconds for o in other), 2),
        "samples": own[-1].samples if own else None,
        "examples": sum(counted) if counted else None,
        "steps_outside_fit": sum(o.steps for o in other),
        "multiply_adds_per_example": next(
            (f.multiply_adds_per_example for f in reversed(own) if f.multiply_adds_per_example), None
        ),
        "epochs_requested": sum(requested) if all(isinstance(r, int) for r in requested) else None,
        "epochs_done": round(sum(f.epochs_done or f.epochs_run for f in own), 2),
        "stopped_by_budget": next((stop for stop in stops if stop), None),
    }
