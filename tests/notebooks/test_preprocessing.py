"""Recognising the student's preprocessing from what the kernel recorded."""

from __future__ import annotations

import numpy as np
import pytest

from grader.notebooks import mnist_data
from grader.notebooks.grading import claimed_accuracy
from grader.notebooks.preprocessing import infer
from grader.notebooks.trace import KernelTrace


@pytest.fixture(scope="module")
def raw():
    split = mnist_data.prepare(None, mnist_sizes=False)
    return split.test.images[:500], {mnist_data.fingerprint(i) for i in split.test.images}


def summary(x):
    return {
        "shape": list(x.shape),
        "dtype": str(x.dtype),
        "min": float(x.min()),
        "max": float(x.max()),
        "first": [float(v) for v in x[0].ravel()],
    }


@pytest.mark.parametrize(
    "make, scale, offset, shape",
    [
        (lambda r: r[..., None] / 255.0, 1 / 255, 0.0, (28, 28, 1)),
        (lambda r: r.astype("float32"), 1.0, 0.0, (28, 28)),
        (lambda r: r.reshape(len(r), 784) / 255.0, 1 / 255, 0.0, (784,)),
        (lambda r: (r[..., None] - 33.3) / 78.5, 1 / 78.5, -33.3 / 78.5, (28, 28, 1)),
    ],
)
def test_affine_preprocessing_is_recovered_and_verified(raw, make, scale, offset, shape):
    images, served = raw
    x = make(images)
    trace = KernelTrace.from_dict({"inputs": [{"call": "evaluate", "model": 1, "input": summary(x)}], "fits": []})
    transform = infer(trace, served, 1, None)
    assert transform.verified and transform.sample_shape == shape
    assert transform.scale == pytest.approx(scale, rel=1e-4)
    assert transform.offset == pytest.approx(offset, abs=1e-4)
    np.testing.assert_allclose(transform.apply(images[:20]), x[:20], rtol=1e-4, atol=1e-4)


def test_images_the_notebook_was_not_served_are_not_verified(raw):
    images, _ = raw
    trace = KernelTrace.from_dict(
        {"inputs": [{"call": "predict", "model": 1, "input": summary(images / 255.0)}], "fits": []}
    )
    assert not infer(trace, set(), 1, None).verified


def test_without_any_record_the_model_input_shape_is_assumed():
    transform = infer(KernelTrace.from_dict({"inputs": [], "fits": []}), set(), 1, [None, 28, 28, 1][1:])
    assert not transform.verified and transform.sample_shape == (28, 28, 1)


def test_claimed_accuracy_is_read_from_the_last_printed_value():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="val_accuracy: 0.97\n"),
        nbformat.v4.new_output("stream", name="stdout", text="Test accuracy: 99.34%\n"),
    ]
    nb.cells = [cell]
    assert claimed_accuracy(nb) == pytest.approx(0.9934)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="loss 0.3\n")]
    assert claimed_accuracy(nb) is None
