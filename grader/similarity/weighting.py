"""What sharing a fingerprint says about two students, given the whole class.

A fingerprint of the starter template (``--template``, or a question's own prompt) says
nothing: its weight is 0. Otherwise its weight is an inverse document frequency, squared:
1 for a fingerprint one or two students have, (1 / (df - 1))² for one that df students
have. Code only two students share counts fully; code five students took from one public
tutorial counts 1/16; the lines every student writes count for nothing. A student's *mass*
is the sum of the weights of their fingerprints: how much of their text is their own or rare.

Two students' *shared* weight sums the weights of the fingerprints they both have, and their
score is that over the mean of their masses (floored at a fifth of the class's median mass,
so two nearly empty submissions are not alike for the little they have): 1 when both hold
the same rare material and nothing else, 0 when they share nothing the class does not.

Measured on the planted class of tests/similarity_class.py (README, "Similar submissions"):
a logarithmic inverse document frequency left students who wrote from the same tutorial as
alike as disguised copies; the squared linear one separates them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

MASS_FLOOR = 0.2  # of the class's median mass: the smallest mean mass a score is taken over
EXPONENT = 2  # of the inverse document frequency
NEGLIGIBLE = 0.01  # shared fingerprints of lower weight (nearly every student has them) are not paired


@dataclass(frozen=True)
class Weights:
    """Document frequencies over the class, and the fingerprints that count for nothing."""

    counts: dict[int, int]  # fingerprint -> how many students have it
    template: frozenset[int]

    @classmethod
    def of(cls, prints: Iterable[Iterable[int]], template: Iterable[int] = ()) -> Weights:
        counts: Counter[int] = Counter()
        for owned in prints:
            counts.update(set(owned))
        return cls(dict(counts), frozenset(template))

    def weight(self, fingerprint: int) -> float:
        if fingerprint in self.template:
            return 0.0
        df = self.counts.get(fingerprint, 0)
        return 1.0 if df <= 2 else (df - 1) ** -EXPONENT

    def mass(self, prints: Iterable[int]) -> float:
        return sum(self.weight(f) for f in prints)


@dataclass(frozen=True)
class PairScore:
    a: int  # indexes into the documents compared
    b: int
    shared: float
    score: float  # 0..1


def score_pairs(prints: Sequence[Iterable[int]], weights: Weights) -> list[PairScore]:
    """Every pair that shares a fingerprint of some weight, highest score first. Pairs are
    found through an index from fingerprint to owners, so the cost grows with what students
    share, not with the square of the class."""
    owners: defaultdict[int, list[int]] = defaultdict(list)
    for index, owned in enumerate(prints):
        for fingerprint in set(owned):
            owners[fingerprint].append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for fingerprint, holders in owners.items():
        if len(holders) < 2:
            continue
        weight = weights.weight(fingerprint)
        if weight < NEGLIGIBLE:
            continue
        for pair in combinations(holders, 2):
            shared[pair] += weight
    masses = [weights.mass(set(owned)) for owned in prints]
    floor = MASS_FLOOR * statistics.median(masses) if masses else 0.0
    scores = [
        PairScore(a, b, weight, min(1.0, weight / max((masses[a] + masses[b]) / 2, floor, 1e-9)))
        for (a, b), weight in shared.items()
    ]
    return sorted(scores, key=lambda p: (-p.score, p.a, p.b))
