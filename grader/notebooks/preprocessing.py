"""Working out how a student transformed the images, so the held-out ones get the same.

The grader served raw pixels (0-255). Whatever the notebook passed to ``evaluate`` or
``predict`` (or, failing that, ``fit``) is recorded as its shape, its range and its first
image. Dividing by 255, standardising with a mean and a standard deviation, or nothing
at all, are all affine maps ``a * pixel + b``; over thousands of MNIST images the raw
range is 0..255, so ``a`` and ``b`` follow from the recorded range. The first image is
then mapped back and must give whole pixel values of an image the notebook was served:
otherwise the transformation is reported as not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.notebooks.mnist_data import fingerprint
from grader.notebooks.trace import InputSummary, KernelTrace


@dataclass(frozen=True)
class Transform:
    scale: float
    offset: float
    sample_shape: tuple[int, ...]
    verified: bool
    observed_in: str  # which call the arrays were recorded from

    def apply(self, raw: np.ndarray) -> np.ndarray:
        x = raw.astype("float32") * np.float32(self.scale) + np.float32(self.offset)
        return x.reshape((len(raw),) + self.sample_shape)

    def describe(self) -> str:
        if abs(self.scale - 1 / 255) < 1e-6 and abs(self.offset) < 1e-6:
            values = "pixels divided by 255"
        elif abs(self.scale - 1) < 1e-6 and abs(self.offset) < 1e-6:
            values = "raw pixels (0-255)"
        else:
            values = (
                f"pixels standardised (x * {self.scale:.4g} {'+' if self.offset >= 0 else '-'} {abs(self.offset):.4g})"
            )
        shape = "×".join(map(str, self.sample_shape))
        axis = ", channel axis added" if self.sample_shape == (28, 28, 1) else ""
        return f"{values}, images shaped {shape}{axis} (seen in {self.observed_in})" + (
            "" if self.verified else "; NOT verified against the served images"
        )


def infer(
    trace: KernelTrace,
    served_fingerprints: set[str],
    model_id: int | None,
    model_input_shape: list[Any] | None,
) -> Transform:
    """The student's transformation, from the record of the kernel's calls."""
    candidates = [(c.call, c.input) for c in trace.inputs if c.input and (model_id is None or c.model == model_id)]
    candidates += [("fit", f.input) for f in trace.fits if f.input and (model_id is None or f.model == model_id)]
    for call, summary in candidates:
        transform = _from_summary(summary, served_fingerprints, call)
        if transform is not None:
            return transform
    shape = tuple(d for d in (model_input_shape or [28, 28, 1]) if d is not None) or (28, 28, 1)
    return Transform(1 / 255, 0.0, shape, False, "nowhere: assumed pixels divided by 255")


def _from_summary(summary: InputSummary, served: set[str], call: str) -> Transform | None:
    low, high = summary.min, summary.max
    sample_shape = tuple(summary.shape[1:])
    if high <= low or int(np.prod(sample_shape)) != 784:
        return None
    scale, offset = (high - low) / 255.0, low
    first = np.asarray(summary.first, dtype="float64")
    pixels = (first - offset) / scale
    whole = np.abs(pixels - np.round(pixels)).max() < 0.02 and pixels.min() > -0.5 and pixels.max() < 255.5
    verified = bool(whole and fingerprint(np.round(pixels).astype(np.uint8).reshape(28, 28)) in served)
    return Transform(scale, offset, sample_shape, verified, call)
