"""Every numeric key in the shipped banks is what TensorFlow/Keras computes.

For each integer, number, shape and grid question, for the default variant and for many
seeds (as students get them), the setup is rebuilt in Keras or ``tf.nn`` from the
instance's calculator arguments and the answer read back from TensorFlow:

* ``parameter_count``: ``model.count_params()``;
* ``output_shape``: the last Keras layer's output shape;
* ``prediction_memory`` / ``training_memory``: the course's formulas applied to the Keras
  layer output shapes and ``count_params()``;
* ``convolution`` / ``pooling``: ``tf.nn.conv2d``, ``tf.nn.max_pool2d``, ``tf.nn.avg_pool2d``.

The default variant must also reproduce each question's published ``textbook_answer``.
"""

from __future__ import annotations

import math
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
pytest.importorskip("keras")

import numpy as np  # noqa: E402

from grader.quiz.bank import NUMERIC_TYPES, Catalog  # noqa: E402
from tests import tf_models as tfm

pytestmark = pytest.mark.tensorflow

CATALOG = Catalog.load()
NUMERIC = [(bank, question) for bank in CATALOG.banks for question in bank.questions if question.type in NUMERIC_TYPES]
#: The default variant, forty plain seeds and a few ids shaped like students' ones.
SEEDS = (
    [None]
    + [str(i) for i in range(40)]
    + [
        "s1234567",
        "jdoe42",
        "marie.curie@example.edu",
        "2024-CS-0173",
        "Zoë_Ünal",
    ]
)
CASES = [
    pytest.param(bank, question, seed, id=f"{question.id}@{'default' if seed is None else seed}")
    for bank, question in NUMERIC
    for seed in SEEDS
]


def test_the_banks_have_numeric_questions():
    assert NUMERIC, "no integer/number/shape/grid question in the shipped banks"


def keras_answer(compute: str, args: dict):
    """The answer TensorFlow/Keras gives for a calculator's arguments."""
    if compute in ("convolution", "pooling"):
        if compute == "convolution":
            kernel = args["kernel"]
            if args.get("flip", False):
                kernel = np.rot90(np.asarray(kernel), 2).tolist()
            return tfm.tf_convolve(
                args["image"],
                kernel,
                stride=args.get("stride", 1),
                padding=args.get("padding", "valid"),
                dilation=args.get("dilation", 1),
            )
        return tfm.tf_pool(
            args["image"],
            pool_size=args.get("pool_size", 2),
            stride=args.get("stride"),
            padding=args.get("padding", "valid"),
            mode=args.get("mode", "max"),
        )

    if args.get("depth_from_input", False):
        pytest.fail("depth_from_input has no Keras equivalent; extend this test for it")
    network = tfm.keras_network(args["input_shape"], args["layers"])
    if compute == "parameter_count":
        return network.count_params
    if compute == "output_shape":
        return list(network.output_shapes[-1])

    dtype_bytes = args.get("dtype_bytes", 4)
    params = network.count_params if args.get("include_params", True) else 0
    sizes = [math.prod(shape) for shape in network.output_shapes]
    input_size = math.prod(args["input_shape"])
    if compute == "prediction_memory":
        everything = [input_size] + sizes
        peak = max(a + b for a, b in zip(everything, everything[1:]))
        return (peak + params) * dtype_bytes
    if compute == "training_memory":
        batch = args["batch_size"]
        inputs = batch * input_size if args.get("include_input", True) else 0
        return (batch * sum(sizes) + inputs + params) * dtype_bytes
    pytest.fail(f"no TensorFlow reference for compute {compute!r}; extend this test")


@pytest.mark.parametrize(("bank", "question", "seed"), CASES)
def test_key_matches_tensorflow(bank, question, seed):
    where = f"{question.id}, seed {seed!r}"
    instance = bank.instance(question, seed)
    compute = question.spec["compute"]
    args = instance.arguments
    key = instance.key
    reference = keras_answer(compute, args)
    if compute in ("convolution", "pooling"):
        assert tfm.same_grid(key, reference), (
            f"{where}: {compute} key {key} but TensorFlow gives {reference.tolist()} for {args}"
        )
    else:
        assert key == reference, f"{where}: {compute} key {key!r} but TensorFlow/Keras gives {reference!r} for {args}"


WITH_TEXTBOOK_ANSWER = [
    pytest.param(bank, question, id=question.id) for bank, question in NUMERIC if "textbook_answer" in question.spec
]


@pytest.mark.parametrize(("bank", "question"), WITH_TEXTBOOK_ANSWER)
def test_default_variant_reproduces_the_textbook_answer(bank, question):
    instance = bank.instance(question, None)
    published = question.spec["textbook_answer"]
    assert instance.key == published, f"{question.id}, seed None: key {instance.key!r}, textbook answer {published!r}"
    assert keras_answer(question.spec["compute"], instance.arguments) == published, (
        f"{question.id}, seed None: TensorFlow/Keras disagrees with the textbook answer {published!r}"
    )
