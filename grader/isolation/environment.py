"""The environment of every process the grader starts for a submission, built in one place.

A notebook's kernel and the measuring process get the grader's own environment
(:func:`kernel_env`); a batch's child grading one submission gets one built from nothing
(:func:`worker_env`), so that no credential or proxy of the instructor's reaches it. Both
are quiet (TensorFlow's logs down, plots off-screen), and neither ever holds the
instructor's course secret: a notebook could print it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from grader import paths

# The instructor's course secret (grader.quiz.variants reads them): never in a child's environment
SECRET_ENV = "GRADER_COURSE_SECRET"  # the secret itself
SECRET_FILE_ENV = SECRET_ENV + "_FILE"  # a file holding it
SECRET_PREFIX = SECRET_ENV  # every variable named so is dropped
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
KERNEL_THREADS = 2  # TensorFlow's threads in every kernel, whatever the machine: its sums depend on them
# The same arithmetic on every machine and under any load: fixed thread counts (TensorFlow splits
# its work by them, so another count adds numbers in another order) and a fixed hash seed.
DETERMINISTIC = {
    "TF_NUM_INTRAOP_THREADS": str(KERNEL_THREADS),
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": str(KERNEL_THREADS),
    "PYTHONHASHSEED": "0",
}
WORKER_KEEPS = ("PATH", "LANG", "LC_ALL", "TZ")  # the grader's variables a batch child still needs


def without_secret(env: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if not name.startswith(SECRET_PREFIX)}


def kernel_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The grader's environment for a kernel or the measuring process: quiet, printing as it
    goes, computing the same on every machine, and without the course secret (whatever
    ``extra`` says)."""
    return without_secret({**os.environ, **QUIET, **DETERMINISTIC, "PYTHONUNBUFFERED": "1", **(extra or {})})


def worker_env(work: Path, threads: int) -> dict[str, str]:
    """A batch child's scrubbed environment: HOME and temporary files in its own folder (on
    disk: a student's data can be large), the grader's data cache and Keras folder (to find
    the data the grader prepared, not a copy of its own), and threads for its share of the cores."""
    env = {name: os.environ[name] for name in WORKER_KEEPS if name in os.environ}
    env.update(QUIET)
    env.update(
        {
            "XDG_CACHE_HOME": str(paths.xdg_cache_home()),
            "KERAS_HOME": str(paths.keras_home()),
            "HOME": str(work / "home"),
            "TMPDIR": str(work / "tmp"),
            "PYTHONNOUSERSITE": "1",
            "OMP_NUM_THREADS": str(threads),
            "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": "1",
        }
    )
    return env
