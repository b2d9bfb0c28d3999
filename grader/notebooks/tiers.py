"""Scoring a measured accuracy against an assignment's tiers, with a margin for sampling noise.

The accuracy is measured on a sample of held-out images (1,000 digits for MNIST, 500 for the
transfer-learning digits 5-9), so it is itself uncertain: near 97% its standard error on 1,000
images is about half a point, and one tier step (a point on the bundled digits) is about two of
them. No point should be lost to that chance, so a tier is given when the measurement's 95%
interval reaches it (the doubt counts in the student's favour), and a result given its tier
that way (its measurement within the margin below the boundary) is flagged for the instructor. When the number of images is unknown,
the measured accuracy is compared with the tiers as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

Z95 = NormalDist().inv_cdf(0.975)  # 1.95996...: a two-sided 95% interval


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) for ``correct`` right answers out of ``n``.

    E. B. Wilson (1927), "Probable inference, the law of succession, and statistical
    inference", Journal of the American Statistical Association 22:209-212. With p = correct/n:
    (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). Unlike p ± z·sqrt(p(1-p)/n), it stays
    inside [0, 1] and is not empty at 100% or 0%. (scipy, when installed, gives the same values with
    ``binomtest(correct, n).proportion_ci(method="wilson")``; the grader does not depend on it.)
    """
    if n <= 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n > 0, got {correct} of {n}")
    p, z2 = correct / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


class Tier(Protocol):
    """A tier as scoring reads it (an assignment's :class:`grader.notebooks.assignment.Tier`);
    this module imports no other of the grader's."""

    @property
    def min_accuracy(self) -> float: ...

    @property
    def fraction(self) -> float: ...


@dataclass(frozen=True)
class TierScore:
    """How a measured accuracy scored against the tiers."""

    accuracy: float
    images: int | None  # the images measured on; None: unknown, scored with no margin
    fraction: float  # of the accuracy check's points
    tier: Tier | None  # the highest tier reached, None below them all
    interval: tuple[float, float] | None  # the 95% interval (low, high); None when images is unknown
    by_margin: bool  # the tier was reached only because the interval reaches it: flagged for the instructor


def score_tiers(tiers: Sequence[Tier], accuracy: float, images: int | None = None) -> TierScore:
    """The highest tier the measurement reaches: with ``images`` known, a tier whose
    min_accuracy the upper end of the 95% interval reaches (the doubt counts in the student's
    favour); without, a tier whose min_accuracy the accuracy itself reaches."""
    interval = wilson_interval(round(accuracy * images), images) if images else None
    reach = interval[1] if interval else accuracy
    tier = max((t for t in tiers if reach >= t.min_accuracy), key=lambda t: t.min_accuracy, default=None)
    return TierScore(
        accuracy=accuracy,
        images=images if interval else None,
        fraction=tier.fraction if tier else 0.0,
        tier=tier,
        interval=interval,
        by_margin=tier is not None and accuracy < tier.min_accuracy,
    )


def accuracy_needed(min_accuracy: float, images: int) -> float:
    """The lowest accuracy measurable on ``images`` images (correct / images) whose 95%
    interval reaches ``min_accuracy``: what earns that tier on this many images."""
    low, high = 0, images  # the upper end of the interval grows with the number correct
    while low < high:
        middle = (low + high) // 2
        if wilson_interval(middle, images)[1] >= min_accuracy:
            high = middle
        else:
            low = middle + 1
    return low / images
