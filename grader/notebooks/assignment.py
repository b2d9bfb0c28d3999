"""Assignment files: which exercise, how it is run, and which checks earn which points.

An assignment is YAML checked against ``schemas/assignment.schema.json``. Its ``checks``
list says what is graded (the measured accuracy against tiers, images per class,
disjoint splits, a frozen-then-unfrozen pretrained base, inception or residual blocks,
...) and how many points each is worth; the assignment's points are their sum.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from grader.errors import AssignmentError, InputFileError, UnknownAssignmentError
from grader.notebooks.budget import TrainingBudget
from grader.notebooks.tiers import TierScore, score_tiers
from grader.schemas import describe_path, schema_errors
from grader.scratch import DEFAULT_DISK_MB
from grader.yamlsource import YamlDocument, read_yaml

TRAINING_CELL_MARGIN = 120  # seconds a cell that trained up to the time limit may still take (evaluation, plots)
DEFAULT_KERNEL_SEED = 20261202  # the seed every kernel starts with, unless the assignment names another


@dataclass(frozen=True)
class Tier:
    min_accuracy: float
    fraction: float


class CheckName(StrEnum):
    """The checks an assignment can grade: the keys of ``grader.notebooks.checks.CHECKS`` and the
    assignment schema's enum (``tests/test_types.py`` holds the three equal)."""

    ACCURACY = "accuracy"
    IMAGES_PER_CLASS = "images_per_class"
    DISJOINT_SPLITS = "disjoint_splits"
    PREPROCESSING = "preprocessing"
    AUGMENTATION = "augmentation"
    PRETRAINED_BASE = "pretrained_base"
    FROZEN_THEN_UNFROZEN = "frozen_then_unfrozen"
    INCEPTION_BLOCK = "inception_block"
    RESIDUAL_BLOCK = "residual_block"
    BATCH_NORMALIZATION = "batch_normalization"
    PARAMETER_COUNT = "parameter_count"


