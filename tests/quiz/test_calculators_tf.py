"""The pure-Python calculators agree with TensorFlow/Keras on random setups.

* networks: random sequential CNNs are built with ``keras.Sequential``; the parameter
  count and every layer's output shape must equal the calculator's, and a setup the
  calculator refuses (a "valid" window larger than its input) must be refused by Keras;
* grids: ``convolve`` and ``pool`` equal ``tf.nn.conv2d`` / ``max_pool2d`` / ``avg_pool2d``;
* memory: the activation sizes and parameters ``memory.py`` counts are Keras's.
"""

from __future__ import annotations

import math
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
pytest.importorskip("keras")

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grader.calc import grids, memory  # noqa: E402
from grader.calc.layers import (  # noqa: E402
    BatchNormalization,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Flatten,
    GlobalPooling2D,
    Pooling2D,
    SeparableConv2D,
    analyze,
    final_shape,
    layer_from_spec,
    parameter_count,
)
from grader.errors import CalculationError  # noqa: E402
from tests import tf_models as tfm

pytestmark = pytest.mark.tensorflow


# --- strategies ----------------------------------------------------------------------

small_pairs = st.tuples(st.integers(1, 5), st.integers(1, 5))


@st.composite
def window_geometry(draw):
    """Kernel, strides, padding and dilation; Keras/TF allow strides > 1 or dilation > 1, not both."""
    kernel_size = draw(small_pairs)
    padding = draw(st.sampled_from(["valid", "same"]))
    if draw(st.booleans()):
        strides, dilation_rate = (1, 1), draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    else:
        strides, dilation_rate = draw(st.tuples(st.integers(1, 3), st.integers(1, 3))), (1, 1)
    return dict(kernel_size=kernel_size, strides=strides, padding=padding, dilation_rate=dilation_rate)


@st.composite
def body_layers(draw):
    kind = draw(st.sampled_from(["conv", "depthwise", "separable", "pool", "batchnorm"]))
    if kind == "batchnorm":
        return BatchNormalization()
    if kind == "pool":
        return Pooling2D(
            pool_size=draw(st.tuples(st.integers(1, 4), st.integers(1, 4))),
            strides=draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3))),
            padding=draw(st.sampled_from(["valid", "same"])),
            mode=draw(st.sampled_from(["max", "average"])),
        )
    geometry = draw(window_geometry())
    use_bias = draw(st.booleans())
    if kind == "conv":
        return Conv2D(filters=draw(st.integers(1, 8)), use_bias=use_bias, **geometry)
    multiplier = draw(st.integers(1, 3))
    if kind == "depthwise":
        return DepthwiseConv2D(depth_multiplier=multiplier, use_bias=use_bias, **geometry)
    return SeparableConv2D(filters=draw(st.integers(1, 8)), depth_multiplier=multiplier, use_bias=use_bias, **geometry)


@st.composite
def heads(draw):
    """No head, or flatten / global pooling / nothing, then zero to two dense layers."""
    reducer = draw(st.sampled_from(["none", "flatten", "global_average", "global_max"]))
    head = []
    if reducer == "flatten":
        head.append(Flatten())
    elif reducer != "none":
        head.append(GlobalPooling2D(mode=reducer.removeprefix("global_")))
    dense = draw(st.lists(st.builds(Dense, st.integers(1, 10), st.booleans()), max_size=2))
    return head + dense


@st.composite
def networks(draw):
    input_shape = (draw(st.integers(4, 24)), draw(st.integers(4, 24)), draw(st.integers(1, 8)))
    layers = draw(st.lists(body_layers(), min_size=1, max_size=4))
    if draw(st.booleans()):
        layers += draw(heads())
    return input_shape, layers


def fits(input_shape, layers) -> bool:
    try:
        analyze(input_shape, layers)
    except CalculationError:
        return False
    return True


def first_refused(input_shape, layers) -> int:
    """How many layers it takes for the calculator to refuse the network (1-based)."""
    for n in range(1, len(layers) + 1):
        if not fits(input_shape, layers[:n]):
            return n
    raise AssertionError("the calculator accepts this network")


