"""Output shapes and parameter counts of Keras-style layers, in plain Python.

The quiz path must not import TensorFlow, so answer keys come from these formulas.
Layer classes mirror the Keras constructor arguments of the same name, which lets the
tests build the equivalent ``keras.layers`` object and compare ``count_params()`` and
output shapes over many random configurations.

Shapes exclude the batch axis: an RGB image is ``(height, width, channels)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Union

from grader.errors import CalculationError

Pair = tuple[int, int]


def as_pair(value: int | list[int] | tuple[int, ...], name: str) -> Pair:
    """Keras accepts ``3`` or ``(3, 3)`` for kernel sizes, strides and rates."""
    if isinstance(value, bool):
        raise CalculationError(f"{name} must be an integer or a pair, not {value!r}")
    if isinstance(value, int):
        return (value, value)
    pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise CalculationError(f"{name} must be an integer or a pair of integers, not {value!r}")
    return pair  # type: ignore[return-value]


def output_length(size: int, window: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Length of one spatial axis after a convolution or pooling window.

    "same" keeps ``ceil(size / stride)`` positions; "valid" keeps only the positions
    where the (dilated) window fits inside the input.
    """
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        if size < effective:
            raise CalculationError(
                f"a window of {effective} (kernel {window}, dilation {dilation}) "
                f"does not fit in an input of {size} with 'valid' padding"
            )
        return (size - effective) // stride + 1
    raise CalculationError(f"padding must be 'valid' or 'same', not {padding!r}")


def _spatial(shape: tuple[int, ...], layer_name: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise CalculationError(f"{layer_name} needs an input of shape (height, width, channels), got {shape}")
    return shape  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class _SlidingKernel:
    """What every convolution flavour shares: a kernel slid with strides, padding and dilation."""

    kernel_size: Pair
    strides: Pair = (1, 1)
    padding: str = "valid"
    dilation_rate: Pair = (1, 1)
    use_bias: bool = True

    def _window_output(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """Height and width after the sliding window."""
        h, w, _ = _spatial(shape, type(self).__name__)
        return (
            output_length(h, self.kernel_size[0], self.strides[0], self.padding, self.dilation_rate[0]),
            output_length(w, self.kernel_size[1], self.strides[1], self.padding, self.dilation_rate[1]),
        )

    def _depth(self, shape: tuple[int, ...]) -> int:
        return _spatial(shape, type(self).__name__)[2]


@dataclass(frozen=True, kw_only=True)
class Conv2D(_SlidingKernel):
    filters: int

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self._window_output(shape) + (self.filters,)

    def params(self, shape: tuple[int, ...]) -> int:
        kh, kw = self.kernel_size
        return kh * kw * self._depth(shape) * self.filters + (self.filters if self.use_bias else 0)


@dataclass(frozen=True, kw_only=True)
class DepthwiseConv2D(_SlidingKernel):
    depth_multiplier: int = 1

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self._window_output(shape) + (shape[2] * self.depth_multiplier,)

    def params(self, shape: tuple[int, ...]) -> int:
        kh, kw = self.kernel_size
        out = self._depth(shape) * self.depth_multiplier
        return kh * kw * out + (out if self.use_bias else 0)


@dataclass(frozen=True, kw_only=True)
class SeparableConv2D(_SlidingKernel):
    filters: int
    depth_multiplier: int = 1

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return self._window_output(shape) + (self.filters,)

    def params(self, shape: tuple[int, ...]) -> int:
        depth = self._depth(shape)
        kh, kw = self.kernel_size
        depthwise = kh * kw * depth * self.depth_multiplier
        pointwise = depth * self.depth_multiplier * self.filters
        return depthwise + pointwise + (self.filters if self.use_bias else 0)


@dataclass(frozen=True)
class Pooling2D:
    """Max or average pooling; ``strides`` defaults to the pool size, as in Keras."""

    pool_size: Pair
    strides: Pair | None = None
    padding: str = "valid"
    mode: str = "max"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, c = _spatial(shape, f"{self.mode} pooling")
        sh, sw = self.strides or self.pool_size
        return (
            output_length(h, self.pool_size[0], sh, self.padding),
            output_length(w, self.pool_size[1], sw, self.padding),
            c,
        )

    def params(self, shape: tuple[int, ...]) -> int:
        return 0


@dataclass(frozen=True)
class Dense:
    """A dense layer acts on the last axis only, as Keras's does."""

    units: int
    use_bias: bool = True

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape[:-1]) + (self.units,)

    def params(self, shape: tuple[int, ...]) -> int:
        return shape[-1] * self.units + (self.units if self.use_bias else 0)


@dataclass(frozen=True)
class Flatten:
    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(shape),)

    def params(self, shape: tuple[int, ...]) -> int:
        return 0


