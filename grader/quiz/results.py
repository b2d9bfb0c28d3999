"""Typed results of grading an answer sheet; scores are computed, never stored twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from grader.quiz.variants import Variant


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


@dataclass(frozen=True)
class HandoutCheck:
    """How a handed-out sheet (its numbers written on it and signed: ``handout``) was checked."""

    feedback: str  # what the sheet states: immediate, or after-grading
    verified: bool  # its signature checked with the course secret (the instructor's grading)
    verdicts: bool = True  # False: a student's check of an after-grading sheet says only what can be read


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
