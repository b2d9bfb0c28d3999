"""One student's text to compare (a notebook's code cells, or one written answer) with its
fingerprints, and the excerpts that show what two such texts share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from grader.similarity.result import EvidenceKind, Excerpt
from grader.similarity.tokens import Unit
from grader.similarity.winnowing import Fingerprinted


@dataclass(frozen=True)
class Document:
    owner: str  # the student
    kind: EvidenceKind
    parts: tuple[str, ...]  # the code cells as written, or the one answer
    fingerprinted: Fingerprinted
    k: int  # units per fingerprint
    label: str = ""  # for an answer: its question id

    @property
    def prints(self) -> dict[int, int]:
        return self.fingerprinted.prints

    def part_of(self, fingerprint: int) -> int:
        return self.fingerprinted.units[self.prints[fingerprint]].part

    def covered(self, fingerprints: Iterable[int]) -> dict[int, set[int]]:
        """The positions (lines, or character offsets) the k-grams of ``fingerprints`` cover, by part."""
        units: tuple[Unit, ...] = self.fingerprinted.units
        found: defaultdict[int, set[int]] = defaultdict(set)
        for fingerprint in fingerprints:
            first = self.prints[fingerprint]
            part = units[first].part
            for unit in units[first : first + self.k]:
                if unit.part == part:
                    found[part].add(unit.position)
        return found

    def excerpt(self, part: int, positions: set[int]) -> Excerpt:
        text = self.parts[part]
        if self.kind is EvidenceKind.CODE:
            return _code_excerpt(text, part, positions)
        return Excerpt(f"answer to {self.label}", text, _runs(sorted(positions), lambda p: (p, p + 1)))


def _runs(positions: list[int], span) -> tuple[tuple[int, int], ...]:
    """Character ranges of ``positions`` (each given as a range by ``span``), touching ones merged."""
    merged: list[list[int]] = []
    for position in positions:
        start, end = span(position)
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _code_excerpt(text: str, part: int, lines: set[int]) -> Excerpt:
    offsets, at = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append((at, at + len(line.rstrip("\r\n"))))
        at += len(line)
    valid = sorted(n for n in lines if 1 <= n <= len(offsets))
    lines_text = (
        "" if not valid else f", line {valid[0]}" if valid[0] == valid[-1] else f", lines {valid[0]}–{valid[-1]}"
    )
    where = f"code cell {part + 1}{lines_text}"
    return Excerpt(where, text, _runs(valid, lambda n: offsets[n - 1]))