# --- networks ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_parameters_and_shapes_match_keras(network):
    input_shape, layers = network
    where = f"input {input_shape}, layers {layers}"
    if not fits(input_shape, layers):
        # The calculator refuses a window that does not fit; Keras must refuse the same
        # layer (it rejects an output of size zero or less), and accept the ones before it.
        event("refused by the calculator")
        n = first_refused(input_shape, layers)
        if n > 1:
            tfm.keras_network(input_shape, layers[: n - 1])
        with pytest.raises(ValueError):
            tfm.keras_network(input_shape, layers[:n])
        return
    event("accepted")
    reference = tfm.keras_network(input_shape, layers)
    reports = analyze(input_shape, layers)
    assert parameter_count(input_shape, layers) == reference.count_params, where
    assert [r.params for r in reports] == list(reference.layer_params), where
    assert [r.output_shape for r in reports] == list(reference.output_shapes), where
    assert tuple(final_shape(input_shape, layers)) == reference.output_shapes[-1], where


def test_every_layer_type_from_bank_specs_matches_keras():
    """``layer_from_spec`` mappings, one per bank layer type, give Keras's numbers."""
    specs = [
        {"type": "conv2d", "filters": 6, "kernel_size": [3, 2], "strides": 2, "padding": "same"},
        {"type": "batch_normalization"},
        {"type": "depthwise_conv2d", "kernel_size": 3, "dilation_rate": 2, "depth_multiplier": 2},
        {"type": "separable_conv2d", "filters": 5, "kernel_size": 2, "use_bias": False, "padding": "same"},
        {"type": "max_pooling2d", "pool_size": 2},
        {"type": "average_pooling2d", "pool_size": [2, 1], "strides": 1, "padding": "same"},
        {"type": "global_average_pooling2d"},
        {"type": "dense", "units": 7},
    ]
    alternatives = [
        ({"type": "global_max_pooling2d"}, 6),
        ({"type": "flatten"}, 6),
    ]
    input_shape = (29, 23, 3)
    for replacement, index in [(None, None)] + alternatives:
        chosen = list(specs)
        if replacement is not None:
            chosen[index] = replacement
        layers = [layer_from_spec(s) for s in chosen]
        reference = tfm.keras_network(input_shape, layers)
        assert parameter_count(input_shape, layers) == reference.count_params, chosen
        assert [r.output_shape for r in analyze(input_shape, layers)] == list(reference.output_shapes), chosen


# --- grids ---------------------------------------------------------------------------

