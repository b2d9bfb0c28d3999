"""Running a batch on a Dask cluster: the same per-submission work, sent to remote workers.

``grader batch ... --scheduler tcp://HOST:8786`` connects to a running Dask scheduler
(started by hand, or by dask-jobqueue on a Slurm or PBS cluster) and hands
:func:`grader.batch.run_batch` the cluster's ``concurrent.futures`` executor: each
submission is one task calling ``grade_one`` on a worker, and results come back to this
process, which writes them exactly as a local batch does, so a batch can be resumed on
either. Workers need the same paths (a shared file system) and the grader installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor

from grader.errors import BatchError


@contextlib.contextmanager
def cluster_executor(address: str) -> Iterator[Executor]:
    """An executor whose tasks run on the Dask cluster at ``address`` (each task is run
    once: ``pure=False``, a submission graded twice is graded again, not looked up)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise BatchError("--scheduler needs Dask distributed: pip install 'cnn-homework-grader[cluster]'") from None
    with Client(address, timeout="30s") as client:
        yield client.get_executor(pure=False)
