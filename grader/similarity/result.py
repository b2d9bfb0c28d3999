"""What a similarity run finds, as typed values and as ``similarity.json`` (schema
``grader/schemas/similarity.schema.json``): the pairs of students, highest score first, each
with the passages they share. Words are "similar" and "shared": the instructor decides what
a pair means."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

KIND = "similarity"


class Material(StrEnum):
    """What was compared."""

    NOTEBOOKS = "notebooks"  # the code cells of notebooks
    WRITTEN_ANSWERS = "written_answers"  # the free-text answers of answer sheets, question by question


class EvidenceKind(StrEnum):
    CODE = "code"  # a code cell of each notebook, the shared lines marked
    WRITTEN_ANSWER = "written_answer"  # each student's answer to one question, the shared words marked


@dataclass(frozen=True)
class Excerpt:
    """A cell or an answer as the student wrote it, with the character ranges it shares."""

    where: str  # "cell 4, lines 3-12" or "answer to conv-arithmetic/q12"
    text: str
    marked: tuple[tuple[int, int], ...]  # [start, end) character ranges of text, in order, disjoint

    def document(self) -> dict[str, Any]:
        return {"where": self.where, "text": self.text, "marked": [list(r) for r in self.marked]}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Excerpt:
        return cls(doc["where"], doc["text"], tuple((s, e) for s, e in doc["marked"]))

    def pieces(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, shared) for a page to mark."""
        pieces, at = [], 0
        for start, end in self.marked:
            if start > at:
                pieces.append((self.text[at:start], False))
            pieces.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            pieces.append((self.text[at:], False))
        return pieces


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    a: Excerpt
    b: Excerpt
    weight: float  # this passage's part of what the pair shares (0..1)
    question: str | None = None  # for a written answer

    def document(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "question": self.question,
            "weight": self.weight,
            "a": self.a.document(),
            "b": self.b.document(),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Evidence:
        return cls(
            EvidenceKind(doc["kind"]),
            Excerpt.from_document(doc["a"]),
            Excerpt.from_document(doc["b"]),
            doc["weight"],
            doc.get("question"),
        )


@dataclass(frozen=True)
class SimilarPair:
    a: str  # student ids, a before b in sorted order
    b: str
    score: float  # 0..1: the share of the rarer material of the two that they have in common
    flagged: bool  # at or above the flagging threshold: worth a person's look
    evidence: tuple[Evidence, ...] = ()

    @property
    def strongest(self) -> str:
        """Where the pair shares most: a question, or a cell of the first student's notebook."""
        first = self.evidence[0] if self.evidence else None
        return "" if first is None else first.question or first.a.where

    def document(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "score": self.score,
            "flagged": self.flagged,
            "evidence": [e.document() for e in self.evidence],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SimilarPair:
        return cls(
            doc["a"], doc["b"], doc["score"], doc["flagged"], tuple(Evidence.from_document(e) for e in doc["evidence"])
        )


@dataclass(frozen=True)
class Similarity:
    assignment: str
    material: Material
    students: tuple[str, ...]  # every student compared
    threshold: float  # pairs scoring at least this are flagged
    method: str  # how the material was compared, in a sentence
    pairs: tuple[SimilarPair, ...]  # highest score first
    not_compared: tuple[str, ...] = ()  # submissions that could not be read, each naming its file
    template: str | None = None  # the starter file whose material counted for nothing
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> tuple[SimilarPair, ...]:
        return tuple(p for p in self.pairs if p.flagged)

    def document(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "assignment": self.assignment,
            "material": str(self.material),
            "students": list(self.students),
            "threshold": self.threshold,
            "method": self.method,
            "template": self.template,
            "not_compared": list(self.not_compared),
            "notes": list(self.notes),
            "pairs": [p.document() for p in self.pairs],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Similarity:
        return cls(
            doc["assignment"],
            Material(doc["material"]),
            tuple(doc["students"]),
            doc["threshold"],
            doc["method"],
            tuple(SimilarPair.from_document(p) for p in doc["pairs"]),
            tuple(doc["not_compared"]),
            doc.get("template"),
            tuple(doc.get("notes", ())),
        )
