"""The one list of question types: what each does, in one ``QuestionKind`` per type.

Banks (``bank``), grading (``checking``) and sheets and keys (``render``) ask ``REGISTRY``
instead of testing type names, so a new question type is one entry here, its name in
``QuestionType`` and its line in the bank schema (``tests/quiz/test_question_types.py`` checks
that the three agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from grader.errors import BankError
from grader.quiz import answers
from grader.quiz.answers import Grade
from grader.quiz.question_type import QuestionType
from grader.quiz.questions import Question, QuestionInstance
from grader.quiz.results import QuestionResult

Spec = dict[str, Any]
Checker = Callable[[QuestionInstance, Any, Grade | None], QuestionResult]


@dataclass(frozen=True)
class QuestionKind:
    """What the grader does for one question type. A question is either answered on the quiz
    sheet (``check``) or graded somewhere else (``graded_elsewhere``), never both."""

    answer_format: Callable[[Spec], str]  # how to write the answer, shown with the prompt and on sheets
    check: Checker | None = None  # reads a non-blank answer and grades it; raises answers.AnswerError
    graded_elsewhere: Callable[[Spec], str] | None = None  # where it is graded instead, for the report
    key_on_sheet: Callable[[QuestionInstance], Any] | None = None  # the key as a student writes it
    key_in_report: Callable[[QuestionInstance], Any] = lambda inst: None  # shown when the checker gives none
    blank_answer: str = "~"  # what follows "id: " on a blank answer sheet
    computed: bool = False  # the key comes from a calculator (``compute`` and ``setup`` in the bank)
    check_spec: Callable[[Question], None] = lambda question: None  # what the bank schema cannot check
    echo_answer: bool = True  # the terminal report repeats the answer (not whole paragraphs)
    drawn_as_grid: bool = False  # the feedback page draws the answer cell by cell
    written: bool = False  # a person scores it (the review groups and suggests points for it)

    def __post_init__(self) -> None:
        if (self.check is None) == (self.graded_elsewhere is None):
            raise TypeError("a question kind is checked on the sheet or graded elsewhere, exactly one of them")
        if self.check is not None and self.key_on_sheet is None:
            raise TypeError("a question kind checked on the sheet needs its key as written on a sheet")

    @property
    def on_sheet(self) -> bool:
        """Whether the quiz's answer sheet answers it (notebooks are graded by running them)."""
        return self.graded_elsewhere is None


def is_written(question_type: str) -> bool:
    """Whether questions of this type are written answers a person scores."""
    return REGISTRY[QuestionType(question_type)].written


def _without_grade(check: Callable[[QuestionInstance, Any], QuestionResult]) -> Checker:
    """A checker that scores on its own: an instructor's grade has no say."""
    return lambda inst, raw, grade: check(inst, raw)


def _computed_key(inst: QuestionInstance) -> Any:
    return inst.key


def _number_key(inst: QuestionInstance) -> Any:
    """Sizes in bytes are written with their unit so that the sheet reads them as bytes."""
    return f"{inst.key} B" if inst.question.spec.get("quantity") == "bytes" else inst.key


def _number_format(spec: Spec) -> str:
    if spec.get("quantity") == "bytes":
        return f'a size with its unit, e.g. "12.6 MB" (a bare number is read in {spec.get("unit", "B")})'
    return "a number"


def _correct_letters(inst: QuestionInstance) -> list[str]:
    return [o["key"] for o in inst.question.spec["options"] if o["correct"]]


def _correct_letter(inst: QuestionInstance) -> str:
    return _correct_letters(inst)[0]


def _check_options(question: Question, *, exactly_one: bool) -> None:
    options = question.spec["options"]
    letters = [o["key"] for o in options]
    if len(set(letters)) != len(letters):
        raise BankError(f"{question.where}: field options: option letters repeat: {letters}")
    correct = sum(o["correct"] for o in options)
    if exactly_one and correct != 1:
        raise BankError(
            f"{question.where}: field options: a choice question needs exactly one correct option, found {correct}"
        )
    if not exactly_one and correct < 1:
        raise BankError(f"{question.where}: field options: a multi-select question needs a correct option")


def _notebook_note(spec: Spec) -> str:
    return f"Graded by running the notebook: grader grade NOTEBOOK --assignment {spec['assignment']}"


REGISTRY: dict[QuestionType, QuestionKind] = {
    QuestionType.INTEGER: QuestionKind(
        answer_format=lambda spec: 'a whole number, e.g. 1234 or "1,234"',
        check=_without_grade(answers.check_integer),
        key_on_sheet=_computed_key,
        key_in_report=_computed_key,
        computed=True,
    ),
    QuestionType.NUMBER: QuestionKind(
        answer_format=_number_format,
        check=_without_grade(answers.check_number),
        key_on_sheet=_number_key,  # the checker shows its key
        computed=True,
    ),
    QuestionType.SHAPE: QuestionKind(
        answer_format=lambda spec: "a list, e.g. [32, 32, 3] (no batch dimension)",
        check=_without_grade(answers.check_shape),
        key_on_sheet=_computed_key,
        key_in_report=_computed_key,
        computed=True,
    ),
    QuestionType.GRID: QuestionKind(
        answer_format=lambda spec: "a list of rows, e.g. [[1, 2], [3, 4]]",
        check=_without_grade(answers.check_grid),
        key_on_sheet=_computed_key,
        key_in_report=_computed_key,
        computed=True,
        drawn_as_grid=True,
    ),
    QuestionType.CHOICE: QuestionKind(
        answer_format=lambda spec: "one option letter, e.g. B",
        check=_without_grade(answers.check_choice),
        key_on_sheet=_correct_letter,
        key_in_report=_correct_letter,
        check_spec=partial(_check_options, exactly_one=True),
    ),
    QuestionType.MULTI_SELECT: QuestionKind(
        answer_format=lambda spec: "a list of option letters, e.g. [A, C]",
        check=_without_grade(answers.check_multi_select),
        key_on_sheet=_correct_letters,
        key_in_report=_correct_letters,
        check_spec=partial(_check_options, exactly_one=False),
    ),
    QuestionType.FREE_TEXT: QuestionKind(
        answer_format=lambda spec: "a few sentences, as a YAML block (see the template)",
        check=answers.check_free_text,
        key_on_sheet=answers.model_answer,  # the model answer is in the feedback
        blank_answer="|\n  ",
        echo_answer=False,
        written=True,
    ),
    QuestionType.NOTEBOOK: QuestionKind(
        answer_format=lambda spec: "a notebook, graded with 'grader grade'", graded_elsewhere=_notebook_note
    ),
    QuestionType.NOT_GRADED: QuestionKind(
        answer_format=lambda spec: "nothing: this exercise is not graded", graded_elsewhere=lambda spec: "Not graded."
    ),
}
