"""Which held-out digits a notebook trained on, by image prints that survive noise and shifts.

A notebook can only train on the grader's held-out digits by bringing another copy of MNIST,
and a copy passed through noise of a few thousandths, a one-pixel shift or a rescaling is
still that copy. The kernel sends a 256-bit print of every image it trained on
(:func:`grader.notebooks.kernel_trace.image_prints`); prints of the same digit so changed
differ in a bit or two, prints of two different MNIST digits in dozens
(``benchmarks/image_prints.py`` measures both). A held-out digit counts as trained on when
a print lies within ``WITHIN`` bits of its own.

Comparing every pair would take minutes on full MNIST. Prints are cut into ``BANDS`` bands of
32 bits: two prints within ``WITHIN`` = ``BANDS - 1`` bits agree exactly on at least one band
(the pigeonhole principle), so equal bands give every candidate pair and only those are
compared bit by bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

BANDS = 8
WITHIN = BANDS - 1  # bits two prints of one digit may differ by
# A handful of near-matches can be chance (an augmented served digit that resembles a held-out
# one); training on a copy of the held-out digits matches nearly all of them.
LEAK_MINIMUM = 5
LEAK_MINIMUM_SHARE = 0.01


def as_array(prints: Iterable[str]) -> np.ndarray:
    """Hex prints as an (n, 32) array of bytes; prints of another length are ignored."""
    rows = [bytes.fromhex(p) for p in prints if isinstance(p, str) and len(p) == 64]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), 32)


def near(reference: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """For each reference print, whether a candidate print lies within WITHIN bits."""
    found = np.zeros(len(reference), bool)
    if not len(reference) or not len(candidates):
        return found
    ref_bands, cand_bands = reference.view(np.uint32), candidates.view(np.uint32)
    for band in range(BANDS):
        order = np.argsort(cand_bands[:, band], kind="stable")
        ordered = cand_bands[order, band]
        lo = np.searchsorted(ordered, ref_bands[:, band], "left")
        hi = np.searchsorted(ordered, ref_bands[:, band], "right")
        for index in np.flatnonzero((hi > lo) & ~found):
            bits = np.bitwise_count(reference[index] ^ candidates[order[lo[index] : hi[index]]]).sum(axis=1)
            found[index] = bool((bits <= WITHIN).any())
    return found


def is_leak(matched: int, heldout_size: int) -> bool:
    """Whether that many matched held-out digits is more than chance."""
    return matched >= max(LEAK_MINIMUM, math.ceil(LEAK_MINIMUM_SHARE * heldout_size))
