"""Notebooks compared by their code: the code cells read as JSON (nothing is run), each
cell's normalised tokens fingerprinted by winnowing, and a notebook's fingerprints compared
as one set, so the order of its cells does not matter, and merged cells keep every
fingerprint (a split cell loses the few k-grams across the split). The starter template's
k-grams, every one of them, count for nothing.

Measured on the planted class of tests/similarity_class.py (README, "Similar submissions"):
k-grams that run across cell boundaries (the cells concatenated) lose more to reordered
cells than they gain on split ones, and 12-token k-grams with a window of 4 separated the
disguised copies from honest pairs best of k = 8 to 14 and windows of 4 to 8."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from grader.similarity.documents import Document
from grader.similarity.result import EvidenceKind
from grader.similarity.tokens import Unit, code_units
from grader.similarity.winnowing import Method, fingerprint, kgram_hashes

CODE = Method(k=12, window=4)  # a shared passage of 15 tokens (about a line and a half of code) is always found


class NotebookReadError(ValueError):
    """A submission that is not a readable notebook; the message names the file."""


def code_cells(path: Path) -> tuple[str, ...]:
    """The source of each code cell, in order."""
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NotebookReadError(f"{path}: not a readable notebook ({exc.__class__.__name__}: {exc})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NotebookReadError(f"{path}: not a notebook (no list of cells)")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return tuple(sources)


def _units(cells: Sequence[str]) -> list[Unit]:
    return [unit for number, cell in enumerate(cells) for unit in code_units(cell, number)]


def _kgrams(units: Sequence[Unit]) -> set[int]:
    return {
        value for _, part in groupby(units, key=lambda unit: unit.part) for value in kgram_hashes(list(part), CODE.k)
    }


def notebook_document(student: str, path: Path) -> Document:
    cells = code_cells(path)
    return Document(student, EvidenceKind.CODE, cells, fingerprint(_units(cells), CODE), CODE.k)


def template_prints(path: Path) -> frozenset[int]:
    """Every k-gram of the starter notebook (not only those winnowing keeps: a student's
    notebook may keep others of the same code)."""
    return frozenset(_kgrams(_units(code_cells(path))))
