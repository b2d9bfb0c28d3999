"""Written answers compared question by question: each answer as lower-case characters, its
7-character n-grams (all of them: answers are short) weighed by how rare they are among the
class's answers to that question, the question's own wording counting for nothing. A pair's
score for a question is scaled down for short answers (two one-line answers alike say
little); the pair's score is its highest over the questions, and every question on which
they are alike is evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.quiz.bank import Catalog
from grader.quiz.sheets import read_sheet
from grader.similarity.compare import Compared
from grader.similarity.documents import Document
from grader.similarity.result import Evidence, EvidenceKind
from grader.similarity.tokens import prose_units
from grader.similarity.winnowing import Method, fingerprint, kgram_hashes

PROSE = Method(k=7, window=1)
FULL_WEIGHT_CHARS = 150  # answers shorter than this (about 25 words) count for their share of it


@dataclass(frozen=True)
class AnswerPair:
    a: str
    b: str
    question: str
    score: float
    evidence: Evidence


def written_answers(path: Path, catalog: Catalog) -> dict[str, str]:
    """A sheet's free-text answers by question id (answers given twice are left out, as grading leaves them)."""
    return read_sheet(path, catalog).written_answers(catalog)


def _prompt_prints(catalog: Catalog, qid: str) -> frozenset[int]:
    bank, question = catalog.find(qid)
    return frozenset(kgram_hashes(prose_units(bank.instance(question).prompt), PROSE.k))


def _document(student: str, qid: str, text: str) -> Document:
    units = prose_units(text)
    return Document(student, EvidenceKind.WRITTEN_ANSWER, (text,), fingerprint(units, PROSE), PROSE.k, qid)


def _length_factor(document: Document) -> float:
    return min(1.0, len(document.fingerprinted.units) / FULL_WEIGHT_CHARS)


def question_pairs(catalog: Catalog, qid: str, answers: Sequence[tuple[str, str]]) -> list[AnswerPair]:
    """The pairs of students whose answers to ``qid`` share something rare, scored."""
    documents = [_document(student, qid, text) for student, text in answers]
    compared = Compared.of(documents, _prompt_prints(catalog, qid))
    found = []
    for pair in compared.pairs:
        a, b = documents[pair.a], documents[pair.b]
        score = pair.score * min(_length_factor(a), _length_factor(b))
        evidence = compared.evidence(pair, limit=1)
        if evidence:
            found.append(AnswerPair(a.owner, b.owner, qid, score, _weighted(evidence[0], score)))
    return found


def _weighted(evidence: Evidence, score: float) -> Evidence:
    return Evidence(evidence.kind, evidence.a, evidence.b, score, evidence.question)
