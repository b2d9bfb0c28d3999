"""The training budget's pieces: counting examples batch by batch, a model's multiply-adds,
training outside fit in the record, and the fallback when an op has no deterministic kernel.
(tests/notebooks/test_reproducible_grading.py grades whole notebooks with them.)"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from grader.notebooks import kernel_trace
from grader.notebooks.budget import BudgetStop, TrainingBudget
from grader.notebooks.trace import KernelTrace


def epoch_sizes(batch_examples, batches):
    return [batch_examples(k) for k in range(batches)]


def test_an_epoch_of_arrays_counts_every_example_once_with_a_smaller_last_batch():
    x = np.zeros((1000, 28, 28, 1), dtype="float32")
    sizes = epoch_sizes(kernel_trace._batch_examples(x, (x,), {"batch_size": 128}, 0.1), 8)
    # validation_split 0.1 leaves 900 images: 7 batches of 128 and one of 4
    assert sizes == [128] * 7 + [4] and sum(sizes) == 900
    second_epoch = kernel_trace._batch_examples(x, (x,), {"batch_size": 128}, 0.1)
    assert [second_epoch(k) for k in range(8, 16)] == sizes, "each epoch starts again at a full batch"
    default = kernel_trace._batch_examples(x, (x,), {}, 0.0)
    assert default(0) == 32 and default(31) == 8, "Keras's default batch size, 1,000 = 31 x 32 + 8"
    multi_input = kernel_trace._batch_examples([x, x], ([x, x],), {"batch_size": 500}, 0.0)
    assert epoch_sizes(multi_input, 2) == [500, 500]


def test_the_budget_stays_used_once_reached(monkeypatch):
    monkeypatch.setattr(kernel_trace, "CONFIG", {"budget_examples": 100, "budget_multiply_adds": 1e9})
    monkeypatch.setattr(
        kernel_trace, "TRAINING", {"seconds": 0.0, "examples": 0, "multiply_adds": 0.0, "stopped": None}
    )
    kernel_trace._spend(64, 1000)
    assert kernel_trace._exhausted() is None
    kernel_trace._spend(64, 1000)
    assert kernel_trace._exhausted() == BudgetStop.EXAMPLES == "examples"
    kernel_trace.CONFIG["budget_examples"] = 10**9  # nothing un-uses a used budget
    assert kernel_trace._exhausted() == "examples"


def test_compute_and_time_limit_stop_training_too(monkeypatch):
    monkeypatch.setattr(kernel_trace, "CONFIG", {"budget_multiply_adds": 1e6, "time_limit": 100})
    monkeypatch.setattr(
        kernel_trace, "TRAINING", {"seconds": 0.0, "examples": 0, "multiply_adds": 0.0, "stopped": None}
    )
    kernel_trace._spend(10, 200_000)
    assert kernel_trace._exhausted() == "compute"
    monkeypatch.setattr(
        kernel_trace, "TRAINING", {"seconds": 90.0, "examples": 0, "multiply_adds": 0.0, "stopped": None}
    )
    assert kernel_trace._exhausted(seconds_now=5) is None and kernel_trace._exhausted(seconds_now=10) == "time_limit"


def test_an_op_without_a_deterministic_kernel_turns_determinism_off_and_fit_runs_again(monkeypatch):
    turned_off = []
    config = types.SimpleNamespace(disable_op_determinism=lambda: turned_off.append(True))
    monkeypatch.setitem(sys.modules, "tensorflow.python.framework", types.SimpleNamespace(config=config))
    monkeypatch.setattr(kernel_trace, "CONFIG", {"op_determinism": True})
    calls = []

    def fit(model, *args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("Deterministic GPU implementation of unsorted segment reduction op not available.")
        return "history"

    assert kernel_trace._fit_deterministically(fit, object(), (1, 2), {}) == "history"
    assert turned_off == [True] and len(calls) == 2 and kernel_trace.CONFIG["op_determinism"] is False
    with pytest.raises(ValueError, match="shapes"):  # any other error is the notebook's own
        kernel_trace._fit_deterministically(
            lambda *a, **k: (_ for _ in ()).throw(ValueError("shapes do not match")), object(), (), {}
        )


def test_training_outside_fit_and_determinism_off_reach_the_grader():
    records = [
        {"record": "model", "model": {"id": 7, "params": 10, "trained": False, "layers": []}, "model_found": "x"},
        {"record": "determinism", "off": "an op has no deterministic kernel"},
        {"record": "other_training", "model": 7, "how": "custom_loop", "steps": 240, "examples": 24000,
         "skipped_steps": 960, "seconds": 6.2, "stopped_by_budget": "examples"},
        {"record": "end"},
    ]  # fmt: skip
    trace = KernelTrace.from_records(records)
    assert trace.model.trained, "a model trained only in a custom loop is trained"
    assert trace.other_training[0].stopped_by_budget is BudgetStop.EXAMPLES
    assert trace.determinism_off == "an op has no deterministic kernel"


def test_the_budget_in_words():
    assert TrainingBudget(examples=600_000, giga_multiply_adds=4000).describe() == (
        "600,000 training examples or 4,000 billion multiply-adds of training, whichever comes first"
    )
    assert TrainingBudget(epochs=2).describe() == "2 epoch(s) per fit call"
    assert TrainingBudget(giga_multiply_adds=2.5).kernel_config()["budget_multiply_adds"] == 2.5e9


@pytest.mark.tensorflow
def test_multiply_adds_of_the_reference_cnn_and_a_nested_base():
    import keras

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    # 26x26 positions x 3x3x1x32 + 11x11 x 3x3x32x64 + 1600x128 + 128x10
    expected = 26 * 26 * 288 + 11 * 11 * 18_432 + 1600 * 128 + 128 * 10
    assert kernel_trace.multiply_adds(model) == expected == 2_631_040
    outer = keras.Sequential([keras.Input((28, 28, 1)), model, layers.Dense(5)])
    assert kernel_trace.multiply_adds(outer) == expected + 10 * 5, "a base model's layers count inside another"
