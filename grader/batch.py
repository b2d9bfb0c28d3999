"""Grading a whole class: one isolated process per submission, results kept as they come.

SUBMISSIONS is a folder (one file or folder per student) or a zip as a learning-management
system exports it. Each submission is graded by a child ``grader`` process with a scrubbed
environment, its own work folder as HOME, CPU-time and wall-time limits, TensorFlow thread
limits, a control group capping the processes and memory of all it starts
(:mod:`grader.confinement`), and, where bubblewrap works, no network and a read-only file
system outside its own folders. Each
result is written atomically as soon as it is known, with the submission's content hash:
a batch killed at any moment and started again grades only what is missing or changed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from grader.confinement import DEFAULT_MAX_PROCESSES, ControlGroup, MemoryWatch, TreeLimits, create_group, fallback_process_limit
from grader.confinement import describe as describe_confinement
from grader.errors import GraderError

DEFAULT_PATTERN = r"^(?P<student>[^_.]+)"
SUBMISSION_SUFFIXES = (".ipynb", ".yaml", ".yml")
FAILED = "failed"  # the child process itself failed (crash, wall-time limit): a grader-side status
OUT_OF_MEMORY = "out_of_memory"
QUIZ_MEMORY_MB = 1024
GRADING_PROCESSES_MB = 4096  # the grading process and the process that measures the saved model


class BatchError(GraderError):
    """The batch cannot start: unreadable submissions folder or zip, bad pattern."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the notebook or answer sheet to grade
    digest: str  # sha256 of its content: a changed submission is graded again
    duplicates: tuple[str, ...] = ()  # other files that named the same student (older ones)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _main_file(entry: Path) -> Path | None:
    if entry.is_file():
        return entry if entry.suffix.lower() in SUBMISSION_SUFFIXES else None
    candidates = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix.lower() in SUBMISSION_SUFFIXES
                        and ".ipynb_checkpoints" not in p.parts)
    return candidates[0] if candidates else None


def unpack(source: Path, out: Path) -> Path:
    """The folder of submissions: ``source`` itself, or a zip extracted under ``out``."""
    if source.is_dir():
        return source
    if not zipfile.is_zipfile(source):
        raise BatchError(f"{source}: neither a folder nor a zip file")
    target = out / "submissions"
    if not target.exists():
        tmp = Path(tempfile.mkdtemp(dir=out))
        with zipfile.ZipFile(source) as archive:
            for member in archive.infolist():
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise BatchError(f"{source}: unsafe path in the zip: {member.filename}")
            archive.extractall(tmp)
        tmp.rename(target)
    return target


