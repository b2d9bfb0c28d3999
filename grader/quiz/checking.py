"""Checking one answer against one question instance, through its type's entry in ``kinds``.

What is the same for every type lives here: blank answers are unanswered, questions graded
elsewhere say where, and an answer the type's checker cannot read (``AnswerError``) becomes
an ``invalid`` result naming its line, never a crash.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from grader.quiz import results as R
from grader.quiz.answers import AnswerError, Grade, question_result
from grader.quiz.kinds import REGISTRY
from grader.quiz.questions import QuestionInstance
from grader.quiz.results import QuestionStatus
from grader.yamlsource import UnreadableNumber


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == [] or raw == {}


def check(inst: QuestionInstance, raw: Any, line: int | None, grade: Grade | None = None) -> R.QuestionResult:
    """Grade one answer; unreadable answers become ``invalid`` results naming the line."""
    kind = REGISTRY[inst.question.type]
    if kind.graded_elsewhere is not None:
        return question_result(inst, QuestionStatus.ELSEWHERE, feedback=(kind.graded_elsewhere(inst.question.spec),))
    if is_blank(raw):
        return question_result(inst, QuestionStatus.UNANSWERED, line=line, feedback=("No answer given.",))
    try:
        result = kind.check(inst, raw, grade)
    except AnswerError as exc:
        where = f"line {line}: " if line else ""
        return invalid(inst, f"{where}{inst.id}: {exc}", line, raw)
    expected = result.expected if result.expected is not None else kind.key_in_report(inst)
    return replace(result, line=line, expected=expected)


def invalid(inst: QuestionInstance, message: str, line: int | None = None, raw: Any = None) -> R.QuestionResult:
    """A result for an answer that cannot be graded; it scores 0 and says why."""
    return question_result(inst, QuestionStatus.INVALID, line=line, answer=_plain(raw), feedback=(message,))


def _plain(raw: Any) -> Any:
    """A JSON-safe copy of an unreadable answer for the report."""
    if isinstance(raw, float) and not math.isfinite(raw):
        return str(raw)
    if isinstance(raw, UnreadableNumber):
        return raw.text[:40] + "..."
    if isinstance(raw, (str, int, float, bool)) or raw is None:
        return raw
    if isinstance(raw, list):
        return [_plain(x) for x in raw]
    return str(raw)
