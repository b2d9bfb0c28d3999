"""What happened to a notebook, as enumerations: the run's outcome and the result's status.

The values are the strings of the result documents and of ``notebook-result.schema.json``
(a test checks that they match); the properties answer what code used to test by
comparing strings. :class:`Status` is also the start of a batch row's vocabulary
(:class:`grader.batch.store.RowStatus` adds the batch's own members to it with
:meth:`GradingStatus.extended`); a quiz question's status is another matter
(:class:`grader.quiz.results.QuestionStatus`: correct, partial, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RunStatus(StrEnum):
    """How running the cells ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    DEAD_KERNEL = "dead_kernel"
    OUT_OF_MEMORY = "out_of_memory"
    DISK_FULL = "disk_full"  # no room to write: past the disk limit, a full /tmp, or the machine's disk full
    INVALID_NOTEBOOK = "invalid_notebook"

    @property
    def stopped_everything(self) -> bool:
        """The kernel stopped before the hidden finish cell: nothing is left to grade."""
        return self in (RunStatus.TIMEOUT, RunStatus.DEAD_KERNEL, RunStatus.OUT_OF_MEMORY)


class GradingStatus(StrEnum):
    """What every status of a graded submission shares; no members of its own, so that a
    vocabulary can be extended (an enumeration with members cannot be subclassed)."""

    @property
    def is_failure(self) -> bool:
        """Anything but graded: the instructor should look at it."""
        return self.value != "graded"

    @classmethod
    def extended(cls, name: str, base: type[GradingStatus], own: Mapping[str, str], module: str) -> type[GradingStatus]:
        """A new status vocabulary: every member of ``base``, then ``own`` (name -> value)."""
        members = [(m.name, m.value) for m in base] + list(own.items())
        return cls(name, members, module=module, qualname=name)


class Status(GradingStatus):
    """A graded notebook's status."""

    GRADED = "graded"
    ERROR = "error"
    TIMEOUT = "timeout"
    DEAD_KERNEL = "dead_kernel"
    OUT_OF_MEMORY = "out_of_memory"
    DISK_FULL = "disk_full"
    INVALID_NOTEBOOK = "invalid_notebook"
    NO_MODEL = "no_model"
    MEASURE_FAILED = "measure_failed"
    MISSING_RESOURCE = "missing_resource"

    @property
    def text(self) -> str:
        """The status in words, for reports."""
        return _TEXT[self]


_TEXT = {
    Status.GRADED: "graded",
    Status.ERROR: "stopped by an error",
    Status.TIMEOUT: "timed out",
    Status.DEAD_KERNEL: "kernel died",
    Status.OUT_OF_MEMORY: "out of memory",
    Status.DISK_FULL: "out of disk space",
    Status.INVALID_NOTEBOOK: "not a notebook",
    Status.NO_MODEL: "no model to grade",
    Status.MEASURE_FAILED: "model could not be measured",
    Status.MISSING_RESOURCE: "needs data or weights not available here",
}
