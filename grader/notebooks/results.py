"""The typed result of grading one notebook; the score is computed from its parts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

GRADED, NO_MODEL, MEASURE_FAILED = "graded", "no_model", "measure_failed"


@dataclass(frozen=True)
class NotebookResult:
    notebook: str
    assignment: str
    status: str
    points_possible: float
    fraction: float
    messages: tuple[str, ...]
    data: str
    quick: bool = False
    measured_accuracy: float | None = None
    claimed_accuracy: float | None = None
    tier: str | None = None
    preprocessing: str | None = None
    model: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    seconds: float = 0.0
    executed_notebook: str | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def points(self) -> float:
        return round(self.points_possible * self.fraction, 4)

    def document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["kind"] = "notebook-result"
        doc["points"] = self.points
        doc["messages"], doc["flags"] = list(self.messages), list(self.flags)
        return doc
