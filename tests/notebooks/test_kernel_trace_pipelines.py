"""Input pipelines (tf.data, Keras PyDataset) are recorded like arrays: sizes, label counts,
content hashes and value ranges, so that a notebook that feeds fit through a pipeline is
checked, and its preprocessing recognised, like one that passes arrays."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from grader.notebooks import kernel_trace  # noqa: E402
from grader.notebooks.assignment import CheckName, CheckSpec  # noqa: E402
from grader.notebooks.checks import Observed, run_checks  # noqa: E402
from grader.notebooks.trace import KernelTrace  # noqa: E402
from tests.notebooks.test_checks import assignment  # noqa: E402


def digits(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 5, size=n)


def prepare(image, label):
    return tf.cast(image, tf.float32)[..., tf.newaxis], label


def pipeline(x, y, shuffle=False):
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=1)
    return dataset.map(prepare).batch(32).prefetch(2)


def test_a_tf_data_pipeline_is_seen_like_the_arrays_it_holds():
    x, y = digits()
    seen = kernel_trace._observe(pipeline(x, y, shuffle=True))
    as_array = x.astype("float32")[..., np.newaxis]
    assert seen["samples"] == 300
    assert seen["input"]["shape"] == [300, 28, 28, 1]
    assert (seen["input"]["min"], seen["input"]["max"]) == (float(x.min()), float(x.max()))
    assert sorted(seen["hashes"]) == sorted(kernel_trace._sample_hashes(as_array))
    assert seen["label_counts"] == {str(k): int(v) for k, v in enumerate(np.bincount(y))}
    first = np.asarray(seen["input"]["first"]).reshape(28, 28)
    assert any((first == image).all() for image in x), "the first sample is one of the served images"


def test_one_hot_labels_and_a_keras_py_dataset():
    x, y = digits(100, seed=2)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            part = slice(25 * i, 25 * (i + 1))
            return x[part].astype("float32") / 255, keras.utils.to_categorical(y[part], 5)

    seen = kernel_trace._observe(Batches())
    assert seen["samples"] == 100 and seen["input"]["max"] <= 1
    assert seen["label_counts"] == {str(k): int(v) for k, v in enumerate(np.bincount(y, minlength=5)) if v}
    assert seen["hashes"] == kernel_trace._sample_hashes(x.astype("float32") / 255)


def test_a_pipeline_that_repeats_forever_is_not_read():
    x, y = digits(50)
    seen = kernel_trace._observe(pipeline(x, y).repeat())
    assert seen["hashes"] is None and seen["label_counts"] is None and seen["input"] is None


def test_a_test_pipeline_taken_from_the_training_pipeline_is_caught():
    x, y = digits()
    train = pipeline(x[:200], y[:200])
    validation = pipeline(x[200:], y[200:])
    test = train.take(2)  # the first 64 training images
    fit = {
        "model": 1,
        "frozen_params": 0,
        "trainable_params": 10,
        "total_params": 10,
        "epochs_run": 1,
        "seconds": 1.0,
        "samples": 200,
        "label_counts": kernel_trace._observe(train)["label_counts"],
        "train_hashes": kernel_trace._observe(train)["hashes"],
        "validation_hashes": kernel_trace._observe(validation)["hashes"],
    }
    trace = {
        "model": {"id": 1},
        "fits": [fit],
        "loaded": [],
        "inputs": [{"call": "evaluate", "model": 1, "hashes": kernel_trace._observe(test)["hashes"]}],
    }
    a = assignment(CheckSpec(CheckName.DISJOINT_SPLITS, 1))
    (result,) = run_checks(Observed(a, KernelTrace.from_dict(trace), None, (), 0.9, "held-out digits", False, 1.0))
    assert result.fraction == 0 and "64 test images are also in the training set" in result.message


HOOKED_RUN = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    import keras
    from grader.notebooks import kernel_trace

    kernel_trace.install({"quick": len(sys.argv) > 1, "quick_samples": 64})
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(240, 28, 28), dtype=np.uint8)
    y = np.arange(240) % 4
    def pipeline(a, b):
        return tf.data.Dataset.from_tensor_slices((a, b)).map(
            lambda i, l: (tf.cast(i, tf.float32)[..., None], l)).shuffle(64, seed=3).batch(16)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(pipeline(x[:160], y[:160]), validation_data=pipeline(x[160:200], y[160:200]), epochs=2, verbose=0)
    model.evaluate(pipeline(x[200:], y[200:]), verbose=0)
    print(json.dumps({"fits": kernel_trace.FITS, "inputs": kernel_trace.INPUTS}))
""")


@pytest.mark.parametrize("quick", [False, True])
def test_the_fit_and_evaluate_hooks_read_pipelines(quick):
    run = subprocess.run(
        [sys.executable, "-c", HOOKED_RUN] + (["quick"] if quick else []), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    trace = json.loads(run.stdout.strip().splitlines()[-1])
    (fit,) = trace["fits"]
    (evaluation,) = trace["inputs"]
    train = 32 if quick else 160  # --quick takes 64 // 32 = 2 batches of 16
    assert fit["samples"] == train and len(fit["train_hashes"]) == train
    assert fit["epochs_run"] == (1 if quick else 2)
    assert sum(fit["label_counts"].values()) == train
    assert len(fit["validation_hashes"]) == (32 if quick else 40)
    assert len(evaluation["hashes"]) == 40 and evaluation["input"]["shape"] == [40, 28, 28, 1]
    assert not set(fit["train_hashes"]) & set(evaluation["hashes"])
