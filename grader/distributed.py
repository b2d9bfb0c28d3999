"""Running a batch on a Dask cluster: the same per-submission work, sent to remote workers.

``grader batch ... --scheduler tcp://HOST:8786`` connects to a running Dask scheduler
(started by hand, or by dask-jobqueue on a Slurm or PBS cluster). Each submission is one
task calling ``grade_one`` on a worker; results come back to this process, which writes
them exactly as a local batch does, so a batch can be resumed on either. Workers need
the same paths (a shared file system) and the grader installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator


def run_on_cluster(address: str, submissions: list[Any], assignment: str, out: Path, limits: Any,
                   threads: int, sandbox: Any) -> Iterator[dict[str, Any]]:
    from grader.batch import BatchError, grade_one

    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise BatchError("--scheduler needs Dask distributed: pip install 'cnn-homework-grader[cluster]'") from None

    with Client(address, timeout="30s") as client:
        futures = [client.submit(grade_one, s, assignment, out, limits, threads, sandbox, pure=False,
                                 key=f"grade-{s.student}-{s.digest[:12]}") for s in submissions]
        for future in as_completed(futures):
            yield future.result()
