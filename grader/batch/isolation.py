"""Confining the child process that grades one submission: a scrubbed environment, CPU and
wall-time limits, a control group for all it starts (:mod:`grader.isolation.process_limits`) and, where
bubblewrap works, a sandbox (:mod:`grader.isolation.sandbox`); nothing it starts outlives it."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.batch.submissions import Submission, SubmissionKind
from grader.isolation.environment import worker_env
from grader.isolation.process_limits import (
    DEFAULT_MAX_PROCESSES,
    ControlGroup,
    MemoryWatch,
    TreeLimits,
    create_group,
    fallback_process_limit,
)
from grader.isolation.sandbox import find_bwrap, sandbox_prefix
from grader.scratch import scratch_prefix

QUIZ_MEMORY_MB = 1024
GRADING_PROCESSES_MB = 4096  # the grading process and the process that measures the saved model


@dataclass(frozen=True)
class Sandbox:
    """How children are isolated, by bubblewrap (:func:`grader.isolation.sandbox.sandbox_prefix`): the
    whole file system read-only except the child's own folders (its work folder, with HOME and
    TMPDIR, and its feedback folder), a private /dev and /proc, its own network namespace with
    loopback only, and no capabilities, so that it can neither remount nor change the control
    groups that limit it."""

    bwrap: str | None
    hidden: tuple[str, ...] = ()  # files replaced by an empty one: where the held-out digits come from

    def prefix(self, work: Path, feedback: Path) -> list[str]:
        if not self.bwrap:
            return []
        return sandbox_prefix(self.bwrap, writable=(work, feedback), hidden=self.hidden, chdir=work)

    def describe(self, notebooks: bool = False) -> str:
        """The isolation in words for the summary. A notebook's grading process runs outside this
        sandbox (``notebooks``): its kernel gets one of its own (:mod:`grader.notebooks.isolation`)."""
        if not self.bwrap:
            return (
                "NOT available on this machine (install bubblewrap): submissions could reach the network "
                "and write to shared files"
            )
        if notebooks:
            return (
                "on (each notebook's kernel in its own bubblewrap sandbox, inside the submission's control group: "
                "loopback only, file system read-only except its scratch folder, the grader's data and MNIST "
                "sources hidden; each result's isolation field says what its kernel had)"
            )
        return (
            "on (bubblewrap: own network namespace with loopback only; file system read-only except the "
            "submission's own folders; no capabilities"
            + (f"; MNIST source files hidden: {', '.join(self.hidden)}" if self.hidden else "")
            + ")"
        )


def make_sandbox() -> Sandbox:
    """A sandbox if bubblewrap works on this machine (tried once), else one that isolates nothing."""
    bwrap = find_bwrap()
    return Sandbox(bwrap, _heldout_sources()) if bwrap else Sandbox(None)


def _heldout_sources() -> tuple[str, ...]:
    """MNIST files the held-out digits are drawn from, to hide from submissions (the grader's
    prepared data are made before any child starts, so children never need them)."""
    try:
        from grader.notebooks.mnist_data import source_files
    except ImportError:  # answer sheets only: the notebook extra is not installed
        return ()
    return tuple(str(path) for path in source_files())


@dataclass(frozen=True)
class Limits:
    wall_seconds: float
    cpu_seconds: int
    memory_mb: float | None = None  # everything one submission starts; None: chosen from the assignment
    max_processes: int = DEFAULT_MAX_PROCESSES  # processes and threads of one submission at once
    cell_seconds: float | None = None  # a notebook cell's timeout (--cell-timeout); None: the assignment's


def default_memory_mb(assignment: str, submissions: list[Submission]) -> float:
    """Room for the notebook kernel's own limit plus the grading and measuring processes."""
    if not any(s.kind is SubmissionKind.NOTEBOOK for s in submissions):
        return QUIZ_MEMORY_MB
    from grader.notebooks.assignment import load_assignment

    return load_assignment(assignment).memory_mb + GRADING_PROCESSES_MB


def _child_setup(limits: Limits, group: ControlGroup | None) -> Callable[[], None]:
    """Runs in the child between fork and exec: limits that bind it and all it starts."""

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        os.setsid()  # its own session: the grader's terminal signals do not reach it
        if group:
            group.enter()
        else:
            fallback_process_limit(limits.max_processes)

    return apply


def _stop_tree(proc: subprocess.Popen, group: ControlGroup | None) -> None:
    """Stop the child and whatever it left behind (processes may have left its process group)."""
    if group:
        group.kill_all()
        return
    import psutil

    try:
        family = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            pass


@dataclass(frozen=True)
class ChildRun:
    """What one confined child did: its output, and whether a limit stopped it."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    memory_stopped: bool  # the memory limit stopped one of its processes
    refused_processes: int  # new processes or threads refused at the process limit
    peak_memory_mb: float | None
    peak_processes: int | None


def run_confined(
    command: Callable[[Path], list[str]],
    name: str,
    limits: Limits,
    threads: int,
    extra_env: dict[str, str] | None = None,
) -> ChildRun:
    """Run ``command(work folder)`` with every limit on it and on all it starts; leave nothing running."""
    assert limits.memory_mb is not None
    group = create_group(name, TreeLimits(limits.max_processes, limits.memory_mb))
    watch = None
    timed_out = False
    try:
        with tempfile.TemporaryDirectory(prefix=scratch_prefix("work"), ignore_cleanup_errors=True) as work_name:
            work = Path(work_name)
            (work / "home").mkdir()
            (work / "tmp").mkdir()
            try:
                proc = subprocess.Popen(
                    command(work),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**worker_env(work, threads), **(extra_env or {})},
                    cwd=work,
                    preexec_fn=_child_setup(limits, group),
                )
            except (OSError, subprocess.SubprocessError) as exc:  # a grader-side failure: still a row
                return ChildRun(None, "", f"the grading process could not start: {exc}", False, False, 0, None, None)
            if group is None:
                watch = MemoryWatch(proc.pid, limits.memory_mb)
                watch.start()
            try:
                stdout, stderr = proc.communicate(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                _stop_tree(proc, group)
                stdout, stderr = proc.communicate()
            finally:
                _stop_tree(proc, group)  # nothing a submission started outlives its grading
        if group:
            return ChildRun(
                proc.returncode,
                stdout,
                stderr,
                timed_out,
                group.out_of_memory_kills() > 0,
                group.refused_processes(),
                group.peak_memory_mb(),
                group.peak_processes(),
            )
        assert watch is not None
        return ChildRun(proc.returncode, stdout, stderr, timed_out, watch.killed, 0, round(watch.peak_mb, 1), None)
    finally:
        if watch:
            watch.stopped.set()
        if group:
            group.remove()
