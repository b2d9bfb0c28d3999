"""Comparing one set of documents (a class's notebooks, or its answers to one question): the
scored pairs, and for a pair the passages it shares, strongest first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from grader.similarity.documents import Document
from grader.similarity.result import Evidence
from grader.similarity.weighting import PairScore, Weights, score_pairs

EVIDENCE_PER_PAIR = 8  # passages kept for one pair (the strongest)


@dataclass(frozen=True)
class Compared:
    documents: tuple[Document, ...]
    weights: Weights
    pairs: tuple[PairScore, ...]  # highest score first

    @classmethod
    def of(cls, documents: Sequence[Document], template: frozenset[int] = frozenset()) -> Compared:
        prints = [d.prints.keys() for d in documents]
        weights = Weights.of(prints, template)
        return cls(tuple(documents), weights, tuple(score_pairs(prints, weights)))

    def evidence(self, pair: PairScore, limit: int = EVIDENCE_PER_PAIR) -> tuple[Evidence, ...]:
        """The parts of the two documents that share weighty fingerprints, one item per pair of
        parts (a cell of each notebook; the two answers), strongest first."""
        a, b = self.documents[pair.a], self.documents[pair.b]
        groups: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        for fingerprint in a.prints.keys() & b.prints.keys():
            if self.weights.weight(fingerprint) > 0:
                groups[(a.part_of(fingerprint), b.part_of(fingerprint))].append(fingerprint)
        weights = {parts: sum(self.weights.weight(f) for f in found) for parts, found in groups.items()}
        total = sum(weights.values()) or 1.0
        strongest = sorted(groups, key=lambda parts: (-weights[parts], parts))[:limit]
        return tuple(
            Evidence(
                a.kind,
                a.excerpt(part_a, a.covered(groups[(part_a, part_b)])[part_a]),
                b.excerpt(part_b, b.covered(groups[(part_a, part_b)])[part_b]),
                weights[(part_a, part_b)] / total,
                a.label or None,
            )
            for part_a, part_b in strongest
        )
