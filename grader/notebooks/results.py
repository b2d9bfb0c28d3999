"""The typed result of grading one notebook; its points are the sum of its checks'."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from grader.notebooks.checks import CheckResult
from grader.notebooks.flags import Flag
from grader.notebooks.status import Status
from grader.schemas import DocumentKind


@dataclass(frozen=True)
class NotebookResult:
    notebook: str
    assignment: str
    status: Status
    messages: tuple[str, ...]
    data: str
    checks: tuple[CheckResult, ...] = ()
    quick: bool = False
    measured_accuracy: float | None = None
    claimed_accuracy: float | None = None
    preprocessing: str | None = None
    model: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    seconds: float = 0.0
    executed_notebook: str | None = None
    flags: tuple[Flag, ...] = field(default_factory=tuple)
    confusion: dict[str, Any] | None = None  # {"labels": digits, "matrix": [true][predicted] counts}
    mistakes: tuple[dict[str, Any], ...] = ()  # the most confident wrong answers, with their pixels
    fits: tuple[dict[str, Any], ...] = ()  # the graded model's fit calls: parameters, labels, per-epoch metrics
    isolation: str | None = None  # how the kernel was confined (see notebook-result.schema.json)

    @property
    def points(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    @property
    def points_possible(self) -> float:
        return round(sum(c.points_possible for c in self.checks), 4)

    @property
    def fraction(self) -> float:
        return self.points / self.points_possible if self.points_possible else 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> NotebookResult:
        """The result again from its stored JSON document (to write its pages and exports
        anew); computed fields (points, fraction) are computed again, not read."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in names}
        values["checks"] = tuple(_check_from_document(c) for c in doc.get("checks", []))
        for name in ("messages", "mistakes", "fits"):
            values[name] = tuple(doc.get(name) or ())
        values["flags"] = tuple(Flag(f) for f in doc.get("flags") or ())
        return cls(**values)

    def document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["status"] = str(self.status)
        doc.update(
            kind=DocumentKind.NOTEBOOK_RESULT,
            points=self.points,
            points_possible=self.points_possible,
            fraction=round(self.fraction, 4),
            messages=list(self.messages),
            flags=list(self.flags),
            mistakes=list(self.mistakes),
            fits=list(self.fits),
            checks=[c.document() for c in self.checks],
        )
        return doc


def _check_from_document(c: dict[str, Any]) -> CheckResult:
    """A check as stored. Its points are what was awarded: an instructor's points (a reviewed
    document) may not come back from the fraction rounded beside them, which is then taken
    from the points."""
    possible, fraction, awarded = c["points_possible"], c["fraction"], c.get("points")
    if possible and awarded is not None and round(possible * fraction, 4) != awarded:
        fraction = awarded / possible
    return CheckResult(c["check"], possible, fraction, c["message"])
