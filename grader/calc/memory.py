"""Lower bounds on the RAM a CNN needs, by the course's convention.

Prediction: once a layer's output is computed the previous one can be freed, so the
peak is the largest pair of consecutive activations (the input counts as the first)
plus the parameters. Training: backpropagation keeps every layer's output for every
instance of the batch, plus the input batch and the parameters. Gradients and
optimizer state are left out, as in the course's standard solution.
"""

from __future__ import annotations

import math

from grader.calc.layers import Layer, analyze


def activation_sizes(input_shape: tuple[int, ...], layers: list[Layer], **options: bool) -> list[int]:
    """Number of values in each layer's output for one instance."""
    return [math.prod(r.output_shape) for r in analyze(input_shape, layers, **options)]


def prediction_memory(
    input_shape: tuple[int, ...],
    layers: list[Layer],
    *,
    dtype_bytes: int = 4,
    include_params: bool = True,
    depth_from_input: bool = False,
) -> int:
    """Bytes needed to predict one instance."""
    reports = analyze(input_shape, layers, depth_from_input=depth_from_input)
    sizes = [math.prod(input_shape)] + [math.prod(r.output_shape) for r in reports]
    peak = max((a + b for a, b in zip(sizes, sizes[1:])), default=sizes[0])
    params = sum(r.params for r in reports) if include_params else 0
    return (peak + params) * dtype_bytes


def training_memory(
    input_shape: tuple[int, ...],
    layers: list[Layer],
    *,
    batch_size: int,
    dtype_bytes: int = 4,
    include_params: bool = True,
    include_input: bool = True,
    depth_from_input: bool = False,
) -> int:
    """Bytes needed to train on one mini-batch of ``batch_size`` instances."""
    reports = analyze(input_shape, layers, depth_from_input=depth_from_input)
    activations = batch_size * sum(math.prod(r.output_shape) for r in reports)
    inputs = batch_size * math.prod(input_shape) if include_input else 0
    params = sum(r.params for r in reports) if include_params else 0
    return (activations + inputs + params) * dtype_bytes
