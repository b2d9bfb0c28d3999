"""Shared helpers for the tests that compare the calculators with TensorFlow/Keras.

Only the ``tensorflow``-marked tests import this module; the quiz path itself never
imports TensorFlow. Everything here is the *reference side*: it rebuilds a setup in
Keras or ``tf.nn`` and reads the answer back from TensorFlow, without calling the
calculators, so the tests compare two independent computations.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from grader.calc import layers as calc  # noqa: E402


def to_keras(layer: calc.Layer) -> keras.layers.Layer:
    """The Keras layer with the same constructor arguments as a calculator layer."""
    if isinstance(layer, calc.Conv2D):
        return keras.layers.Conv2D(
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            padding=layer.padding,
            dilation_rate=layer.dilation_rate,
            use_bias=layer.use_bias,
        )
    if isinstance(layer, calc.DepthwiseConv2D):
        return keras.layers.DepthwiseConv2D(
            layer.kernel_size,
            strides=layer.strides,
            padding=layer.padding,
            dilation_rate=layer.dilation_rate,
            depth_multiplier=layer.depth_multiplier,
            use_bias=layer.use_bias,
        )
    if isinstance(layer, calc.SeparableConv2D):
        return keras.layers.SeparableConv2D(
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            padding=layer.padding,
            dilation_rate=layer.dilation_rate,
            depth_multiplier=layer.depth_multiplier,
            use_bias=layer.use_bias,
        )
    if isinstance(layer, calc.Pooling2D):
        cls = keras.layers.MaxPooling2D if layer.mode == "max" else keras.layers.AveragePooling2D
        return cls(pool_size=layer.pool_size, strides=layer.strides, padding=layer.padding)
    if isinstance(layer, calc.Dense):
        return keras.layers.Dense(layer.units, use_bias=layer.use_bias)
    if isinstance(layer, calc.Flatten):
        return keras.layers.Flatten()
    if isinstance(layer, calc.GlobalPooling2D):
        if layer.mode == "max":
            return keras.layers.GlobalMaxPooling2D()
        return keras.layers.GlobalAveragePooling2D()
    if isinstance(layer, calc.BatchNormalization):
        return keras.layers.BatchNormalization()
    raise TypeError(f"no Keras equivalent for {layer!r}")


@dataclass(frozen=True)
class KerasNetwork:
    """What Keras reports for a sequential network (batch axis dropped from shapes)."""

    input_shape: tuple[int, ...]
    count_params: int
    output_shapes: tuple[tuple[int, ...], ...]
    layer_params: tuple[int, ...]

    @property
    def input_size(self) -> int:
        return math.prod(self.input_shape)

    @property
    def activation_sizes(self) -> list[int]:
        return [math.prod(shape) for shape in self.output_shapes]

    def prediction_memory(self, dtype_bytes: int = 4) -> int:
        """Course convention: largest pair of consecutive activations plus parameters."""
        sizes = [self.input_size] + self.activation_sizes
        peak = max(a + b for a, b in zip(sizes, sizes[1:]))
        return (peak + self.count_params) * dtype_bytes

    def training_memory(self, batch_size: int, dtype_bytes: int = 4) -> int:
        """Course convention: every activation and the input, per instance, plus parameters."""
        per_instance = sum(self.activation_sizes) + self.input_size
        return (batch_size * per_instance + self.count_params) * dtype_bytes


_builds = 0


def _clear_now_and_then() -> None:
    """Keras's global naming/graph state grows with every model; reset it regularly."""
    global _builds
    _builds += 1
    if _builds % 100 == 0:
        keras.backend.clear_session()


def build_keras(input_shape: Sequence[int], layers: Sequence[calc.Layer]) -> keras.Sequential:
    """``keras.Sequential([keras.Input(input_shape), ...])``; raises whatever Keras raises."""
    _clear_now_and_then()
    return keras.Sequential([keras.Input(shape=tuple(input_shape))] + [to_keras(layer) for layer in layers])


@lru_cache(maxsize=512)
def _keras_network(input_shape: tuple[int, ...], layers: tuple[calc.Layer, ...]) -> KerasNetwork:
    model = build_keras(input_shape, layers)
    assert len(model.layers) == len(layers), model.layers
    shapes = tuple(tuple(int(d) for d in layer.output.shape[1:]) for layer in model.layers)
    per_layer = tuple(int(layer.count_params()) for layer in model.layers)
    return KerasNetwork(tuple(input_shape), int(model.count_params()), shapes, per_layer)


def keras_network(input_shape: Sequence[int], layers: Sequence[calc.Layer]) -> KerasNetwork:
    """Parameter counts and per-layer output shapes as Keras computes them (cached)."""
    return _keras_network(tuple(input_shape), tuple(layers))


# --- grids ---------------------------------------------------------------------------

#: What ``tf.nn`` raises for a window that leaves a negative output size (a window that
#: leaves exactly zero positions gives an empty output instead).
TF_REFUSALS = (tf.errors.InvalidArgumentError, ValueError)


def _as_nhwc(image: Sequence[Sequence[float]]) -> tf.Tensor:
    return tf.constant(np.asarray(image, dtype=np.float64)[None, :, :, None])


def tf_convolve(
    image: Sequence[Sequence[float]],
    kernel: Sequence[Sequence[float]],
    *,
    stride: int = 1,
    padding: str = "valid",
    dilation: int = 1,
) -> np.ndarray:
    """``tf.nn.conv2d`` on one channel, in float64; returns a 2-D array."""
    k = tf.constant(np.asarray(kernel, dtype=np.float64)[:, :, None, None])
    out = tf.nn.conv2d(_as_nhwc(image), k, strides=stride, padding=padding.upper(), dilations=dilation)
    return out.numpy()[0, :, :, 0]


def tf_pool(
    image: Sequence[Sequence[float]],
    *,
    pool_size: int = 2,
    stride: int | None = None,
    padding: str = "valid",
    mode: str = "max",
) -> np.ndarray:
    """``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d`` on one channel; stride defaults to the window."""
    op = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    out = op(_as_nhwc(image), ksize=pool_size, strides=stride or pool_size, padding=padding.upper())
    return out.numpy()[0, :, :, 0]


def refused_by_tf(op, **case) -> bool:
    """True if ``op`` (``tf_convolve`` or ``tf_pool``) refuses ``case`` or gives an empty grid."""
    try:
        return op(**case).size == 0
    except TF_REFUSALS:
        return True


def same_grid(calculated: Sequence[Sequence[float]], reference: np.ndarray) -> bool:
    """Same shape and values equal up to float rounding."""
    got = np.asarray(calculated, dtype=np.float64)
    if reference.size == 0:
        return got.size == 0
    return got.shape == reference.shape and np.allclose(got, reference, rtol=1e-9, atol=1e-9)