@dataclass(frozen=True)
class CheckSpec:
    """One graded check: its name, its points and its options (e.g. ``min: 100``)."""

    check: CheckName
    points: float
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    source: str
    checks: tuple[CheckSpec, ...]
    data: str = "mnist"  # "mnist": the grader serves load_data(); "none": the notebook brings its own
    model_variable: str | None = None
    npz: str | None = None
    private_test: str | None = None
    heldout_per_class: int = 100
    heldout_per_class_full: int | None = None  # on full MNIST (None: heldout_per_class)
    mnist_sizes: bool = True
    classes: tuple[int, ...] | None = None  # digits the model is measured on (default: all)
    provide: tuple[str, ...] = ()  # files copied into the notebook's folder before it runs
    cell_timeout: float = 900
    notebook_timeout: float = 3600
    memory_mb: float = 8000
    disk_mb: float = DEFAULT_DISK_MB  # what the notebook may write to its folder (its private /tmp: as much)
    measure_timeout: float = 300
    claimed_gap: float = 0.03
    budget: TrainingBudget = TrainingBudget()  # how much the notebook may train, counted in work
    kernel_seed: int = DEFAULT_KERNEL_SEED  # Python's, NumPy's and Keras's seed before the first cell
    tiers_full: tuple[Tier, ...] = ()
    tiers_bundled: tuple[Tier, ...] = ()

    @property
    def points(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    @property
    def shortest_cell_timeout(self) -> float:
        """What a cell that trains needs at least: the training time limit, then room to
        finish the cell. A shorter timeout would give 0 to a notebook the budget was made for."""
        return self.budget.time_limit + TRAINING_CELL_MARGIN if self.budget.time_limit else 1

    def with_cell_timeout(self, seconds: float) -> tuple[Assignment, str]:
        """This assignment with another cell timeout (``--cell-timeout``), never shorter than
        :attr:`shortest_cell_timeout`; the note says when it was raised, else it is empty."""
        if seconds >= self.shortest_cell_timeout:
            return replace(self, cell_timeout=seconds), ""
        return replace(self, cell_timeout=self.shortest_cell_timeout), (
            f"--cell-timeout {seconds:g} s raised to {self.shortest_cell_timeout:g} s: a cell that trains may use "
            f"the whole training time limit ({self.budget.time_limit:g} s, after which training stops by itself) "
            "and then needs time to finish"
        )

    def tiers(self, full_data: bool) -> tuple[Tier, ...]:
        return self.tiers_full if full_data or not self.tiers_bundled else self.tiers_bundled

    def score(self, accuracy: float, full_data: bool, images: int | None = None) -> TierScore:
        """The highest tier reached, with a margin for chance when the number of ``images``
        measured on is known; with none when it is not."""
        return score_tiers(self.tiers(full_data), accuracy, images)


def packaged_assignments() -> dict[str, Path]:
    folder = Path(str(resources.files("grader.assignments")))
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def _refuse_seconds_budget(doc: Any, path: Path) -> None:
    """An assignment written for the budget in seconds, told what replaced it (seconds of the
    grading machine gave a faster or idler machine higher grades)."""
    budget = doc.data.get("training_budget") if isinstance(doc.data, dict) else None
    if isinstance(budget, dict) and "seconds" in budget:
        raise AssignmentError(
            f"{path}:{doc.line_of(('training_budget', 'seconds'))}: training_budget.seconds is no longer used: "
            "seconds of the grading machine give a faster or idler machine higher grades. Give the budget as "
            "training_budget.examples (training examples, all training calls together) and/or giga_multiply_adds, "
            "and time_limit (seconds) as a safety limit"
        )


# Where each option is written in the YAML file, and the Assignment field it sets. An option
# left out takes the field's default: the dataclass is the one place defaults are written.
OPTIONS: dict[tuple[str, ...], str] = {
    ("model_variable",): "model_variable",
    ("data", "source"): "data",
    ("data", "npz"): "npz",
    ("data", "private_test"): "private_test",
    ("data", "heldout_per_class"): "heldout_per_class",
    ("data", "heldout_per_class_full"): "heldout_per_class_full",
    ("data", "mnist_sizes"): "mnist_sizes",
    ("data", "classes"): "classes",
    ("limits", "cell_timeout"): "cell_timeout",
    ("limits", "notebook_timeout"): "notebook_timeout",
    ("limits", "memory_mb"): "memory_mb",
    ("limits", "disk_mb"): "disk_mb",
    ("limits", "measure_timeout"): "measure_timeout",
    ("claimed_gap",): "claimed_gap",
    ("kernel_seed",): "kernel_seed",
}


def _given_options(data: dict[str, Any]) -> dict[str, Any]:
    """The Assignment fields the file sets (an empty list of classes sets none)."""
    given = {}
    for where, name in OPTIONS.items():
        section = data
        for key in where[:-1]:
            section = section.get(key, {})
        if where[-1] in section:
            given[name] = section[where[-1]]
    if "classes" in given:
        given["classes"] = tuple(given["classes"]) or None
    return given


def _read_document(path: Path) -> YamlDocument:
    """The assignment file's YAML, checked against its schema; errors name the line."""
    try:
        doc = read_yaml(path)
    except InputFileError as exc:
        raise AssignmentError(str(exc)) from None
    _refuse_seconds_budget(doc, path)
    errors = schema_errors(doc.data, "assignment")
    if errors:
        error = errors[0]
        line = doc.line_of(tuple(error.absolute_path))
        raise AssignmentError(f"{path}:{line}: field {describe_path(error.absolute_path)}: {error.message}")
    return doc


def _check(assignment: Assignment, doc: YamlDocument, path: Path) -> None:
    """What the schema cannot say: tiers for an accuracy check, room in a cell for the
    training time limit, provided files that exist."""
    if any(c.check is CheckName.ACCURACY for c in assignment.checks) and not assignment.tiers_full:
        raise AssignmentError(f"{path}: an accuracy check needs tiers.full_data")
    time_limit = assignment.budget.time_limit
    if time_limit and assignment.cell_timeout < time_limit + TRAINING_CELL_MARGIN:
        raise AssignmentError(
            f"{path}:{doc.line_of(('limits', 'cell_timeout'))}: limits.cell_timeout {assignment.cell_timeout:g} s "
            f"is shorter than the training time limit ({time_limit:g} s) plus {TRAINING_CELL_MARGIN} s to "
            "finish the cell: a notebook that trains up to the limit would time out; raise cell_timeout"
        )
    for file in assignment.provide:
        if not Path(file).exists():
            raise AssignmentError(f"{path}: field provide: {file} does not exist")


def load_assignment(name_or_path: str) -> Assignment:
    """A shipped assignment by name (``mnist-cnn``) or an instructor's YAML file by path."""
    shipped = packaged_assignments()
    path = shipped.get(name_or_path) or Path(name_or_path)
    if name_or_path not in shipped and not path.exists():
        raise UnknownAssignmentError.naming(name_or_path, shipped)
    doc = _read_document(path)
    data: dict[str, Any] = doc.data
    tiers = data.get("tiers", {})
    assignment = Assignment(
        name=data["assignment"],
        title=data["title"],
        source=str(path),
        checks=tuple(
            CheckSpec(
                CheckName(c["check"]),
                c["points"],
                tuple(sorted((k, v) for k, v in c.items() if k not in ("check", "points"))),
            )
            for c in data["checks"]
        ),
        provide=tuple(str((path.parent / p).resolve()) for p in data.get("provide", [])),
        budget=TrainingBudget.read(data.get("training_budget", {})),
        tiers_full=tuple(Tier(**t) for t in tiers.get("full_data", [])),
        tiers_bundled=tuple(Tier(**t) for t in tiers.get("bundled_data", [])),
        **_given_options(data),
    )
    _check(assignment, doc, path)
    return assignment
