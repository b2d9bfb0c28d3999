"""Reading and checking one answer, one checker per question type (``kinds`` says which).

Each checker reads the raw value from the sheet, refusing what it cannot read with a
message (``AnswerError``, which becomes an ``invalid`` result, never a crash), compares
with the computed key, and for wrong numeric answers asks ``slips`` which known slip
would explain it. Blank answers never reach a checker (see ``checking``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.quiz import quantities
from grader.quiz import results as R
from grader.quiz.questions import QuestionInstance
from grader.quiz.results import QuestionStatus
from grader.quiz.slips import describe, slipped_answers
from grader.yamlsource import UnreadableNumber


@dataclass(frozen=True)
class Grade:
    """An instructor's points and comment for one answer (or a notebook's check): one entry of
    a grades file, as ``grader review`` writes it and ``grader quiz check --grades`` reads it."""

    points: float
    comment: str = ""

    @classmethod
    def from_entry(cls, value: Any, most: float | None = None) -> Grade:
        """An entry as written, ``points`` or ``{points, comment}``; ValueError (its text: the
        points as written) when the points are not a number, or not from 0 to ``most``."""
        points, comment = (value.get("points"), value.get("comment")) if isinstance(value, dict) else (value, "")
        number = isinstance(points, (int, float)) and not isinstance(points, bool)
        if not number or (most is not None and not 0 <= points <= most):
            raise ValueError(repr(points))
        return cls(float(points), str(comment or ""))

    def entry(self) -> float | int | dict[str, Any]:
        """The entry as written back: the points alone when there is no comment."""
        points = int(self.points) if float(self.points).is_integer() else float(self.points)
        return {"points": points, "comment": self.comment} if self.comment else points


class AnswerError(ValueError):
    """The answer cannot be read as this question's type; the message says why."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, what: str = "a number") -> float:
    if isinstance(value, UnreadableNumber):
        raise AnswerError(f"a number with {len(value.text)} digits is not a plausible answer")
    if not _is_number(value):
        raise AnswerError(f"expected {what}, got {_kind(value)}")
    try:
        number = quantities.checked_number(float(value))
        return int(number) if number.is_integer() else number
    except (quantities.QuantityError, OverflowError) as exc:
        raise AnswerError(str(exc)) from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "an infinite number"
    return type(value).__name__


def _close(a: float, b: float, tolerance: dict[str, float]) -> bool:
    allowed = max(tolerance.get("absolute", 0.0), tolerance.get("relative", 0.0) * abs(b))
    return math.isclose(a, b, rel_tol=0, abs_tol=allowed + 1e-9 * max(1.0, abs(b)))


def question_result(
    inst: QuestionInstance, status: QuestionStatus, fraction: float = 0.0, **kw: Any
) -> R.QuestionResult:
    return R.QuestionResult(
        id=inst.id,
        type=inst.question.type,
        status=status,
        points_possible=inst.question.points,
        fraction=fraction,
        title=inst.question.spec.get("title", ""),
        prompt=inst.prompt,
        **kw,
    )


