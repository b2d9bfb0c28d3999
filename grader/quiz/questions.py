"""One question of a bank, and that question for one variant.

Below the bank and the question-type registry (``kinds``), which both work on questions:
a ``QuestionInstance`` has its parameters drawn, its prompt filled in and, for questions
whose key a calculator computes, that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from grader.errors import BankError, CalculationError
from grader.quiz import keys, params
from grader.quiz.question_type import QuestionType
from grader.quiz.variants import Variant


@dataclass(frozen=True)
class Question:
    """One question as written in its bank (before any variant is drawn)."""

    bank: str
    spec: dict[str, Any]
    source: str
    line: int

    @property
    def local_id(self) -> str:
        return self.spec["id"]

    @property
    def id(self) -> str:
        return f"{self.bank}/{self.local_id}"

    @property
    def type(self) -> QuestionType:
        return QuestionType(self.spec["type"])

    @property
    def points(self) -> float:
        return self.spec["points"]

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}: {self.id}"


@dataclass(frozen=True)
class QuestionInstance:
    """A question for one variant: its parameters, prompt and (numeric) key."""

    question: Question
    variant: Variant
    values: dict[str, Any]

    @property
    def id(self) -> str:
        return self.question.id

    @cached_property
    def prompt(self) -> str:
        return params.fill(self.question.spec["prompt"].strip(), self.values)

    @cached_property
    def arguments(self) -> dict[str, Any]:
        """Calculator arguments for this variant (numeric questions only)."""
        spec = self.question.spec
        setup = params.resolve(spec["setup"], self.values, self.question.where)
        try:
            return keys.arguments(spec["compute"], setup)
        except CalculationError as exc:
            raise BankError(f"{self.question.where}: setup: {exc}") from None

    @cached_property
    def key(self) -> Any:
        """The reference answer, computed: never read from the bank."""
        try:
            return keys.evaluate(self.question.spec["compute"], self.arguments)
        except CalculationError as exc:
            raise BankError(f"{self.question.where}: cannot compute the key: {exc}") from None