def discover(folder: Path, pattern: str = DEFAULT_PATTERN) -> tuple[list[Submission], list[str]]:
    """Submissions by student id (from the file or folder name), and entries that were skipped."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise BatchError(f"--pattern {pattern!r} is not a regular expression: {exc}") from None
    if "student" not in regex.groupindex:
        raise BatchError(f"--pattern {pattern!r} needs a named group (?P<student>...)")
    found: dict[str, list[Path]] = {}
    skipped = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        match = regex.search(entry.name)
        main = _main_file(entry)
        if not match or main is None:
            skipped.append(f"{entry.name}: " + ("no student id in the name" if not match else
                                                 "no notebook or answer sheet in it"))
            continue
        found.setdefault(match.group("student"), []).append(main)
    submissions = []
    for student, paths in sorted(found.items()):
        newest = max(paths, key=lambda p: (p.stat().st_mtime, p.name))
        others = tuple(str(p.relative_to(folder)) for p in paths if p != newest)
        submissions.append(Submission(student, newest, _digest(newest), others))
    return submissions, skipped


def worker_env(work: Path, threads: int) -> dict[str, str]:
    """A scrubbed environment: no credentials or proxies of the instructor's; HOME and
    temporary files in the child's own folder (on disk: a student's data can be large)."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ", "XDG_CACHE_HOME") if k in os.environ}
    keep.setdefault("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))  # shared data cache
    keep.update({
        "HOME": str(work / "home"), "TMPDIR": str(work / "tmp"), "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": "1", "KERAS_HOME": str(Path(os.path.expanduser("~")) / ".keras"),
    })
    return keep


_LOOPBACK_PROBE = "import socket; socket.socket().bind(('127.0.0.1', 0))"


@dataclass(frozen=True)
class Sandbox:
    """How children are isolated, by bubblewrap: the whole file system read-only except the
    child's own folders (its work folder, with HOME and TMPDIR, and its feedback folder), a
    private /dev and /proc, its own network namespace with loopback only, and no
    capabilities, so that it can neither remount nor change the control groups that limit it."""

    bwrap: str | None
    hidden: tuple[str, ...] = ()  # files replaced by an empty one: where the held-out digits come from

    def prefix(self, work: Path, feedback: Path) -> list[str]:
        if not self.bwrap:
            return []
        hide = [arg for path in self.hidden for arg in ("--ro-bind", "/dev/null", path)]
        return [self.bwrap, "--ro-bind", "/", "/", *hide, "--dev", "/dev", "--proc", "/proc",
                "--bind", str(work), str(work), "--bind", str(feedback), str(feedback), "--chdir", str(work),
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                "--cap-drop", "ALL", "--"]

    def describe(self) -> str:
        if not self.bwrap:
            return ("NOT available on this machine (install bubblewrap): submissions could reach the network "
                    "and write to shared files")
        return ("on (bubblewrap: own network namespace with loopback only; file system read-only except the "
                "submission's own folders; no capabilities"
                + (f"; MNIST source files hidden: {', '.join(self.hidden)}" if self.hidden else "") + ")")


def make_sandbox(scratch: Path) -> Sandbox:
    """A sandbox if bubblewrap works on this machine (tried once), else one that isolates nothing."""
    bwrap = shutil.which("bwrap")
    if bwrap:
        sandbox = Sandbox(bwrap, _heldout_sources())
        probe = subprocess.run(sandbox.prefix(scratch, scratch) + [sys.executable, "-c", _LOOPBACK_PROBE],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return sandbox
    return Sandbox(None)


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


def default_memory_mb(assignment: str, submissions: list[Submission]) -> float:
    """Room for the notebook kernel's own limit plus the grading and measuring processes."""
    if not any(s.path.suffix.lower() == ".ipynb" for s in submissions):
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


def _prepare_shared_data(assignment: str, submissions: list[Submission]) -> None:
    """Prepare the served data before any child runs: in the sandbox children can only read it."""
    if not any(s.path.suffix.lower() == ".ipynb" for s in submissions):
        return
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.data_cache import prepare_data

    spec = load_assignment(assignment)
    if spec.data == "mnist":
        prepare_data(spec)


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


def run_confined(command: Callable[[Path], list[str]], name: str, limits: Limits, threads: int) -> ChildRun:
    """Run ``command(work folder)`` with every limit on it and on all it starts; leave nothing running."""
    assert limits.memory_mb is not None
    group = create_group(name, TreeLimits(limits.max_processes, limits.memory_mb))
    watch = None
    timed_out = False
    try:
        with tempfile.TemporaryDirectory(prefix=f"grader-{name}-", ignore_cleanup_errors=True) as work_name:
            work = Path(work_name)
            (work / "home").mkdir()
            (work / "tmp").mkdir()
            try:
                proc = subprocess.Popen(command(work), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=worker_env(work, threads), cwd=work,
                                        preexec_fn=_child_setup(limits, group))
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
            return ChildRun(proc.returncode, stdout, stderr, timed_out, group.out_of_memory_kills() > 0,
                            group.refused_processes(), group.peak_memory_mb(), group.peak_processes())
        assert watch is not None
        return ChildRun(proc.returncode, stdout, stderr, timed_out, watch.killed, 0, round(watch.peak_mb, 1), None)
    finally:
        if watch:
            watch.stopped.set()
        if group:
            group.remove()


def grade_one(submission: Submission, assignment: str, out: Path, limits: Limits, threads: int,
              sandbox: Sandbox) -> dict[str, Any]:
    """Grade one submission in a confined child process; always returns a result row."""
    feedback = out / "feedback" / submission.student
    feedback.mkdir(parents=True, exist_ok=True)
    quiz = submission.path.suffix.lower() in (".yaml", ".yml")
    command = [sys.executable, "-m", "grader"]
    command += (["quiz", "check", str(submission.path), "--json", "--html", str(feedback / "feedback.html")] if quiz else
                ["grade", str(submission.path), "--assignment", assignment, "--out", str(feedback), "--json",
                 "--html", str(feedback / "feedback.html")])
    if limits.memory_mb is None:
        limits = replace(limits, memory_mb=default_memory_mb(assignment, [submission]))
    started = time.monotonic()
    run = run_confined(lambda work: sandbox.prefix(work, feedback) + command, submission.student, limits, threads)
    (feedback / "grader.log").write_text(run.stderr[-20000:])
    usage = {"peak_memory_mb": run.peak_memory_mb, "peak_processes": run.peak_processes}
    notes = []
    if run.refused_processes:
        notes.append(f"it tried to run more than {limits.max_processes} processes and threads at once "
                     f"({run.refused_processes} refused)")
    memory_note = f"its processes used more than {limits.memory_mb:g} MB together and were stopped"
    if run.timed_out:
        return _row(submission, FAILED, 0, 0, _sentences(
            f"grading took longer than {limits.wall_seconds:g} s and was stopped", *notes), started, **usage)
    try:
        document = json.loads(run.stdout)
    except ValueError:
        if run.memory_stopped:
            return _row(submission, OUT_OF_MEMORY, 0, 0, _sentences(memory_note, *notes), started, **usage)
        reason = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
        status = "invalid" if run.returncode == 1 else FAILED
        return _row(submission, status, 0, 0, _sentences(reason[:300], *notes), started, **usage)
    (feedback / "result.json").write_text(json.dumps(document, indent=1))
    if quiz:
        score = document["score"]
        invalid = sum(q["status"] == "invalid" for q in document["questions"])
        status, points, possible = "graded", score["points"], score["possible"]
        message = f"{invalid} answer(s) could not be read" if invalid else ""
    else:
        status, points, possible = document["status"], document["points"], document["points_possible"]
        message = (document["messages"] or [""])[0]
    if run.memory_stopped and status != "graded":
        status, message = OUT_OF_MEMORY, memory_note
    elif run.memory_stopped:
        notes.append("one of its processes was stopped at the memory limit")
    return _row(submission, status, points, possible, _sentences(message, *notes), started, **usage)


def _sentences(*parts: str) -> str:
    """One message from several, without doubled punctuation between them."""
    return "; ".join(p.rstrip(" .;") for p in parts if p)


def _row(submission: Submission, status: str, points: float, possible: float, message: str,
         started: float, peak_memory_mb: float | None = None, peak_processes: int | None = None) -> dict[str, Any]:
    note = message
    if submission.duplicates:
        note = _sentences(note, f"older submissions ignored: {', '.join(submission.duplicates)}")
    return {"student": submission.student, "status": status, "points": points, "points_possible": possible,
            "message": note, "submission": str(submission.path), "digest": submission.digest,
            "seconds": round(time.monotonic() - started, 2), "peak_memory_mb": peak_memory_mb,
            "peak_processes": peak_processes}


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that a reader (or a killed batch) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def finished(out: Path, submission: Submission) -> dict[str, Any] | None:
    """The stored result of this submission, if it was graded and has not changed since."""
    path = out / "results" / f"{submission.student}.json"
    try:
        row = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return row if row.get("digest") == submission.digest else None


def run_batch(source: Path, assignment: str, out: Path, *, jobs: int = 1, pattern: str = DEFAULT_PATTERN,
              regrade: bool = False, limits: Limits = Limits(7200, 7200),
              on_result: Callable[[dict[str, Any], bool], None] | None = None,
              on_start: Callable[[int], None] | None = None,
              scheduler: str | None = None) -> list[dict[str, Any]]:
    """Grade every submission not already graded; returns one row per student."""
    # Children run in their own temporary folder: every path they get must be absolute.
    source, out = source.resolve(), out.resolve()
    if Path(assignment).is_file():
        assignment = str(Path(assignment).resolve())
    out.mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    folder = unpack(source, out)
    submissions, skipped = discover(folder, pattern)
    if on_start:
        on_start(len(submissions))
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for submission in submissions:
        previous = None if regrade else finished(out, submission)
        if previous:
            rows[submission.student] = previous
            if on_result:
                on_result(previous, True)
        else:
            todo.append(submission)
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    if limits.memory_mb is None:
        limits = replace(limits, memory_mb=default_memory_mb(assignment, submissions))
    _prepare_shared_data(assignment, submissions)
    (out / "feedback").mkdir(exist_ok=True)
    sandbox = make_sandbox(out / "feedback")

    def record(row: dict[str, Any]) -> None:
        write_atomically(out / "results" / f"{row['student']}.json", json.dumps(row, indent=1))
        rows[row["student"]] = row
        if on_result:
            on_result(row, False)

    if scheduler:
        from grader.distributed import run_on_cluster

        for row in run_on_cluster(scheduler, todo, assignment, out, limits, threads, sandbox):
            record(row)
    else:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(grade_one, s, assignment, out, limits, threads, sandbox) for s in todo]
            for future in as_completed(futures):
                record(future.result())
    ordered = [rows[s.student] for s in submissions]
    limits_line = (f"limits per submission: {limits.memory_mb:g} MB, {limits.max_processes} processes and threads, "
                   f"{limits.cpu_seconds} CPU s, {limits.wall_seconds:g} s wall; enforcement {describe_confinement()}")
    write_reports(out, ordered, skipped, assignment, sandbox.describe() + "\n" + limits_line)
    return ordered


def write_reports(out: Path, rows: list[dict[str, Any]], skipped: Iterable[str], assignment: str,
                  isolation: str) -> None:
    """gradebook.csv, the Canvas import CSV, Gradescope results and the class summary."""
    fields = ["student", "status", "points", "points_possible", "message", "submission", "seconds"]
    with open(out / ".gradebook.csv.tmp", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(out / ".gradebook.csv.tmp", out / "gradebook.csv")
    possible = max((r["points_possible"] for r in rows), default=0)
    column = f"{assignment} ({possible:g})"
    with open(out / ".canvas.csv.tmp", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["Points Possible", "", "", "", "", f"{possible:g}"])
        for r in rows:
            writer.writerow([r["student"], "", "", r["student"], "", f"{r['points']:g}"])
    os.replace(out / ".canvas.csv.tmp", out / "canvas.csv")
    for r in rows:
        folder = out / "gradescope" / r["student"]
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / "results.json", json.dumps({
            "score": r["points"], "output": f"{r['status']}: {r['message']}".strip(": "),
            "tests": [{"name": assignment, "score": r["points"], "max_score": r["points_possible"],
                       "output": r["message"], "status": "passed" if r["status"] == "graded" else "failed"}]}))
    write_atomically(out / "summary.txt", summary(rows, list(skipped), isolation))


def summary(rows: list[dict[str, Any]], skipped: list[str], isolation: str) -> str:
    """The class summary: score distribution and failures by kind."""
    scores = [r["points"] for r in rows]
    lines = [f"{len(rows)} students graded"]
    if scores:
        lines.append(f"scores: min {min(scores):g}, median {statistics.median(scores):g}, "
                     f"mean {statistics.mean(scores):.2f}, max {max(scores):g}")
        possible = max(r["points_possible"] for r in rows) or 1
        buckets = [0] * 5
        for s in scores:
            buckets[min(4, int(5 * s / possible))] += 1
        for i, count in enumerate(buckets):
            lines.append(f"  {20 * i:>3}-{20 * (i + 1):<3}% {'#' * count} {count}")
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    if skipped:
        lines.append("skipped entries: " + "; ".join(skipped))
    lines.append("isolation: " + isolation)
    return "\n".join(lines) + "\n"
