"""Benchmark: how far apart image prints lie for one digit changed and for two digits.

Run: python benchmarks/image_prints.py
For the grader's held-out digits, the bits by which a changed copy's print differs from the
original (noise, shifts, rescaling, a zoom), against the distance from each held-out digit to
the nearest served digit, and how long printing and matching take. ``likeness.WITHIN`` must
lie above the first and below the second.
"""

from __future__ import annotations

import time

import numpy as np

from grader.notebooks import likeness, mnist_data
from grader.notebooks.kernel_trace import image_prints


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a ^ b).sum(axis=1)


def main() -> None:
    split = mnist_data.prepare(None)
    heldout, served = split.heldout.images, np.concatenate([split.train.images, split.test.images])
    start = time.perf_counter()
    served_prints = likeness.as_array(image_prints(served))
    print(f"printing {len(served):,} digits: {time.perf_counter() - start:.1f} s")
    reference = likeness.as_array(image_prints(heldout))
    scaled = (heldout / 255.0).astype("float32")
    rng = np.random.default_rng(1)
    variants = {
        "standardised": (scaled - scaled.mean()) / scaled.std(),
        "noise 1e-3": scaled + rng.uniform(-1e-3, 1e-3, scaled.shape),
        "noise 1e-2": scaled + rng.uniform(-1e-2, 1e-2, scaled.shape),
        "one pixel right": shifted(scaled, 0, 1),
        "two pixels down and right": shifted(scaled, 2, 2),
        "zoomed to 56x56": scaled.repeat(2, 1).repeat(2, 2),
    }
    print(f"within {likeness.WITHIN} bits counts as the same digit")
    for name, images in variants.items():
        d = distances(reference, likeness.as_array(image_prints(images)))
        print(
            f"  {name:28s} median {np.median(d):4.0f}  99th {np.percentile(d, 99):4.0f}  within {np.mean(d <= likeness.WITHIN):.1%}"
        )
    start = time.perf_counter()
    found = likeness.near(reference, served_prints)
    print(
        f"held-out digits with a served digit within {likeness.WITHIN} bits: {found.sum()} of {len(reference):,} "
        f"(matching took {time.perf_counter() - start:.2f} s)"
    )
    nearest = np.array([distances(row[None, :], served_prints).min() for row in reference[:200]])
    print(
        f"  nearest served digit, first 200 held-out: min {nearest.min()}  1st pct {np.percentile(nearest, 1):.0f}  "
        f"median {np.median(nearest):.0f} bits"
    )


if __name__ == "__main__":
    main()
