"""The grader's exceptions, rooted in one class so callers can catch them all.

    GraderError                  anything the grader refuses, with a message for a person
    ├── InputFileError           a file cannot be read at all (missing, empty, not YAML)
    ├── BankError                a question bank breaks its schema or cannot derive a key
    ├── AnswerSheetError         an answer sheet cannot be graded at all
    ├── CourseSecretError        a graded variant without the course secret, or a bad secret
    ├── CalculationError         a setup that no network could have (kernel larger than input)
    ├── BatchError               a batch that cannot start (unreadable folder or zip, bad pattern)
    ├── AssignmentError          an assignment file (or a file it names) that cannot be used
    │   └── UnknownAssignmentError   an --assignment that is neither a known assignment nor a file
    ├── NotebookFileError        a submitted file that is no notebook (also a ValueError)
    ├── DataSourceError          an MNIST file without MNIST's arrays (also a ValueError)
    ├── DataIntegrityError       the grader's prepared data changed: never grade with it
    ├── TraceError               a record from the kernel or the measuring process breaks its format
    ├── MeasurementError         grader.notebooks.measure: a saved model not measured, with its kind
    ├── BatchOutputError         grader.batch.store: a folder that is no batch's output, an unreadable row
    ├── LmsExportError           grader.lms.model: a question a platform's format cannot carry as graded
    ├── WorkspaceError           grader.review.workspace: a batch's --out folder that cannot be reviewed
    ├── SuggestionError          grader.review.suggest: no such suggestion model, or its extra missing
    ├── ReviewInputError         grader.review.state: a reviewer's points or names out of range
    ├── ReviewLockError          grader.review.lock: a folder that another `grader review` already serves
    └── RosterError              grader.roster: a class roster that cannot be used (no id column, a student twice)

Student mistakes inside a readable sheet are *not* exceptions: they become results
with a status. Only the grader's own refusals and bugs raise. The classes named with a
module are defined there (they concern that module alone); every other class is here.
"""

from __future__ import annotations

from collections.abc import Iterable


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


class AssignmentError(GraderError):
    """An assignment file that cannot be used; the message names file, line and field."""


class UnknownAssignmentError(AssignmentError):
    """An ``--assignment`` that is neither a known assignment nor an existing file (a typo,
    or a file that is not there); the message names it and lists the known ones."""

    @classmethod
    def naming(cls, name: str, known: Iterable[str]) -> UnknownAssignmentError:
        return cls(
            f"--assignment {name!r}: no such assignment, and no such file; the known assignments are "
            f"{', '.join(known)}; or give the path of an assignment YAML file"
        )


class NotebookFileError(GraderError, ValueError):
    """A submitted file that is no notebook; the message names it and says what to hand in.
    Also a ValueError, for callers that caught the ValueError it used to be."""


class DataSourceError(GraderError, ValueError):
    """An MNIST source file (the instructor's .npz, Keras's cache) without MNIST's arrays.
    Also a ValueError, for callers that caught the ValueError it used to be."""


class DataIntegrityError(GraderError):
    """The grader's served or held-out data is not what was prepared: never grade with it."""


class TraceError(GraderError):
    """A record from the kernel or the measuring process that breaks its format."""
