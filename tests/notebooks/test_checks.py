"""Checks judged from what the grader observed (synthetic records; no TensorFlow)."""

from __future__ import annotations

from grader.notebooks.assignment import Assignment, CheckName, CheckSpec, Tier
from grader.notebooks.checks import Observed, run_checks
from grader.notebooks.trace import KernelTrace


def assignment(*specs: CheckSpec) -> Assignment:
    return Assignment(
        name="t",
        title="t",
        source="t.yaml",
        checks=specs,
        data="mnist",
        tiers_full=(Tier(0.97, 1.0), Tier(0.9, 0.5)),
        tiers_bundled=(Tier(0.9, 1.0),),
    )


def fit(frozen=0, trainable=1000, labels=None, train=("a", "b"), val=("c",)):
    return {
        "model": 1,
        "frozen_params": frozen,
        "trainable_params": trainable,
        "total_params": frozen + trainable,
        "label_counts": labels or {"0": 150, "1": 150},
        "train_hashes": list(train),
        "validation_hashes": list(val),
        "epochs_run": 1,
        "seconds": 1.0,
        "samples": 300,
    }


def observe(a: Assignment, fits, tests=("d",), loaded=True, accuracy=0.95, scale=1 / 255) -> Observed:
    trace = {
        "model": {"id": 1, "params": 5000},
        "fits": fits,
        "inputs": [{"call": "evaluate", "model": 1, "hashes": list(tests)}],
        "loaded": [{"how": "load_model", "name": "digit_base", "layers": []}] if loaded else [],
    }
    return Observed(a, KernelTrace.from_dict(trace), None, (), accuracy, "500 held-out digits", False, scale)


def results(a, seen):
    return {r.check: r for r in run_checks(seen)}


def test_a_good_transfer_run_passes_every_check():
    a = assignment(
        CheckSpec(CheckName.IMAGES_PER_CLASS, 1, (("min", 100),)),
        CheckSpec(CheckName.DISJOINT_SPLITS, 1),
        CheckSpec(CheckName.PRETRAINED_BASE, 1),
        CheckSpec(CheckName.FROZEN_THEN_UNFROZEN, 2),
        CheckSpec(CheckName.ACCURACY, 2),
        CheckSpec(CheckName.PREPROCESSING, 1),
    )
    r = results(a, observe(a, [fit(frozen=9000, trainable=500), fit(frozen=4000, trainable=5500)]))
    assert all(c.fraction == 1 for c in r.values()), {k: c.message for k, c in r.items()}


def test_never_frozen_and_never_unfrozen_say_what_to_change():
    a = assignment(CheckSpec(CheckName.FROZEN_THEN_UNFROZEN, 2))
    never_frozen = results(a, observe(a, [fit(frozen=0)]))["frozen_then_unfrozen"]
    assert never_frozen.fraction == 0 and "base.trainable = False" in never_frozen.message
    never_unfrozen = results(a, observe(a, [fit(frozen=9000, trainable=500), fit(frozen=9000, trainable=500)]))
    assert never_unfrozen["frozen_then_unfrozen"].fraction == 0.5
    assert "never unfrozen" in never_unfrozen["frozen_then_unfrozen"].message


def test_overlapping_sets_are_found_by_content():
    a = assignment(CheckSpec(CheckName.DISJOINT_SPLITS, 1))
    r = results(a, observe(a, [fit(train=("a", "b", "x"))], tests=("x", "y")))["disjoint_splits"]
    assert r.fraction == 0 and "1 test images are also in the training set" in r.message
    missing = results(a, observe(a, [fit(val=())]))["disjoint_splits"]
    assert missing.fraction == 0 and "validation_data" in missing.message


def test_too_few_images_name_the_class():
    a = assignment(CheckSpec(CheckName.IMAGES_PER_CLASS, 1, (("min", 100),)))
    r = results(a, observe(a, [fit(labels={"0": 150, "1": 40})]))["images_per_class"]
    assert r.fraction == 0 and "class 1: 40" in r.message and "at least 100" in r.message


def test_accuracy_tiers_and_missing_pretrained_base():
    a = assignment(CheckSpec(CheckName.ACCURACY, 4), CheckSpec(CheckName.PRETRAINED_BASE, 1))
    r = results(a, observe(a, [fit()], accuracy=0.85, loaded=False))
    assert r["accuracy"].fraction == 0 and "full marks need 90.0%" in r["accuracy"].message
    assert r["pretrained_base"].fraction == 0
