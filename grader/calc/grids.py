"""Convolution and pooling of small 2-D grids, as a student would work them by hand.

"Convolution" follows deep-learning usage and TensorFlow: the kernel is slid without
flipping (cross-correlation); ``flip=True`` gives the signal-processing convolution.
"same" padding pads like TensorFlow (the extra row/column goes at the bottom/right).
Zero padding counts in convolutions; in pooling, padded cells are ignored, so an
average is taken over the real cells only, as ``tf.nn.avg_pool2d`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.calc.layers import output_length
from grader.errors import CalculationError

Grid = list[list[float]]


def grid_shape(grid: Sequence[Sequence[float]], name: str) -> tuple[int, int]:
    """Rows and columns of a rectangular, non-empty grid."""
    if not grid or not all(isinstance(row, (list, tuple)) and row for row in grid):
        raise CalculationError(f"{name} must be a non-empty list of non-empty rows")
    widths = {len(row) for row in grid}
    if len(widths) != 1:
        raise CalculationError(f"{name} has rows of different lengths {sorted(widths)}")
    return len(grid), widths.pop()


def _padding_before(size: int, window: int, stride: int, padding: str, dilation: int) -> tuple[int, int]:
    out = output_length(size, window, stride, padding, dilation)
    if padding == "valid":
        return out, 0
    needed = (out - 1) * stride + (window - 1) * dilation + 1
    return out, max(needed - size, 0) // 2


def _windows(rows: int, cols: int, kh: int, kw: int, stride: int, padding: str, dilation: int):
    """Yield (out_row, out_col, [(kernel_i, kernel_j, image_i, image_j) inside the image])."""
    out_h, top = _padding_before(rows, kh, stride, padding, dilation)
    out_w, left = _padding_before(cols, kw, stride, padding, dilation)
    for r in range(out_h):
        for c in range(out_w):
            cells = []
            for i in range(kh):
                for j in range(kw):
                    y = r * stride + i * dilation - top
                    x = c * stride + j * dilation - left
                    if 0 <= y < rows and 0 <= x < cols:
                        cells.append((i, j, y, x))
            yield r, c, out_h, out_w, cells


def convolve(
    image: Sequence[Sequence[float]],
    kernel: Sequence[Sequence[float]],
    *,
    stride: int = 1,
    padding: str = "valid",
    dilation: int = 1,
    flip: bool = False,
) -> Grid:
    """One-channel 2-D convolution of ``image`` with ``kernel`` (zero padding)."""
    rows, cols = grid_shape(image, "image")
    kh, kw = grid_shape(kernel, "kernel")
    if flip:
        kernel = [list(reversed(row)) for row in reversed(kernel)]
    out: Grid = []
    for r, c, _, _, cells in _windows(rows, cols, kh, kw, stride, padding, dilation):
        if c == 0:
            out.append([])
        out[r].append(sum(kernel[i][j] * image[y][x] for i, j, y, x in cells))
    return out


def pool(
    image: Sequence[Sequence[float]],
    *,
    pool_size: int = 2,
    stride: int | None = None,
    padding: str = "valid",
    mode: str = "max",
) -> Grid:
    """Max or average pooling; ``stride`` defaults to the pool size, as in Keras."""
    rows, cols = grid_shape(image, "image")
    if mode not in ("max", "average"):
        raise CalculationError(f"pooling mode must be 'max' or 'average', not {mode!r}")
    out: Grid = []
    windows = _windows(rows, cols, pool_size, pool_size, stride or pool_size, padding, 1)
    for r, c, _, _, cells in windows:
        if c == 0:
            out.append([])
        values = [image[y][x] for _, _, y, x in cells]
        out[r].append(max(values) if mode == "max" else sum(values) / len(values))
    return out
