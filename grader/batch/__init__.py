"""Grading a whole class: one isolated process per submission, results kept as they come.

SUBMISSIONS is a folder (one file or folder per student) or a zip as a learning-management
system exports it. The package holds one concern per module:

    submissions  which file of which student is graded, and its content hash
    unzip        extracting a zip within limits, once per content
    isolation    the confined child process that grades one submission
    store        the stored rows (BatchRow) and OUT/batch.json, written atomically,
                 resumed by content and assignment
    child        the process that grades one submission and writes a typed outcome
    exports      gradebook, Canvas, Gradescope, summary, class report (report.html) and
                 feedback pages, written from what the store holds (``grader export OUT``)
    run          run_batch: all of the above, on any concurrent.futures executor
    class_report the class report's statistics (report.html)
    distributed  a Dask executor, for --scheduler

Everything in SUBMISSIONS is untrusted: a zip is extracted entry by entry within size and
compression limits, file names are escaped where shown and student ids neutralised in the
CSV exports. Results are keyed by the submission's content and the assignment (name and
file hash), a zip by its own hash: stale inputs are graded again or refused, never reused.
"""

from importlib import import_module
from typing import Any

# Each name is imported from its module when first used (PEP 562), so that a command needing
# one constant (the zip limits for --help) does not load the whole batch machinery.
_WHERE = {
    "Limits": "isolation",
    "Sandbox": "isolation",
    "make_sandbox": "isolation",
    "grade_one": "run",
    "run_batch": "run",
    "AssignmentKey": "submissions",
    "Submission": "submissions",
    "discover": "submissions",
    "ZIP_ENTRY_MB": "unzip",
    "ZIP_RATIO": "unzip",
    "ZIP_RATIO_ABOVE_MB": "unzip",
    "ZIP_TOTAL_MB": "unzip",
    "ZipLimits": "unzip",
    "unpack": "unzip",
}


def __getattr__(name: str) -> Any:
    if name == "BatchError":
        from grader.errors import BatchError

        return BatchError
    if name in _WHERE:
        return getattr(import_module(f"grader.batch.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'grader.batch' has no attribute {name!r}")


__all__ = [
    "ZIP_ENTRY_MB",
    "ZIP_RATIO",
    "ZIP_RATIO_ABOVE_MB",
    "ZIP_TOTAL_MB",
    "AssignmentKey",
    "BatchError",
    "Limits",
    "Sandbox",
    "Submission",
    "ZipLimits",
    "discover",
    "grade_one",
    "make_sandbox",
    "run_batch",
    "unpack",
]