def _slip_feedback(
    inst: QuestionInstance, matches: Callable[[Any], bool], distance: Callable[[Any], float] = lambda v: 0.0
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(feedback, slip ids) for the slip -- or, failing that, the pair of slips -- whose
    answer matches; among several matches, the one closest to the student's answer."""
    compute = inst.question.spec["compute"]
    found: dict[int, list[tuple[float, Any]]] = {1: [], 2: []}
    for combo, value in slipped_answers(compute, inst.arguments, inst.key):
        if matches(value):
            found[len(combo)].append((distance(value), combo))
    for size in (1, 2):
        if found[size]:
            combo = min(found[size], key=lambda pair: pair[0])[1]
            return (describe(combo),), tuple(s.id for s in combo)
    return (), ()


# --- integer ---------------------------------------------------------------------------


def _read_count(raw: Any) -> int:
    if isinstance(raw, str):
        try:
            quantity = quantities.parse_quantity(raw)
        except quantities.QuantityError as exc:
            raise AnswerError(str(exc)) from None
        if quantity.unit.lower() not in quantities.COUNT_WORDS:
            raise AnswerError(f"{raw!r}: expected a plain count, not a quantity in {quantity.unit!r}")
        value = quantity.value
    else:
        value = _number(raw, "a whole number")
    if value != int(value):
        raise AnswerError(f"{value:g} is not a whole number")
    return int(value)


def check_integer(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    answer = _read_count(raw)
    if answer == inst.key:
        return question_result(inst, QuestionStatus.CORRECT, 1.0, answer=answer)
    feedback, slips = _slip_feedback(inst, lambda v: v == answer)
    if not feedback:
        feedback = (_off_by(answer, inst.key),)
    return question_result(inst, QuestionStatus.INCORRECT, answer=answer, feedback=feedback, misconceptions=slips)


def _off_by(answer: float, key: float) -> str:
    if key and answer:
        ratio = answer / key
        if ratio > 1.5 or ratio < 0.67:
            return f"Your answer is {ratio:.2g} times the expected value: recheck the method, not just the arithmetic."
    return "Your answer is close to the expected value but not equal: recheck the arithmetic."


# --- number with units -----------------------------------------------------------------


def _read_bytes(inst: QuestionInstance, raw: Any) -> tuple[float, quantities.Quantity]:
    unit = inst.question.spec.get("unit", "B")
    if isinstance(raw, str):
        try:
            quantity = quantities.parse_quantity(raw)
        except quantities.QuantityError as exc:
            raise AnswerError(str(exc)) from None
    else:
        quantity = quantities.Quantity(_number(raw), "")
    if inst.question.spec.get("quantity", "count") != "bytes":
        if quantity.unit:
            raise AnswerError(f"{raw!r}: this answer takes no unit")
        return quantity.value, quantity
    try:
        return quantities.to_bytes(quantity, unit), quantity
    except quantities.QuantityError as exc:
        raise AnswerError(str(exc)) from None


def _prefix_swapped(quantity: quantities.Quantity) -> str | None:
    """'MB' -> 'MiB' and back, for spotting the two families mixed up."""
    unit = quantity.unit.lower()
    if unit.endswith("ib"):
        return unit[:-2] + "b"
    if unit in ("kb", "mb", "gb", "tb"):
        return unit[:-1] + "ib"
    return None


def check_number(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    value, quantity = _read_bytes(inst, raw)
    spec = inst.question.spec
    tolerance = spec["tolerance"]
    is_bytes = spec.get("quantity") == "bytes"
    unit = spec.get("unit", "B")
    notes = ()
    if is_bytes and not quantity.unit:
        notes = (f"A bare number is read in {unit}; write the unit to be sure.",)
    expected = quantities.show_bytes(inst.key, unit) if is_bytes else inst.key
    if is_bytes and isinstance(raw, str) and quantity.unit:
        notes = (f"Read as {value:,.0f} bytes.",)
    answer = raw if isinstance(raw, str) else value
    if _close(value, inst.key, tolerance):
        return question_result(inst, QuestionStatus.CORRECT, 1.0, answer=answer, expected=expected, feedback=notes)
    feedback, slips = _slip_feedback(
        inst, lambda v: _close(value, v, tolerance), lambda v: abs(value - v) / max(abs(v), 1e-12)
    )
    swapped = _prefix_swapped(quantity) if is_bytes else None
    if not feedback and swapped:
        other = quantities.to_bytes(quantities.Quantity(quantity.value, swapped), unit)
        if _close(other, inst.key, tolerance):
            feedback = (
                f"Your number is right in {quantities.UNIT_NAMES[swapped]} "
                f"but labelled {quantity.unit}: 1 MB is 10^6 bytes, 1 MiB is 2^20 bytes.",
            )
            slips = ("prefix_mixed_up",)
    if not feedback:
        feedback = (_off_by(value, inst.key),)
    return question_result(
        inst,
        QuestionStatus.INCORRECT,
        answer=answer,
        expected=expected,
        feedback=notes + feedback,
        misconceptions=slips,
    )


# --- shape -----------------------------------------------------------------------------

_SHAPE_TEXT = re.compile(r"^\s*[\(\[]?\s*(.*?)\s*[\)\]]?\s*$")


def _read_shape(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        inner = _SHAPE_TEXT.match(raw).group(1)  # type: ignore[union-attr]
        parts = [p for p in re.split(r"\s*(?:,|x|×|\*)\s*", inner) if p != ""]
        try:
            return [None if p.lower() in ("none", "null", "?") else int(p) for p in parts]
        except ValueError:
            raise AnswerError(f"{raw!r} is not a shape; write a list such as [126, 126, 16]") from None
    if not isinstance(raw, list) or not raw:
        raise AnswerError(f"expected a shape as a list such as [126, 126, 16], got {_kind(raw)}")
    out = []
    for dim in raw:
        if dim is None or (isinstance(dim, str) and dim.strip().lower() in ("none", "null", "?")):
            out.append(None)
        else:
            value = _number(dim, "whole numbers in the shape")
            if value != int(value):
                raise AnswerError(f"shape sizes are whole numbers, not {value:g}")
            out.append(int(value))
    return out


def check_shape(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    answer = _read_shape(raw)
    key = list(inst.key)
    if answer == key:
        return question_result(inst, QuestionStatus.CORRECT, 1.0, answer=answer)
    if len(answer) != len(key):
        feedback = [f"The shape has {len(answer)} dimensions; expected {len(key)} (height, width, channels)."]
        if len(answer) == len(key) + 1 and answer[0] is None:
            feedback.append("Leave out the batch dimension (None).")
        slip_feedback, slips = _slip_feedback(inst, lambda v: list(v) == answer)
        return question_result(
            inst,
            QuestionStatus.INCORRECT,
            answer=answer,
            feedback=tuple(feedback) + slip_feedback,
            misconceptions=slips,
        )
    names = ("height", "width", "channels") if len(key) == 3 else tuple(f"axis {i}" for i in range(len(key)))
    wrong = [names[i] for i, (a, k) in enumerate(zip(answer, key)) if a != k]
    feedback, slips = _slip_feedback(inst, lambda v: list(v) == answer)
    return question_result(
        inst,
        QuestionStatus.INCORRECT,
        answer=answer,
        misconceptions=slips,
        feedback=(f"Wrong in: {', '.join(wrong)}.",) + feedback,
    )


# --- grid ------------------------------------------------------------------------------


def _read_grid(raw: Any) -> list[list[float]]:
    if not isinstance(raw, list) or not raw or not all(isinstance(row, list) for row in raw):
        raise AnswerError(f"expected a grid as a list of rows, e.g. [[1, 2], [3, 4]], got {_kind(raw)}")
    grid = []
    for r, row in enumerate(raw, start=1):
        try:
            grid.append([_number(x) for x in row])
        except AnswerError as exc:
            raise AnswerError(f"row {r}: {exc}") from None
    widths = {len(row) for row in grid}
    if len(widths) != 1 or 0 in widths:
        raise AnswerError(f"the rows have different lengths: {[len(row) for row in grid]}")
    return grid


def _grid_size(grid: list[list[Any]]) -> str:
    return f"{len(grid)}×{len(grid[0])}"


def _same_grid(a: list[list[float]], b: list[list[float]], tolerance: dict[str, float]) -> bool:
    return (
        len(a) == len(b)
        and len(a[0]) == len(b[0])
        and all(_close(x, y, tolerance) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    )


def check_grid(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    answer = _read_grid(raw)
    key = inst.key
    tolerance = inst.question.spec.get("tolerance", {"absolute": 1e-6})
    slip_feedback, slips = _slip_feedback(inst, lambda v: _same_grid(answer, v, tolerance))
    if len(answer) != len(key) or len(answer[0]) != len(key[0]):
        feedback = (f"Your grid is {_grid_size(answer)}; the output is {_grid_size(key)}.",) + slip_feedback
        return question_result(inst, QuestionStatus.INCORRECT, answer=answer, feedback=feedback, misconceptions=slips)
    wrong = [
        (r + 1, c + 1)
        for r, row in enumerate(key)
        for c, value in enumerate(row)
        if not _close(answer[r][c], value, tolerance)
    ]
    cells = len(key) * len(key[0])
    fraction = (cells - len(wrong)) / cells
    if not wrong:
        return question_result(inst, QuestionStatus.CORRECT, 1.0, answer=answer)
    listed = ", ".join(f"({r},{c})" for r, c in wrong[:8]) + (" ..." if len(wrong) > 8 else "")
    feedback = (f"{cells - len(wrong)} of {cells} cells are right; wrong at (row,col) {listed}.",) + slip_feedback
    status = QuestionStatus.PARTIAL if fraction > 0 else QuestionStatus.INCORRECT
    return question_result(inst, status, fraction, answer=answer, feedback=feedback, misconceptions=slips)


# --- choice and multi-select -----------------------------------------------------------


def _read_letters(inst: QuestionInstance, raw: Any) -> list[str]:
    options = {o["key"] for o in inst.question.spec["options"]}
    if isinstance(raw, str):
        items = [p for p in re.split(r"[\s,;]+", raw.strip()) if p]
        if len(items) == 1 and len(items[0]) > 1 and items[0].isalpha() and items[0].upper() not in options:
            items = list(items[0])  # "ACD"
    elif isinstance(raw, list):
        items = raw
    else:
        raise AnswerError(f"expected option letters such as A or [A, C], got {_kind(raw)}")
    letters = []
    for item in items:
        if not isinstance(item, str) or item.strip().upper().rstrip(").") not in options:
            raise AnswerError(f"{item!r} is not an option; the options are {', '.join(sorted(options))}")
        letter = item.strip().upper().rstrip(").")
        if letter not in letters:
            letters.append(letter)
    return letters


def check_choice(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    letters = _read_letters(inst, raw)
    if len(letters) != 1:
        raise AnswerError(f"choose exactly one option, not {len(letters)}")
    option = next(o for o in inst.question.spec["options"] if o["key"] == letters[0])
    feedback = (option["feedback"],) if option.get("feedback") else ()
    status = QuestionStatus.CORRECT if option["correct"] else QuestionStatus.INCORRECT
    return question_result(inst, status, 1.0 if option["correct"] else 0.0, answer=letters[0], feedback=feedback)


def check_multi_select(inst: QuestionInstance, raw: Any) -> R.QuestionResult:
    """Each right pick earns a share, each wrong pick takes one back (never below zero)."""
    chosen = set(_read_letters(inst, raw))
    options = inst.question.spec["options"]
    correct = {o["key"] for o in options if o["correct"]}
    feedback = []
    for option in options:
        picked = option["key"] in chosen
        if picked != option["correct"]:
            verdict = "should not be chosen" if picked else "was missed"
            note = f" {option['feedback']}" if option.get("feedback") else ""
            feedback.append(f"{option['key']} {verdict}.{note}")
    right = len(chosen & correct)
    fraction = max(0.0, (right - len(chosen - correct)) / len(correct))
    status = (
        QuestionStatus.CORRECT
        if chosen == correct
        else (QuestionStatus.PARTIAL if fraction > 0 else QuestionStatus.INCORRECT)
    )
    return question_result(inst, status, fraction, answer=sorted(chosen), feedback=tuple(feedback))


# --- free text -------------------------------------------------------------------------


def model_answer(inst: QuestionInstance) -> str:
    """The bank's model answer on one line, as feedback and answer keys show it."""
    return " ".join(inst.question.spec["model_answer"].split())


def check_free_text(inst: QuestionInstance, raw: Any, grade: Grade | None = None) -> R.QuestionResult:
    if not isinstance(raw, str):
        raise AnswerError(f"expected a written answer, got {_kind(raw)}")
    shown = ("Key points: " + "; ".join(inst.question.spec["key_points"]), "Model answer: " + model_answer(inst))
    if grade is None:
        return question_result(
            inst,
            QuestionStatus.NEEDS_REVIEW,
            answer=raw.strip(),
            feedback=("Not scored automatically: compare with the key points.",) + shown,
        )
    feedback = ((f"Instructor: {grade.comment}",) if grade.comment else ()) + shown
    return question_result(
        inst,
        QuestionStatus.REVIEWED,
        grade.points / inst.question.points if inst.question.points else 0.0,
        answer=raw.strip(),
        feedback=feedback,
    )
