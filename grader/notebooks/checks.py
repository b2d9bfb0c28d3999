"""The checks an assignment can declare, each worth points and each with a message that
tells the student what to change.

Inputs are what the grader itself observed: the kernel's record of each training and
evaluation call (label counts, content hashes of the images, frozen and trainable
parameters), the saved model's layer graph, and the accuracy measured in a separate
process. Nothing the notebook printed is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.notebooks.architecture import Architecture
from grader.notebooks.assignment import Assignment, CheckName, CheckSpec
from grader.notebooks.tiers import TierScore, accuracy_needed
from grader.notebooks.trace import CallRecord, FitRecord, KernelTrace

PREPROCESSING_LAYERS = {"Rescaling", "Normalization", "Resizing", "CenterCrop"}
AUGMENTATION_LAYERS = {
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomCrop",
    "RandomBrightness",
    "RandAugment",
    "RandomShear",
}
APPLICATION_NAMES = (
    "mobilenet",
    "inception",
    "vgg",
    "resnet",
    "efficientnet",
    "xception",
    "densenet",
    "nasnet",
    "convnext",
)


@dataclass(frozen=True)
class CheckResult:
    check: str
    points_possible: float
    fraction: float
    message: str
    awarded: float | None = None  # an instructor's points, kept exactly (the fraction beside them is rounded)

    @property
    def points(self) -> float:
        return self.awarded if self.awarded is not None else round(self.points_possible * self.fraction, 4)

    def document(self) -> dict[str, Any]:
        """As stored in a result document (``points`` computed, ``awarded`` not a field of its own)."""
        return {
            "check": self.check,
            "points_possible": self.points_possible,
            "fraction": self.fraction,
            "message": self.message,
            "points": self.points,
        }


@dataclass(frozen=True)
class Observed:
    """Everything the checks may look at."""

    assignment: Assignment
    trace: KernelTrace
    architecture: Architecture | None
    trained: tuple[Architecture, ...]  # every model the notebook trained, for architecture checks
    accuracy: float | None
    accuracy_note: str
    full_data: bool
    preprocessing_scale: float | None  # the affine scale the student applied before the model
    heldout_leak: int = 0  # held-out images the notebook gave to fit: its accuracy means nothing
    images_measured: int | None = None  # held-out images the accuracy was measured on (None: unknown, no margin)

    @property
    def model_id(self) -> int | None:
        return self.trace.model.id if self.trace.model else None

    def fits(self) -> list[FitRecord]:
        return self.trace.fits_of(self.model_id)

    def evaluations(self) -> list[CallRecord]:
        return self.trace.evaluations_of(self.model_id)


def accuracy_score(seen: Observed) -> TierScore | None:
    """How the measured accuracy scores against the tiers; None when it earns nothing whatever
    its value (not measured, or measured on images the notebook trained on)."""
    if seen.accuracy is None or seen.heldout_leak:
        return None
    return seen.assignment.score(seen.accuracy, seen.full_data, seen.images_measured)


def near_tier_boundary(seen: Observed) -> bool:
    """Whether the accuracy check's tier is one for the instructor to look at: it was given
    by the margin, the measurement itself falling short of the boundary by less than the
    interval (the result's flag ``near_tier_boundary``)."""
    score = accuracy_score(seen)
    graded = any(spec.check is CheckName.ACCURACY for spec in seen.assignment.checks)
    return graded and score is not None and score.by_margin


def _interval_text(low: float, high: float) -> str:
    """The interval in tenths of a percent, rounded inwards so that it never seems to reach a
    tier it does not reach (an upper end of 97.47% shows as 97.4%, not 97.5%)."""
    return f"{math.ceil(low * 1000 - 1e-9) / 10:.1f}%-{math.floor(high * 1000 + 1e-9) / 10:.1f}%"


def _accuracy(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    if seen.accuracy is None:
        return 0.0, f"No accuracy could be measured: {seen.accuracy_note}"
    score = accuracy_score(seen)
    if score is None:  # measured on images the notebook trained on
        return 0.0, (
            f"Measured {seen.accuracy:.2%}, but the notebook trained on {seen.heldout_leak:,} of the images "
            "it is measured on, so the accuracy says nothing: train only on what load_data() returns."
        )
    best = max(seen.assignment.tiers(seen.full_data), key=lambda t: t.min_accuracy)
    text = f"Measured accuracy {seen.accuracy:.2%} on {seen.accuracy_note}"
    if score.interval is None or score.images is None:  # the number of images is unknown: no margin
        return score.fraction, text + (f"; full marks need {best.min_accuracy:.1%}." if score.fraction < 1 else ".")
    n = score.images
    lines = [f"{text} (95% interval {_interval_text(*score.interval)})."]
    if score.by_margin and score.tier is not None:
        lines.append(
            f"A different {n:,} images could give a slightly different result, so the doubt counts in your "
            f"favour: the interval reaches {score.tier.min_accuracy:.1%}, and you are given that tier."
        )
    if score.fraction < 1:
        lines.append(
            f"Full marks need {best.min_accuracy:.1%}; with the same margin, a measured "
            f"{accuracy_needed(best.min_accuracy, n):.2%} or more on these {n:,} images is enough."
        )
    return score.fraction, " ".join(lines)


def _images_per_class(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    minimum = int(spec.option("min", 100))
    counts: dict[str, int] = {}
    for fit in seen.fits():
        for label, count in (fit.label_counts or {}).items():
            counts[label] = max(counts.get(label, 0), count)
    if not counts:
        return 0.0, "The training labels could not be counted (pass the labels to fit as an array)."
    low = {label: n for label, n in counts.items() if n < minimum}
    if low:
        listed = ", ".join(f"class {k}: {v}" for k, v in sorted(low.items(), key=lambda kv: int(kv[0])))
        return 0.0, f"Too few training images ({listed}); use at least {minimum} per class."
    return (
        1.0,
        f"At least {minimum} training images in each of the {len(counts)} classes (fewest: {min(counts.values())}).",
    )


def _disjoint_splits(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    train: set[str] = set()
    val: set[str] = set()
    for fit in seen.fits():
        train |= set(fit.train_hashes or [])
        val |= set(fit.validation_hashes or [])
    test: set[str] = set()
    for call in seen.evaluations():
        test |= set(call.hashes or [])
    missing = [name for name, part in (("training", train), ("validation", val), ("test", test)) if not part]
    if missing:
        hints = {
            "validation": "pass validation_data=(x_val, y_val) to fit",
            "test": "evaluate the final model on a separate test set with model.evaluate",
            "training": "pass the training images to fit as an array",
        }
        return 0.0, "No " + " and no ".join(missing) + " set was seen: " + "; ".join(hints[m] for m in missing) + "."
    overlaps = [
        (a, b, len(x & y))
        for (a, x), (b, y) in (
            (("training", train), ("test", test)),
            (("training", train), ("validation", val)),
            (("validation", val), ("test", test)),
        )
        if x & y
    ]
    if overlaps:
        listed = "; ".join(f"{n} {b} images are also in the {a} set" for a, b, n in overlaps)
        return 0.0, f"The sets overlap ({listed}): keep training, validation and test images apart."
    return 1.0, (
        f"Training ({len(train):,}), validation ({len(val):,}) and test ({len(test):,}) images "
        "are separate (compared by content)."
    )


def _layer_classes(seen: Observed) -> set[str]:
    return set(seen.architecture.classes()) if seen.architecture else set()


def _preprocessing(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    layers = sorted(_layer_classes(seen) & PREPROCESSING_LAYERS)
    if layers:
        return 1.0, f"Preprocessing in the model: {', '.join(layers)}."
    if seen.preprocessing_scale is not None and abs(seen.preprocessing_scale - 1) > 1e-6:
        return 1.0, "The images are preprocessed (scaled) before they reach the model."
    return 0.0, "No preprocessing was found: scale the pixels (a Rescaling layer or dividing by 255)."


def _augmentation(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    layers = sorted(_layer_classes(seen) & AUGMENTATION_LAYERS)
    if layers:
        return 1.0, f"Data augmentation: {', '.join(layers)}."
    return 0.0, "No data augmentation layer (RandomFlip, RandomRotation, RandomZoom, ...) in the model."


def _pretrained(seen: Observed) -> str | None:
    """How the model got a pretrained base, or None."""
    if seen.trace.loaded:
        loaded = seen.trace.loaded[0]
        return f"loaded with {loaded.how} ({loaded.name})"
    for nested in seen.architecture.nested_models if seen.architecture else []:
        if any(app in str(nested["name"]).lower() for app in APPLICATION_NAMES):
            return f"the keras.applications model {nested['name']}"
    return None


def _pretrained_base(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    how = _pretrained(seen)
    if how is None:
        return (
            0.0,
            "No pretrained base: load one (keras.applications or a saved model) instead of training from scratch.",
        )
    return 1.0, f"Pretrained base: {how}."


def _frozen_then_unfrozen(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    fits = seen.fits()
    if not fits:
        return 0.0, "The model was never trained."
    first = fits[0]
    if first.frozen_params == 0:
        return 0.0, (
            f"The first training ran with all {first.total_params:,} parameters trainable: freeze the "
            "pretrained base (base.trainable = False) before training the new head."
        )
    later = [f for f in fits[1:] if f.trainable_params > first.trainable_params]
    if not later:
        return 0.5, (
            f"The base was frozen ({first.frozen_params:,} frozen parameters) but never unfrozen: set "
            "its top layers trainable, recompile with a low learning rate and train again."
        )
    return 1.0, (
        f"Trained first with {first.frozen_params:,} parameters frozen, then with "
        f"{later[0].trainable_params:,} trainable (was {first.trainable_params:,})."
    )


def _all_architectures(seen: Observed) -> list[Architecture]:
    return ([seen.architecture] if seen.architecture else []) + list(seen.trained)


def _block(
    kind: str, finder: Callable[[Architecture], list[str]], hint: str
) -> Callable[[CheckSpec, Observed], tuple[float, str]]:
    """A check that passes when the final model, or any model the notebook trained, has the block."""

    def check(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
        for arch in _all_architectures(seen):
            found = finder(arch)
            if found:
                where = "the final model" if arch is seen.architecture else "a model the notebook trained"
                return 1.0, f"{kind} found in {where} ({', '.join(found)})."
        return 0.0, f"No {kind.lower()} in any model the notebook trained: {hint}"

    return check


def _batch_normalization(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    if any(arch.has("BatchNormalization") for arch in _all_architectures(seen)):
        return 1.0, "Batch normalisation is used."
    return 0.0, "No BatchNormalization layer."


def _parameter_count(spec: CheckSpec, seen: Observed) -> tuple[float, str]:
    model = seen.trace.model
    if not model:
        return 0.0, "No model."
    count, low, high = model.params, spec.option("min", 0), spec.option("max", float("inf"))
    if low <= count <= high:
        return 1.0, f"{count:,} parameters (allowed: {low:,} to {high:,})."
    return 0.0, f"{count:,} parameters, outside the allowed {low:,} to {high:,}."


CHECKS: dict[CheckName, Callable[[CheckSpec, Observed], tuple[float, str]]] = {
    CheckName.ACCURACY: _accuracy,
    CheckName.IMAGES_PER_CLASS: _images_per_class,
    CheckName.DISJOINT_SPLITS: _disjoint_splits,
    CheckName.PREPROCESSING: _preprocessing,
    CheckName.AUGMENTATION: _augmentation,
    CheckName.PRETRAINED_BASE: _pretrained_base,
    CheckName.FROZEN_THEN_UNFROZEN: _frozen_then_unfrozen,
    CheckName.INCEPTION_BLOCK: _block(
        "Inception block",
        Architecture.inception_blocks,
        "add parallel convolution branches (e.g. 1×1, 3×3, 5×5) joined by a Concatenate layer.",
    ),
    CheckName.RESIDUAL_BLOCK: _block(
        "Residual block",
        Architecture.residual_blocks,
        "add a block's input to its output with an Add layer (a skip connection).",
    ),
    CheckName.BATCH_NORMALIZATION: _batch_normalization,
    CheckName.PARAMETER_COUNT: _parameter_count,
}


def run_checks(seen: Observed) -> tuple[CheckResult, ...]:
    results = []
    for spec in seen.assignment.checks:
        fraction, message = CHECKS[spec.check](spec, seen)
        results.append(CheckResult(spec.check, spec.points, fraction, message))
    return tuple(results)


def not_run(assignment: Assignment, reason: str) -> tuple[CheckResult, ...]:
    """Every check at zero, when the notebook stopped before anything could be judged."""
    return tuple(CheckResult(spec.check, spec.points, 0.0, f"Not checked: {reason}") for spec in assignment.checks)
