"""Winnowing (Schleimer, Wilkerson and Aiken 2003, the method of MOSS): hash every k-gram of
units, then keep the smallest hash of each window of ``w`` consecutive hashes. Any passage
two texts share that is at least ``k + w - 1`` units long shares at least one kept hash,
and a text keeps about ``2 / (w + 1)`` of its hashes, so long texts stay cheap to compare.

Hashes are stable across processes and runs: units are numbered by CRC-32 of their text,
and a k-gram's hash is Python's hash of a tuple of those numbers (integers hash the same in
every process, unlike strings)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby

from grader.similarity.tokens import Unit


@dataclass(frozen=True)
class Method:
    """k: units in a k-gram; window: hashes per winnowing window (1 keeps every k-gram)."""

    k: int
    window: int

    @property
    def guaranteed(self) -> int:
        """The length (in units) from which a shared passage is always found."""
        return self.k + self.window - 1


@dataclass(frozen=True)
class Fingerprinted:
    """One text's units and its fingerprints: each kept hash with the index of the first
    unit of its first k-gram (a k-gram covers units [index, index + k))."""

    units: tuple[Unit, ...]
    prints: dict[int, int]


@lru_cache(maxsize=1 << 16)
def _number(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def kgram_hashes(units: Sequence[Unit], k: int) -> list[int]:
    """The hash of every k-gram, in order (one hash for a text shorter than k, none for an empty one)."""
    numbers = [_number(u.text) for u in units]
    if not numbers:
        return []
    if len(numbers) <= k:
        return [hash(tuple(numbers))]
    return [hash(tuple(numbers[i : i + k])) for i in range(len(numbers) - k + 1)]


def winnow(hashes: Sequence[int], window: int) -> dict[int, int]:
    """The kept hashes, each with the position of its first occurrence: in each window the
    smallest hash (the rightmost of equal ones), as robust winnowing chooses."""
    if window <= 1 or len(hashes) <= window:
        chosen = range(len(hashes)) if window <= 1 else [_rightmost_min(hashes, 0, len(hashes))]
    else:
        chosen = sorted({_rightmost_min(hashes, i, i + window) for i in range(len(hashes) - window + 1)})
    kept: dict[int, int] = {}
    for position in chosen:
        kept.setdefault(hashes[position], position)
    return kept


def _rightmost_min(hashes: Sequence[int], start: int, stop: int) -> int:
    window = hashes[start:stop]
    smallest = min(window)
    return stop - 1 - window[::-1].index(smallest)


def fingerprint(units: Sequence[Unit], method: Method) -> Fingerprinted:
    """The fingerprints of each part (a notebook's code cell) on its own, in one set: no
    k-gram spans two parts, so parts reordered, or merged, keep every fingerprint."""
    kept: dict[int, int] = {}
    start = 0
    for _, part in groupby(units, key=lambda unit: unit.part):
        length = len(list(part))
        for value, position in winnow(kgram_hashes(units[start : start + length], method.k), method.window).items():
            kept.setdefault(value, start + position)
        start += length
    return Fingerprinted(tuple(units), kept)
