"""Typed results of grading an answer sheet; scores are computed, never stored twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from grader.quiz.variants import Variant, VariantKind
from grader.schemas import DocumentKind


class QuestionStatus(StrEnum):
    """A question's status, from the student's point of view."""

    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    UNANSWERED = "unanswered"
    INVALID = "invalid"  # the answer could not be read (wrong type, NaN, bad unit, ...)
    NEEDS_REVIEW = "needs_review"  # free text not yet scored by an instructor
    REVIEWED = "reviewed"  # free text scored from the instructor's grades file
    ELSEWHERE = "graded_elsewhere"  # notebooks and ungraded items: not part of the quiz total
    ANSWERED = "answered"  # read, not judged: a student's check of a sheet handed out without immediate feedback

    @property
    def counted(self) -> bool:
        """Whether a question with this status belongs to the quiz total."""
        return self is not QuestionStatus.ELSEWHERE


@dataclass(frozen=True)
class QuestionResult:
    id: str
    type: str
    status: QuestionStatus
    points_possible: float
    fraction: float = 0.0
    feedback: tuple[str, ...] = ()
    misconceptions: tuple[str, ...] = ()
    answer: Any = None
    expected: Any = None
    line: int | None = None
    title: str = ""  # the question's title and prompt (its variant's numbers), which feedback names it by
    prompt: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", QuestionStatus(self.status))

    @property
    def points(self) -> float:
        return round(self.points_possible * self.fraction, 4)

    @property
    def counted(self) -> bool:
        """Whether the question belongs to the quiz total."""
        return self.status.counted


class Signature(StrEnum):
    """What a result document says of a handed-out sheet's signature."""

    VERIFIED = "verified"  # checked with the course secret
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class HandoutCheck:
    """How a handed-out sheet (its numbers written on it and signed: ``handout``) was checked."""

    feedback: str  # what the sheet states: immediate, or after-grading
    verified: bool  # its signature checked with the course secret (the instructor's grading)
    verdicts: bool = True  # False: a student's check of an after-grading sheet says only what can be read

    @property
    def signature(self) -> Signature:
        return Signature.VERIFIED if self.verified else Signature.UNCHECKED


@dataclass(frozen=True)
class SheetResult:
    """Everything known after grading one sheet: per-question results and sheet-level problems."""

    source: str
    variant: Variant
    banks: tuple[str, ...]
    results: tuple[QuestionResult, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)
    practice_check: bool = False  # a student's sheet checked on a practice variant: no secret here
    handout: HandoutCheck | None = None  # a handed-out sheet, graded or checked on its own numbers

    @property
    def points(self) -> float:
        return round(sum(r.points for r in self.results if r.counted), 4)

    @property
    def points_possible(self) -> float:
        return round(sum(r.points_possible for r in self.results if r.counted), 4)

    @property
    def pending_review(self) -> float:
        """Points of free-text answers that still wait for an instructor's score."""
        return round(sum(r.points_possible for r in self.results if r.status is QuestionStatus.NEEDS_REVIEW), 4)

    @property
    def verdicts(self) -> bool:
        """Whether the result says right or wrong (not so for a student's check of a sheet
        handed out with feedback after grading)."""
        return self.handout is None or self.handout.verdicts

    def with_status(self, status: QuestionStatus) -> list[QuestionResult]:
        return [r for r in self.results if r.status is status]

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SheetResult:
        """The result again from its stored JSON document (``quiz-result``), for the exports, the
        class report and the review: each question's feedback as the document words it, its
        fraction from the points stored (points, totals and pending points computed again give
        the same numbers). KeyError or ValueError when it is not such a document."""
        if DocumentKind(doc["kind"]) is not DocumentKind.QUIZ_RESULT:
            raise ValueError(f"not a {DocumentKind.QUIZ_RESULT} document: {doc['kind']}")
        variant = doc["variant"]
        handout = doc.get("handout")
        return cls(
            doc["sheet"],
            Variant(VariantKind(variant["kind"]), variant["name"]),
            tuple(doc["banks"]),
            tuple(_question_from_document(q) for q in doc["questions"]),
            tuple(doc["problems"]),
            bool(variant["practice_check"]),
            HandoutCheck(
                handout["feedback"], Signature(handout["signature"]) is Signature.VERIFIED, handout["verdicts"]
            )
            if handout
            else None,
        )


def _question_from_document(q: dict[str, Any]) -> QuestionResult:
    possible = q["points_possible"]
    return QuestionResult(
        q["id"],
        q["type"],
        QuestionStatus(q["status"]),
        possible,
        q["points"] / possible if possible else 0.0,
        tuple(q["feedback"]),
        tuple(q["misconceptions"]),
        q["answer"],
        q.get("expected"),
        q["line"],
    )
