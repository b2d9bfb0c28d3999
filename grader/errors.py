"""The grader's exceptions, rooted in one class so callers can catch them all.

    GraderError                  anything the grader refuses, with a message for a person
    ├── InputFileError           a file cannot be read at all (missing, empty, not YAML)
    ├── BankError                a question bank breaks its schema or cannot derive a key
    ├── AnswerSheetError         an answer sheet cannot be graded at all
    ├── CourseSecretError        a graded variant without the course secret, or a bad secret
    ├── CalculationError         a setup that no network could have (kernel larger than input)
    └── BatchError               a batch that cannot start (unreadable folder or zip, bad pattern)

Student mistakes inside a readable sheet are *not* exceptions: they become results
with a status. Only the grader's own refusals and bugs raise.
"""

from __future__ import annotations


class GraderError(Exception):
    """Root of every error the grader raises on purpose."""


class InputFileError(GraderError):
    """A file that cannot be read: missing, empty, not text, not YAML/JSON."""


class BankError(GraderError):
    """A question bank that is malformed; the message names file, question and field."""


class AnswerSheetError(GraderError):
    """An answer sheet that cannot be graded at all (as opposed to a wrong answer)."""


class CourseSecretError(GraderError):
    """A graded variant was asked for without the instructor's course secret, or the secret is unusable."""


class CalculationError(GraderError):
    """A calculator was given a setup that no network could have."""


class BatchError(GraderError):
    """The batch cannot start: unreadable submissions folder or zip, bad pattern, an OUT
    folder holding another assignment's results, no submission at all."""