cell_values = st.integers(-9, 9) | st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def grid_of(rows, cols, values=cell_values):
    return st.lists(st.lists(values, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def convolution_cases(draw):
    image = draw(grid_of(draw(st.integers(2, 7)), draw(st.integers(2, 7))))
    kernel = draw(grid_of(draw(st.integers(1, 4)), draw(st.integers(1, 4)), st.integers(-3, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    if draw(st.booleans()):
        stride, dilation = 1, draw(st.integers(1, 3))
    else:
        stride, dilation = draw(st.integers(1, 3)), 1
    return dict(image=image, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


@st.composite
def pooling_cases(draw):
    image = draw(grid_of(draw(st.integers(2, 7)), draw(st.integers(2, 7))))
    return dict(
        image=image,
        pool_size=draw(st.integers(1, 4)),
        stride=draw(st.none() | st.integers(1, 3)),
        padding=draw(st.sampled_from(["valid", "same"])),
        mode=draw(st.sampled_from(["max", "average"])),
    )


@settings(max_examples=300, deadline=None)
@given(convolution_cases())
def test_convolve_matches_tf_nn_conv2d(case):
    try:
        result = grids.convolve(**case)
    except CalculationError:
        # a "valid" window larger than the image: TensorFlow refuses it or gives nothing
        event("refused by the calculator")
        assert tfm.refused_by_tf(tfm.tf_convolve, **case), case
        return
    reference = tfm.tf_convolve(**case)
    assert tfm.same_grid(result, reference), f"{case}\ncalculator {result}\ntf.nn {reference.tolist()}"


@settings(max_examples=300, deadline=None)
@given(pooling_cases())
def test_pool_matches_tf_nn_pooling(case):
    try:
        result = grids.pool(**case)
    except CalculationError:
        event("refused by the calculator")
        assert tfm.refused_by_tf(tfm.tf_pool, **case), case
        return
    reference = tfm.tf_pool(**case)
    assert tfm.same_grid(result, reference), f"{case}\ncalculator {result}\ntf.nn {reference.tolist()}"


def fits_grid(case) -> bool:
    try:
        grids.convolve(**case)
    except CalculationError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(convolution_cases())
def test_flipped_convolution_is_conv2d_with_the_kernel_rotated(case):
    rotated = np.rot90(np.asarray(case["kernel"]), 2)
    assume(fits_grid(case))
    flipped = grids.convolve(**case, flip=True)
    reference = tfm.tf_convolve(**{**case, "kernel": rotated})
    assert tfm.same_grid(flipped, reference), case
    assert flipped == grids.convolve(**{**case, "kernel": rotated.tolist()}), case


def test_flip_on_an_asymmetric_kernel_differs_from_cross_correlation():
    image = [[1, 2, 0], [0, 1, 3], [2, 1, 0]]
    kernel = [[1, 2], [3, 4]]
    assert grids.convolve(image, kernel, flip=True) == tfm.tf_convolve(image, [[4, 3], [2, 1]]).tolist()
    assert grids.convolve(image, kernel) == tfm.tf_convolve(image, kernel).tolist()
    assert grids.convolve(image, kernel) != grids.convolve(image, kernel, flip=True)


# --- memory --------------------------------------------------------------------------

TEXTBOOK_INPUT = (200, 300, 3)
TEXTBOOK_LAYERS = [
    layer_from_spec({"type": "conv2d", "filters": f, "kernel_size": 3, "strides": 2, "padding": "same"})
    for f in (100, 200, 400)
]


def test_textbook_network_memory_from_keras():
    reference = tfm.keras_network(TEXTBOOK_INPUT, TEXTBOOK_LAYERS)
    assert reference.output_shapes == ((100, 150, 100), (50, 75, 200), (25, 38, 400))
    assert reference.count_params == 903_400
    sizes = [math.prod(shape) for shape in reference.output_shapes]
    assert memory.activation_sizes(TEXTBOOK_INPUT, TEXTBOOK_LAYERS) == sizes
    assert parameter_count(TEXTBOOK_INPUT, TEXTBOOK_LAYERS) == 903_400
    assert memory.prediction_memory(TEXTBOOK_INPUT, TEXTBOOK_LAYERS, dtype_bytes=4) == 12_613_600
    assert reference.prediction_memory(dtype_bytes=4) == 12_613_600
    assert memory.training_memory(TEXTBOOK_INPUT, TEXTBOOK_LAYERS, batch_size=50, dtype_bytes=4) == 565_613_600
    assert reference.training_memory(batch_size=50, dtype_bytes=4) == 565_613_600


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(networks(), st.integers(1, 128), st.sampled_from([1, 2, 4, 8]))
def test_memory_matches_keras_activations(network, batch_size, dtype_bytes):
    input_shape, layers = network
    assume(fits(input_shape, layers))
    reference = tfm.keras_network(input_shape, layers)
    sizes = [math.prod(shape) for shape in reference.output_shapes]
    where = f"input {input_shape}, layers {layers}, batch {batch_size}, {dtype_bytes} bytes"
    assert memory.activation_sizes(input_shape, layers) == sizes, where
    expected_training = (
        batch_size * sum(sizes) + batch_size * math.prod(input_shape) + reference.count_params
    ) * dtype_bytes
    assert (
        memory.training_memory(input_shape, layers, batch_size=batch_size, dtype_bytes=dtype_bytes) == expected_training
    ), where
    everything = [math.prod(input_shape)] + sizes
    expected_prediction = (
        max(a + b for a, b in zip(everything, everything[1:])) + reference.count_params
    ) * dtype_bytes
    assert memory.prediction_memory(input_shape, layers, dtype_bytes=dtype_bytes) == expected_prediction, where
