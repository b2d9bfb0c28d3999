"""Assignment files: which exercise, how it is run and how accuracy becomes points."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from grader.errors import InputFileError, GraderError
from grader.schemas import describe_path, schema_errors
from grader.yamlsource import read_yaml


class AssignmentError(GraderError):
    """An assignment file that cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class Tier:
    min_accuracy: float
    fraction: float


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    kind: str
    points: float
    source: str
    model_variable: str | None
    npz: str | None
    private_test: str | None
    heldout_per_class: int
    mnist_sizes: bool
    cell_timeout: float
    notebook_timeout: float
    memory_mb: float
    measure_timeout: float
    claimed_gap: float
    tiers_full: tuple[Tier, ...]
    tiers_bundled: tuple[Tier, ...]

    def tiers(self, full_data: bool) -> tuple[Tier, ...]:
        return self.tiers_full if full_data else self.tiers_bundled

    def score(self, accuracy: float, full_data: bool) -> tuple[float, Tier | None]:
        """Fraction of the points for a measured accuracy: the first tier reached."""
        for tier in sorted(self.tiers(full_data), key=lambda t: -t.min_accuracy):
            if accuracy >= tier.min_accuracy:
                return tier.fraction, tier
        return 0.0, None


def packaged_assignments() -> dict[str, Path]:
    folder = Path(str(resources.files("grader.assignments")))
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def load_assignment(name_or_path: str) -> Assignment:
    """A shipped assignment by name (``mnist-cnn``) or an instructor's YAML file by path."""
    shipped = packaged_assignments()
    path = shipped.get(name_or_path) or Path(name_or_path)
    if name_or_path not in shipped and not path.exists():
        raise AssignmentError(f"no assignment {name_or_path!r}: not a file, and the shipped ones are "
                              f"{', '.join(shipped)}")
    try:
        doc = read_yaml(path)
    except InputFileError as exc:
        raise AssignmentError(str(exc)) from None
    errors = schema_errors(doc.data, "assignment")
    if errors:
        error = errors[0]
        line = doc.line_of(tuple(error.absolute_path))
        raise AssignmentError(f"{path}:{line}: field {describe_path(error.absolute_path)}: {error.message}")
    data: dict[str, Any] = doc.data
    data_opts, limits = data.get("data", {}), data.get("limits", {})
    return Assignment(
        name=data["assignment"], title=data["title"], kind=data["kind"], points=data["points"],
        source=str(path), model_variable=data.get("model_variable"),
        npz=data_opts.get("npz"), private_test=data_opts.get("private_test"), heldout_per_class=data_opts.get("heldout_per_class", 100),
        mnist_sizes=data_opts.get("mnist_sizes", True),
        cell_timeout=limits.get("cell_timeout", 900), notebook_timeout=limits.get("notebook_timeout", 3600),
        memory_mb=limits.get("memory_mb", 8000), measure_timeout=limits.get("measure_timeout", 300),
        claimed_gap=data.get("claimed_gap", 0.03),
        tiers_full=tuple(Tier(**t) for t in data["tiers"]["full_mnist"]),
        tiers_bundled=tuple(Tier(**t) for t in data["tiers"]["bundled_subset"]),
    )
