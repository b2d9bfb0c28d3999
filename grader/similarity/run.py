"""A class compared: the submissions found as ``grader batch`` finds them (a folder or a zip,
nothing run), compared as notebooks or as written answers, and written to OUT as
``similarity.json`` and ``similarity.html``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TypeVar

from grader.atomic import write_atomically
from grader.batch.submissions import (
    DEFAULT_PATTERN,
    AssignmentKey,
    Submission,
    SubmissionKind,
    assignment_key,
    discover,
)
from grader.batch.unzip import ZipLimits, unpack
from grader.errors import AnswerSheetError, BatchError, GraderError, InputFileError
from grader.schemas import schema_errors
from grader.similarity.compare import Compared
from grader.similarity.notebooks import CODE, NotebookReadError, notebook_document, template_prints
from grader.similarity.result import Material, Similarity, SimilarPair
from grader.similarity.written import PROSE, AnswerPair, question_pairs, written_answers

JSON_FILE = "similarity.json"
HTML_FILE = "similarity.html"
THRESHOLD = 0.5  # pairs scoring this or more are flagged (measured: README, "Similar submissions")
LISTED_FROM = 0.15  # pairs scoring less are listed only to fill the first LEAST_LISTED
LEAST_LISTED = 10
MOST_LISTED = 300
CODE_METHOD = (
    f"code cells as Python tokens (every identifier one placeholder, every number another; comments and layout "
    f"left out), winnowed {CODE.k}-token fingerprints (window {CODE.window}) of each cell, one set per notebook, "
    "so the order of cells does not matter; a fingerprint counts the less the more students have it"
)
PROSE_METHOD = (
    f"free-text answers question by question, as lower-case {PROSE.k}-character n-grams; an n-gram counts the "
    "less the more students' answers have it, the question's wording not at all; short answers count less"
)


class Scored(Protocol):
    @property
    def score(self) -> float: ...


T = TypeVar("T", bound=Scored)


class SimilarityError(GraderError):
    """A class that cannot be compared (no submission, an unreadable template); the message names the file."""


def _listed(ranked: Sequence[T]) -> list[T]:
    """The pairs worth listing, of pairs ranked highest score first."""
    return [p for i, p in enumerate(ranked) if i < LEAST_LISTED or p.score >= LISTED_FROM][:MOST_LISTED]


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def compare_notebooks(submissions: Sequence[Submission], template: Path | None = None) -> Similarity:
    documents, not_compared = [], []
    for submission in submissions:
        try:
            documents.append(notebook_document(submission.student, submission.path))
        except NotebookReadError as exc:
            not_compared.append(f"{submission.student}: {exc}")
    try:
        starter = template_prints(template) if template else frozenset()
    except NotebookReadError as exc:
        raise SimilarityError(f"--template {exc}") from None
    compared = Compared.of(documents, starter)
    pairs = [
        SimilarPair(
            *_ordered(documents[s.a].owner, documents[s.b].owner), s.score, s.score >= THRESHOLD, compared.evidence(s)
        )
        for s in _listed(compared.pairs)
    ]
    return Similarity(
        "",
        Material.NOTEBOOKS,
        tuple(d.owner for d in documents),
        THRESHOLD,
        CODE_METHOD,
        tuple(pairs),
        tuple(not_compared),
        str(template) if template else None,
    )


def compare_sheets(submissions: Sequence[Submission], catalog: object | None = None) -> Similarity:
    from grader.quiz.bank import Catalog

    catalog = catalog if isinstance(catalog, Catalog) else Catalog.load()
    by_question: dict[str, list[tuple[str, str]]] = {}
    students, not_compared = [], []
    for submission in submissions:
        try:
            answers = written_answers(submission.path, catalog)
        except (AnswerSheetError, InputFileError) as exc:
            not_compared.append(f"{submission.student}: {exc}")
            continue
        students.append(submission.student)
        for qid, text in answers.items():
            by_question.setdefault(qid, []).append((submission.student, text))
    found: dict[tuple[str, str], list[AnswerPair]] = {}
    for qid in sorted(by_question):
        for pair in question_pairs(catalog, qid, by_question[qid]):
            found.setdefault(_ordered(pair.a, pair.b), []).append(pair)
    pairs = []
    for (a, b), alike in found.items():
        alike.sort(key=lambda p: (-p.score, p.question))
        evidence = tuple(p.evidence for p in alike if p.score >= LISTED_FROM) or (alike[0].evidence,)
        pairs.append(SimilarPair(a, b, alike[0].score, alike[0].score >= THRESHOLD, evidence))
    ranked = sorted(pairs, key=lambda p: (-p.score, p.a, p.b))
    return Similarity(
        "",
        Material.WRITTEN_ANSWERS,
        tuple(students),
        THRESHOLD,
        PROSE_METHOD,
        tuple(_listed(ranked)),
        tuple(not_compared),
    )


def compare_submissions(
    submissions: Sequence[Submission], key: AssignmentKey, template: Path | None = None
) -> Similarity:
    """The class's notebooks (a notebook assignment) or answer sheets, YAML or notebook sheets
    (otherwise), by the kind decided when each was found; refused submissions (a zip entry not
    extracted) left out."""
    usable = [s for s in submissions if not s.refused]
    if key.notebook:
        found = compare_notebooks([s for s in usable if s.kind is SubmissionKind.NOTEBOOK], template)
    else:
        if template:
            raise SimilarityError("--template is a starter notebook: answer sheets are compared without one")
        found = compare_sheets([s for s in usable if s.kind is SubmissionKind.SHEET])
    return replace(found, assignment=key.name)


def compare_folder(
    source: Path,
    assignment: str,
    out: Path,
    template: Path | None = None,
    pattern: str = DEFAULT_PATTERN,
    zip_limits: ZipLimits = ZipLimits(),
) -> Similarity:
    """``grader similarity``: the submissions in ``source`` (a folder, or a zip extracted
    into OUT/unzipped as a batch does), compared."""
    key = assignment_key(assignment)
    out.mkdir(parents=True, exist_ok=True)
    unpacked = unpack(source, out, zip_limits)
    submissions, skipped = discover(unpacked.folder, pattern, unpacked.refused, key)
    if not submissions:
        raise BatchError(
            f"{source}: no submission found" + (f"; skipped: {'; '.join(skipped[:10])}" if skipped else "")
        )
    found = compare_submissions(submissions, key, template)
    refused = tuple(f"{s.student}: {'; '.join(s.refused)}" for s in submissions if s.refused)
    return replace(found, not_compared=found.not_compared + refused, notes=tuple(skipped))


def write_similarity(similarity: Similarity, out: Path) -> list[Path]:
    """OUT/similarity.json (checked against its schema) and OUT/similarity.html."""
    from grader.similarity.page import similarity_page

    document = similarity.document()
    errors = schema_errors(document, "similarity")
    if errors:  # the grader's own bug: never write a document that breaks its format
        raise AssertionError(
            f"similarity.json breaks its schema at {list(errors[0].absolute_path)}: {errors[0].message}"
        )
    json_path, html_path = out / JSON_FILE, out / HTML_FILE
    write_atomically(json_path, json.dumps(document, indent=1, ensure_ascii=False))
    write_atomically(html_path, similarity_page(similarity))
    return [json_path, html_path]


def read_similarity(out: Path) -> Similarity | None:
    """The similarity a batch wrote into ``out``, or None when there is none (or it cannot be read)."""
    try:
        return Similarity.from_document(json.loads((out / JSON_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