@dataclass(frozen=True)
class GlobalPooling2D:
    mode: str = "average"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (_spatial(shape, "global pooling")[2],)

    def params(self, shape: tuple[int, ...]) -> int:
        return 0


@dataclass(frozen=True)
class BatchNormalization:
    """Scale, offset, moving mean and moving variance per channel: 4 numbers each."""

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape)

    def params(self, shape: tuple[int, ...]) -> int:
        return 4 * shape[-1]


Layer = Union[  # noqa: UP007 (a runtime alias listed for readers)
    Conv2D,
    DepthwiseConv2D,
    SeparableConv2D,
    Pooling2D,
    Dense,
    Flatten,
    GlobalPooling2D,
    BatchNormalization,
]

_CONV_FIELDS = {"kernel_size", "strides", "dilation_rate"}


def _conv_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(spec)
    for name in _CONV_FIELDS & kwargs.keys():
        kwargs[name] = as_pair(kwargs[name], name)
    return kwargs


def layer_from_spec(spec: dict[str, Any]) -> Layer:
    """Build a layer from a bank's mapping, e.g. ``{type: conv2d, filters: 32, kernel_size: 3}``."""
    spec = dict(spec)
    kind = spec.pop("type", None)
    try:
        if kind == "conv2d":
            return Conv2D(**_conv_kwargs(spec))
        if kind == "depthwise_conv2d":
            return DepthwiseConv2D(**_conv_kwargs(spec))
        if kind == "separable_conv2d":
            return SeparableConv2D(**_conv_kwargs(spec))
        if kind in ("max_pooling2d", "average_pooling2d"):
            strides = spec.pop("strides", None)
            return Pooling2D(
                pool_size=as_pair(spec.pop("pool_size", 2), "pool_size"),
                strides=None if strides is None else as_pair(strides, "strides"),
                mode="max" if kind == "max_pooling2d" else "average",
                **spec,
            )
        if kind == "dense":
            return Dense(**spec)
        if kind == "flatten":
            return Flatten(**spec)
        if kind in ("global_average_pooling2d", "global_max_pooling2d"):
            return GlobalPooling2D(mode="average" if "average" in kind else "max", **spec)
        if kind == "batch_normalization":
            return BatchNormalization(**spec)
    except TypeError as exc:
        raise CalculationError(f"layer {kind!r}: {exc}") from None
    raise CalculationError(f"unknown layer type {kind!r}")


@dataclass(frozen=True)
class LayerReport:
    """One layer of an analysed network: what it received, produced and learns."""

    layer: Layer
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int


def analyze(input_shape: tuple[int, ...], layers: list[Layer], *, depth_from_input: bool = False) -> list[LayerReport]:
    """Walk a sequential network, layer by layer.

    ``depth_from_input`` reproduces a common slip: every layer's kernels are counted as
    if they spanned the *network input's* channels rather than the previous layer's.
    """
    shape = tuple(input_shape)
    reports = []
    for index, layer in enumerate(layers, start=1):
        try:
            out = layer.output_shape(shape)
            counted_on = shape
            if depth_from_input and len(shape) == 3:
                counted_on = shape[:2] + (input_shape[-1],)
            params = layer.params(counted_on)
        except CalculationError as exc:
            raise CalculationError(f"layer {index} ({type(layer).__name__}): {exc}") from None
        reports.append(LayerReport(layer, shape, out, params))
        shape = out
    return reports


def parameter_count(input_shape: tuple[int, ...], layers: list[Layer], **options: Any) -> int:
    """Total parameters, trainable or not, as ``model.count_params()`` reports."""
    return sum(r.params for r in analyze(input_shape, layers, **options))


def final_shape(input_shape: tuple[int, ...], layers: list[Layer], **options: Any) -> tuple[int, ...]:
    """Shape of the last layer's output, batch axis excluded."""
    reports = analyze(input_shape, layers, **options)
    return reports[-1].output_shape if reports else tuple(input_shape)


def with_changes(layers: list[Layer], **changes: Any) -> list[Layer]:
    """Copy of ``layers`` with the given fields changed wherever a layer has them."""
    out = []
    for layer in layers:
        fields = {k: v for k, v in changes.items() if k in layer.__dataclass_fields__}
        out.append(replace(layer, **fields) if fields else layer)
    return out
