"""The names of the question types, in a module that imports nothing of the grader's, so
that every other quiz module (keys included) can name a type without an import cycle.
What each type does is in ``kinds.REGISTRY``."""

from __future__ import annotations

from enum import StrEnum


class QuestionType(StrEnum):
    """A question's ``type`` in a bank; the bank schema's enum lists the same values."""

    INTEGER = "integer"
    NUMBER = "number"
    SHAPE = "shape"
    GRID = "grid"
    CHOICE = "choice"
    MULTI_SELECT = "multi_select"
    FREE_TEXT = "free_text"
    NOTEBOOK = "notebook"
    NOT_GRADED = "not_graded"
