"""Typed records of what crossed from the student's kernel and the measuring process.

The kernel trace (``kernel_trace.py`` writes it as JSON, inside the kernel, with the
standard library only) and the measurement are read here once, checked against their
JSON Schemas (``schemas/kernel-trace.schema.json``, ``schemas/measurement.schema.json``),
and turned into dataclasses, so that the checks, the preprocessing inference and the
reports read fields, not dictionary keys spelled in several modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.schemas import schema_errors


class TraceError(GraderError):
    """A record from the kernel or the measuring process that breaks its format."""


def _known(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``doc`` that ``cls`` has fields for (older or partial records load too)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


def _with_input(cls: type, doc: dict[str, Any]) -> Any:
    """A fit or call record, its input summary typed too."""
    return cls(**{**_known(cls, doc), "input": InputSummary.read(doc.get("input"))})


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
    stopped_by_budget: str | None = None
    samples: int | None = None
    input: InputSummary | None = None
    trainable_params: int = 0
    frozen_params: int = 0
    total_params: int = 0
    label_counts: dict[str, int] | None = None
    train_hashes: list[str] | None = None
    validation_hashes: list[str] | None = None
    rank_hashes: list[str] = field(default_factory=list)
    validation_split: float = 0.0
    data_kind: str = ""
    layers: list[Any] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch metrics Keras reported



@dataclass(frozen=True)
class CallRecord:
    """One call to ``evaluate`` or ``predict`` outside training."""

    call: str
    model: int
    input: InputSummary | None = None
    hashes: list[str] | None = None
    label_counts: dict[str, int] | None = None



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

    @classmethod
    def read(cls, doc: dict[str, Any] | None) -> ModelRecord | None:
        if not doc:
            return None
        return cls(**_known(cls, doc), kind=doc.get("class", ""))

    def document(self) -> dict[str, Any]:
        """The JSON shape of the result document's ``model`` field."""
        return {"name": self.name, "class": self.kind, "id": self.id, "trained": self.trained,
                "params": self.params, "layers": self.layers, "input_shape": self.input_shape}


@dataclass(frozen=True)
class KernelTrace:
    """Everything the kernel recorded. Information only: the student's code could have
    changed it, so points rest on the saved model measured elsewhere."""

    fits: tuple[FitRecord, ...] = ()
    inputs: tuple[CallRecord, ...] = ()
    loaded: tuple[LoadedRecord, ...] = ()
    model: ModelRecord | None = None
    model_found: str = ""

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> KernelTrace:
        return cls(fits=tuple(_with_input(FitRecord, f) for f in doc.get("fits", [])),
                   inputs=tuple(_with_input(CallRecord, c) for c in doc.get("inputs", [])),
                   loaded=tuple(LoadedRecord(**_known(LoadedRecord, d)) for d in doc.get("loaded", [])),
                   model=ModelRecord.read(doc.get("model")), model_found=doc.get("model_found") or "")

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
        return [c for c in self.inputs if c.call == "evaluate" and c.model == model_id]


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
