"""Known slips, recomputed rather than listed.

For a wrong numeric answer, the checker reruns the question's calculator with its
arguments altered the way a known slip alters them (biases forgotten, bits counted as
bytes, strides ignored, ...). If the student's answer equals one of those results, the
feedback names the slip. Pairs of slips are tried too, since slips come together.
Nothing here is a stored list of wrong answers: change the setup or the variant and
the recognised wrong answers follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from grader.calc.layers import Conv2D, DepthwiseConv2D, Pooling2D, SeparableConv2D, with_changes
from grader.errors import CalculationError
from grader.quiz.keys import evaluate

Args = dict[str, Any]


@dataclass(frozen=True)
class Slip:
    """A misconception: which calculators it affects and how it changes their arguments."""

    id: str
    message: str
    computes: frozenset[str]
    alter: Callable[[Args], Args | None]  # None: the slip changes nothing here


NETWORK = frozenset({"parameter_count", "output_shape", "prediction_memory", "training_memory"})
MEMORY = frozenset({"prediction_memory", "training_memory"})
_WINDOWED = (Conv2D, DepthwiseConv2D, SeparableConv2D, Pooling2D)


def _layers(args: Args, **changes: Any) -> Args | None:
    changed = with_changes(args["layers"], **changes)
    return None if changed == args["layers"] else {**args, "layers": changed}


def _set(name: str, value: Callable[[Any], Any]) -> Callable[[Args], Args | None]:
    def alter(args: Args) -> Args | None:
        new = value(args.get(name))
        return None if new == args.get(name) else {**args, name: new}

    return alter


def _reverse(args: Args) -> Args | None:
    reordered = list(reversed(args["layers"]))
    return None if reordered == args["layers"] else {**args, "layers": reordered}


def _flip_padding(args: Args) -> Args | None:
    flipped = []
    for layer in args["layers"]:
        if isinstance(layer, _WINDOWED):
            layer = with_changes([layer], padding="valid" if layer.padding == "same" else "same")[0]
        flipped.append(layer)
    return {**args, "layers": flipped}


def _filters_from_input(args: Args) -> Args | None:
    return _layers(args, filters=args["input_shape"][-1])


def _swap_grid_padding(args: Args) -> Args | None:
    return {**args, "padding": "valid" if args.get("padding", "valid") == "same" else "same"}


SLIPS: tuple[Slip, ...] = (
    Slip(
        "biases_forgotten",
        "the biases were forgotten: every filter (and every dense unit) has one bias too",
        NETWORK - {"output_shape"},
        lambda a: _layers(a, use_bias=False),
    ),
    Slip(
        "input_channels_reused",
        "the input's channels were used as every layer's input depth: a layer's kernels "
        "span all the feature maps of the layer before it",
        NETWORK - {"output_shape"},
        _set("depth_from_input", lambda v: True),
    ),
    Slip("layers_reversed", "the layers were taken in reverse order", NETWORK, _reverse),
    Slip(
        "bits_for_bytes",
        "bits were counted as bytes: a 32-bit float takes 4 bytes, not 32",
        MEMORY,
        _set("dtype_bytes", lambda v: (v or 4) * 8),
    ),
    Slip(
        "input_resolution",
        "the input's resolution was used for every layer: each strided layer's output is smaller than its input",
        MEMORY,
        lambda a: _layers(a, strides=(1, 1), padding="same"),
    ),
    Slip(
        "stride_ignored",
        "the stride was ignored: a stride of s divides the output size by about s",
        NETWORK - {"parameter_count"},
        lambda a: _layers(a, strides=(1, 1)),
    ),
    Slip(
        "padding_ignored",
        "the padding was mixed up: 'same' keeps ceil(n / stride) positions, 'valid' only "
        "those where the whole window fits",
        NETWORK - {"parameter_count"},
        _flip_padding,
    ),
    Slip(
        "filters_from_input",
        "the output depth was taken from the input's channels: a conv layer outputs one feature map per filter",
        frozenset({"output_shape"}),
        _filters_from_input,
    ),
    Slip(
        "parameters_left_out",
        "the memory for the parameters was left out",
        MEMORY,
        _set("include_params", lambda v: False),
    ),
    Slip(
        "batch_left_out",
        "the batch factor was left out: training keeps every layer's output for every instance of the mini-batch",
        frozenset({"training_memory"}),
        _set("batch_size", lambda v: 1),
    ),
    Slip(
        "input_batch_left_out",
        "the input batch itself was left out: the mini-batch of images is in memory too",
        frozenset({"training_memory"}),
        _set("include_input", lambda v: False),
    ),
    Slip(
        "kernel_flipped",
        "the kernel was flipped (signal-processing convolution); CNN layers, and this "
        "course, slide the kernel as it is (cross-correlation)",
        frozenset({"convolution"}),
        _set("flip", lambda v: True),
    ),
    Slip(
        "zero_padding_mixed_up",
        "the padding was mixed up: without padding the output shrinks by kernel size - 1; "
        "with 'same' zero padding it keeps the input's size",
        frozenset({"convolution", "pooling"}),
        _swap_grid_padding,
    ),
    Slip(
        "dilation_ignored",
        "the dilation was ignored: with rate 2 the kernel's taps are two cells apart",
        frozenset({"convolution"}),
        _set("dilation", lambda v: 1),
    ),
    Slip(
        "pool_stride_ignored",
        "the pooling stride was ignored: windows move by the stride, so they do not overlap",
        frozenset({"pooling"}),
        _set("stride", lambda v: 1),
    ),
    Slip(
        "pool_mode_swapped",
        "max and average pooling were mixed up",
        frozenset({"pooling"}),
        _set("mode", lambda v: "average" if v in (None, "max") else "max"),
    ),
)


def _applied(slips: tuple[Slip, ...], args: Args) -> Args | None:
    for slip in slips:
        altered = slip.alter(args)
        if altered is None:
            return None
        args = altered
    return args


def slipped_answers(compute: str, args: Args, key: Any) -> Iterator[tuple[tuple[Slip, ...], Any]]:
    """Every answer a single slip, then a pair of slips, would give, when it differs from the key."""
    relevant = tuple(s for s in SLIPS if compute in s.computes)
    for size in (1, 2):
        for combo in combinations(relevant, size):
            altered = _applied(combo, args)
            if altered is None:
                continue
            try:
                value = evaluate(compute, altered)
            except CalculationError:
                continue
            if value != key:
                yield combo, value


def describe(slips: tuple[Slip, ...]) -> str:
    """One sentence naming the slip or slips."""
    if len(slips) == 1:
        return f"Your answer is what you get if {slips[0].message}."
    parts = "; and ".join(s.message for s in slips)
    return f"Your answer is what you get with two slips: {parts}."
