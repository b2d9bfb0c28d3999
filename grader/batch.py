"""Grading a whole class: one isolated process per submission, results kept as they come.

SUBMISSIONS is a folder (one file or folder per student) or a zip as a learning-management
system exports it. Each submission is graded by a child ``grader`` process with a scrubbed
environment, its own work folder as HOME, CPU-time and wall-time limits, TensorFlow thread
limits, a control group capping the processes and memory of all it starts
(:mod:`grader.confinement`), and, where bubblewrap works, no network and a read-only file
system outside its own folders. Each
result is written atomically as soon as it is known, with the submission's content hash:
a batch killed at any moment and started again grades only what is missing or changed.

Everything in SUBMISSIONS is untrusted: a zip is extracted entry by entry within size and
compression limits (a zip bomb or a path leaving the folder is refused for its student
only), file names are escaped where shown and student ids neutralised in the CSV exports.
Results are keyed by the submission's content and the assignment (name and file hash), a
zip by its own hash: stale inputs are graded again or refused, never silently reused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

from grader.confinement import DEFAULT_MAX_PROCESSES, ControlGroup, MemoryWatch, TreeLimits, create_group, fallback_process_limit
from grader.confinement import describe as describe_confinement
from grader.errors import GraderError

DEFAULT_PATTERN = r"^(?P<student>[^_.]+)"
NOTEBOOK_SUFFIXES = (".ipynb",)
SHEET_SUFFIXES = (".yaml", ".yml")
SUBMISSION_SUFFIXES = NOTEBOOK_SUFFIXES + SHEET_SUFFIXES
FAILED = "failed"  # the child process itself failed (crash, wall-time limit): a grader-side status
OUT_OF_MEMORY = "out_of_memory"
REJECTED = "rejected"  # part of the submission was refused at extraction (zip bomb, unsafe path): not graded
QUIZ_MEMORY_MB = 1024
GRADING_PROCESSES_MB = 4096  # the grading process and the process that measures the saved model
# What extracting a zip may write (--zip-entry-limit, --zip-total-limit, --zip-ratio-limit):
ZIP_ENTRY_MB = 200  # one entry, uncompressed (a notebook with its outputs is a few MB)
ZIP_TOTAL_MB = 4096  # the whole zip, uncompressed
ZIP_RATIO = 100  # compression ratio refused for entries bigger than ZIP_RATIO_ABOVE_MB (zip bombs: 1000:1)
ZIP_RATIO_ABOVE_MB = 10
MB = 1 << 20
CHUNK = 1 << 20  # bytes read, hashed or written at once: memory stays flat whatever a file's size
SHOWN_FILES = 5  # file names listed in a message before "and N more"


class BatchError(GraderError):
    """The batch cannot start: unreadable submissions folder or zip, bad pattern, an OUT
    folder holding another assignment's results, no submission at all."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the notebook or answer sheet to grade (for a rejected one: the refused zip entry)
    digest: str  # sha256 of its content: a changed submission is graded again
    duplicates: tuple[str, ...] = ()  # other files that named the same student (older ones)
    notes: tuple[str, ...] = ()  # for its row: which file of a folder was graded, other forms of the id
    refused: tuple[str, ...] = ()  # why entries of the student's were not extracted: not graded


@dataclass(frozen=True)
class ZipLimits:
    """What extracting one zip may write: beyond these an entry is refused, never expanded."""

    entry_mb: float = ZIP_ENTRY_MB
    total_mb: float = ZIP_TOTAL_MB
    ratio: float = ZIP_RATIO
    ratio_above_mb: float = ZIP_RATIO_ABOVE_MB


@dataclass(frozen=True)
class AssignmentKey:
    """What a result was graded against besides the submission: a result stored under another
    name or another version of the assignment file is not reused."""

    name: str  # as given (mnist-cnn, quiz), or the file's stem for an assignment file
    sha256: str | None  # of the assignment file; None for answer sheets (graded against the banks)
    notebook: bool  # a notebook assignment: a student's notebooks are preferred to other files


@dataclass(frozen=True)
class Unpacked:
    """Where the submissions are, and the zip entries that were not extracted (name, why)."""

    folder: Path
    refused: tuple[tuple[str, str], ...] = ()
    note: str = ""  # for the summary: which zip, its hash, where it was extracted, with which limits


def _digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks (a student's file can be as large as the zip limits allow)."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _shown(text: str) -> str:
    """A name from a student's files as it may be printed: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _listed(names: Iterable[str]) -> str:
    names = list(names)
    extra = f" and {len(names) - SHOWN_FILES} more" if len(names) > SHOWN_FILES else ""
    return ", ".join(_shown(n) for n in names[:SHOWN_FILES]) + extra


def _hidden(name: str) -> bool:
    """Files no student handed in: dot files (.ipynb_checkpoints) and macOS zip metadata."""
    return name.startswith(".") or name == "__MACOSX"


def student_key(student: str) -> str:
    """What identifies a student: ids differing only in case or Unicode form (NFC/NFKC) are one."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", student).casefold())


def assignment_key(assignment: str) -> AssignmentKey:
    """The assignment's name and file hash, which every stored result records."""
    given = Path(assignment)
    path: Path | None = given if given.is_file() else None
    if path is None:
        try:
            from grader.notebooks.assignment import packaged_assignments
        except ImportError:  # answer sheets only: the notebook extra is not installed
            packaged_assignments = dict
        path = packaged_assignments().get(assignment)
    if path is None:
        return AssignmentKey(assignment, None, False)
    return AssignmentKey(given.stem if given.is_file() else assignment, _digest(path), True)


# ---- extracting a zip: entry by entry, streamed, within limits ----

class _Refused(Exception):
    """One zip entry not extracted; the message names it and says why."""


def _entry_parts(member: zipfile.ZipInfo, name: str) -> list[str]:
    """The path components an entry is written to, or _Refused if it would leave the folder,
    is a link or a device, or is not a plain name."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise _Refused(f"{_shown(name)}: its path is absolute; it was not extracted")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _Refused(f"{_shown(name)}: its path leaves the folder it is extracted to; it was not extracted")
    if "\0" in name:
        raise _Refused(f"{_shown(name)}: its name holds a NUL character; it was not extracted")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _Refused(f"{_shown(name)} is a symbolic link; it was not extracted")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _Refused(f"{_shown(name)} is not a regular file; it was not extracted")
    return parts


def _bounded_copy(source: BinaryIO, sink: BinaryIO, check: Callable[[int], None]) -> int:
    """Copy in chunks, checking the bytes really written so far (a header's size can lie)."""
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        check(written)
        sink.write(chunk)
    return written


def _extract_entry(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, dest: Path,
                   limits: ZipLimits, budget: int, archive_size: int) -> int:
    """Write one entry to ``dest`` within the limits; returns its size. A refused entry leaves nothing."""
    # Compressed bytes cannot exceed the archive, whatever the header claims.
    compressed = max(1, min(member.compress_size, archive_size))

    def check(size: int) -> None:
        ratio = size / compressed
        if size > limits.entry_mb * MB:
            raise _Refused(f"{_shown(name)} expands to more than {limits.entry_mb:g} MB "
                           f"(compression {ratio:.0f}:1); it was not extracted")
        if size > limits.ratio_above_mb * MB and ratio > limits.ratio:
            raise _Refused(f"{_shown(name)} expands to {size / MB:.0f} MB or more from {compressed / MB:.2f} MB "
                           f"(compression {ratio:.0f}:1, more than the {limits.ratio:g}:1 allowed above "
                           f"{limits.ratio_above_mb:g} MB); it was not extracted")
        if size > budget:
            raise _Refused(f"{_shown(name)} would take the extracted zip past {limits.total_mb:g} MB in all; "
                           "it was not extracted")

    check(member.file_size)  # what the header declares: refused before anything is written
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, open(dest, "wb") as sink:
            size = _bounded_copy(source, sink, check)
    except BaseException as exc:
        dest.unlink(missing_ok=True)
        if isinstance(exc, _Refused):
            raise
        if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
            raise _Refused(f"{_shown(name)} is damaged in the zip ({exc}); it was not extracted") from None
        if isinstance(exc, (RuntimeError, NotImplementedError)):  # encrypted, unknown compression
            raise _Refused(f"{_shown(name)} cannot be read ({exc}); it was not extracted") from None
        if isinstance(exc, OSError):
            raise _Refused(f"{_shown(name)} could not be written ({exc.strerror or exc}); "
                           "it was not extracted") from None
        raise
    try:
        mtime = time.mktime((*member.date_time, 0, 0, -1))
        os.utime(dest, (mtime, mtime))  # "the newest submission" means the one the student made last
    except (ValueError, OverflowError, OSError):
        pass
    return size


def extract_zip(source: Path, target: Path, limits: ZipLimits = ZipLimits()) -> list[tuple[str, str]]:
    """Extract ``source`` into ``target`` entry by entry, each streamed to disk within
    ``limits``; returns the refused entries as (name, message). The rest is extracted."""
    refused = []
    budget = int(limits.total_mb * MB)
    archive_size = source.stat().st_size
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            name = member.filename.replace("\\", "/")
            try:
                parts = _entry_parts(member, name)
                if not parts:
                    continue
                dest = target.joinpath(*parts)
                if member.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                budget -= _extract_entry(archive, member, name, dest, limits, budget, archive_size)
            except _Refused as exc:
                refused.append((name, str(exc)))
            except OSError as exc:  # a folder that cannot be made
                refused.append((name, f"{_shown(name)} could not be written ({exc.strerror or exc}); "
                                      "it was not extracted"))
    return refused


def _remove_abandoned(folder: Path) -> None:
    """Partial extractions of batches that were killed (their process is gone)."""
    for tmp in folder.glob(".tmp-*"):
        try:
            os.kill(int(tmp.name.split("-")[1]), 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass


def unpack(source: Path, out: Path, limits: ZipLimits = ZipLimits()) -> Unpacked:
    """The folder of submissions: ``source`` itself, or the zip extracted once per content into
    OUT/unzipped/SHA256/ (a second, different zip into the same OUT gets its own folder; each
    appears only complete: extracted beside it, then renamed). Earlier extractions are kept:
    results of earlier batches name files in them."""
    if source.is_dir():
        return Unpacked(source)
    if not zipfile.is_zipfile(source):
        raise BatchError(f"{source}: neither a folder nor a zip file")
    digest = _digest(source)
    home = out / "unzipped"
    home.mkdir(exist_ok=True)
    _remove_abandoned(home)
    done, record = home / digest, home / digest / "extraction.json"
    try:
        previous = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    if not previous or previous.get("limits") != asdict(limits):
        tmp = Path(tempfile.mkdtemp(dir=home, prefix=f".tmp-{os.getpid()}-"))
        try:
            refused = extract_zip(source, tmp / "submissions", limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BatchError(f"{source}: the zip cannot be read ({exc})") from None
        previous = {"zip": str(source), "zip_sha256": digest, "limits": asdict(limits), "refused": refused}
        (tmp / "extraction.json").write_text(json.dumps(previous, indent=1), encoding="utf-8")
        if done.exists():  # extracted before with other limits: replaced whole
            old = home / f".tmp-{os.getpid()}-old-{digest[:12]}"
            os.rename(done, old)
            os.rename(tmp, done)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, done)
    note = (f"submissions: {source} (sha256 {digest[:16]}...), extracted to {done / 'submissions'}; "
            f"zip limits {limits.entry_mb:g} MB per entry, {limits.total_mb:g} MB in all, "
            f"{limits.ratio:g}:1 compression above {limits.ratio_above_mb:g} MB")
    return Unpacked(done / "submissions", tuple((n, m) for n, m in previous["refused"]), note)


# ---- finding each student's submission ----

def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise BatchError(f"--pattern {pattern!r} is not a regular expression: {exc}") from None
    if "student" not in regex.groupindex:
        raise BatchError(f"--pattern {pattern!r} needs a named group (?P<student>...)")
    return regex


def _student(regex: re.Pattern[str], name: str) -> str | None:
    match = regex.search(name)
    return (match.group("student") or None) if match else None


def _plain(name: str) -> str:
    return re.sub(r"[\W_]+", "", student_key(name))


def _choose(entry: Path, assignment: AssignmentKey | None) -> tuple[Path, tuple[Path, ...]] | None:
    """The file to grade in one student's entry, and the other candidates (not graded). The
    rule (README, "Which file is graded"): files of the assignment's kind first (notebooks for a
    notebook assignment, answer sheets otherwise), then one named like the assignment, then the
    one nearest the top of the folder, then the newest; the name last, so that the choice never
    depends on the order the disk lists files in."""
    if entry.is_file():
        return (entry, ()) if entry.suffix.lower() in SUBMISSION_SUFFIXES else None
    candidates = [p for p in entry.rglob("*") if p.suffix.lower() in SUBMISSION_SUFFIXES and p.is_file()
                  and not any(_hidden(part) for part in p.relative_to(entry).parts)]
    if not candidates:
        return None
    kind = (NOTEBOOK_SUFFIXES if assignment.notebook else SHEET_SUFFIXES) if assignment else SUBMISSION_SUFFIXES
    like = _plain(assignment.name) if assignment else ""

    def rank(path: Path) -> tuple:
        return (path.suffix.lower() not in kind, not (like and like in _plain(path.stem)),
                len(path.relative_to(entry).parts), -path.stat().st_mtime, str(path))

    ordered = sorted(candidates, key=rank)
    return ordered[0], tuple(ordered[1:])


def discover(folder: Path, pattern: str = DEFAULT_PATTERN, refused: Iterable[tuple[str, str]] = (),
             assignment: AssignmentKey | None = None) -> tuple[list[Submission], list[str]]:
    """Submissions by student (id from each file or folder name), and entries that were skipped.

    ``refused`` are zip entries that were not extracted (name, message): the student named by an
    entry's first folder is not graded and gets a row saying why; an entry naming no student is
    a skipped entry. Ids that differ only in case or Unicode form are one student."""
    regex = compile_pattern(pattern)
    rejected: dict[str, list[tuple[str, str, str]]] = {}  # key -> (id, entry, message)
    skipped = []
    for name, message in refused:
        student = _student(regex, name.split("/", 1)[0])
        if student:
            rejected.setdefault(student_key(student), []).append((student, name, message))
        else:
            skipped.append(message)
    found: dict[str, list[tuple[str, Path, tuple[Path, ...]]]] = {}  # key -> (id, file, other files)
    for entry in sorted(folder.iterdir()):
        if _hidden(entry.name):
            continue
        student = _student(regex, entry.name)
        if student and student_key(student) in rejected:
            continue
        chosen = _choose(entry, assignment) if student else None
        if not student or chosen is None:
            skipped.append(f"{_shown(entry.name)}: " + ("no student id in the name" if not student else
                                                          "no notebook or answer sheet in it"))
            continue
        found.setdefault(student_key(student), []).append((student, *chosen))
    submissions = []
    for key in sorted(set(found) | set(rejected)):
        if key in rejected:
            student, entry, _ = rejected[key][0]
            messages = tuple(m for _, _, m in rejected[key])
            digest = hashlib.sha256("\n".join(messages).encode()).hexdigest()
            submissions.append(Submission(student, Path(_shown(entry)), digest, refused=messages))
            continue
        student, newest, ignored = max(found[key], key=lambda f: (f[1].stat().st_mtime, f[1].name))
        others = tuple(str(f[1].relative_to(folder)) for f in found[key] if f[1] != newest)
        notes = []
        if ignored:
            notes.append(f"graded {_shown(str(newest.relative_to(folder)))}; not graded: "
                         f"{_listed(str(p.relative_to(folder)) for p in ignored)} (the file is chosen by kind, "
                         "then a name like the assignment's, then nearest the top of the folder, then newest)")
        forms = sorted({f[0] for f in found[key]} - {student})
        if forms:
            notes.append(f"also submitted as {_listed(forms)}: the same student "
                         "(ids are compared ignoring case and Unicode form)")
        submissions.append(Submission(student, newest, _digest(newest), tuple(map(_shown, others)), tuple(notes)))
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
    note = _sentences(message, *submission.notes)
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


def rejected_row(submission: Submission) -> dict[str, Any]:
    """The row of a student whose zip entries were refused: not graded, and why."""
    return _row(submission, REJECTED, 0, 0, _sentences(*submission.refused, "the submission was not graded"),
                time.monotonic())


def finished(out: Path, submission: Submission, assignment: AssignmentKey) -> dict[str, Any] | None:
    """The stored result of this submission, if it was graded against this assignment (name
    and file) and neither has changed since."""
    path = out / "results" / f"{submission.student}.json"
    try:
        row = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    same = (row.get("digest"), row.get("assignment"), row.get("assignment_sha256")) == (
        submission.digest, assignment.name, assignment.sha256)
    return row if same else None


def _other_assignments(out: Path, assignment: AssignmentKey) -> list[tuple[Path, str]]:
    """Stored results graded under another assignment name: (file, that name)."""
    other = []
    for path in sorted((out / "results").glob("*.json")):
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("assignment")
        except (OSError, ValueError, AttributeError):
            continue
        if name is not None and name != assignment.name:
            other.append((path, name))
    return other


def run_batch(source: Path, assignment: str, out: Path, *, jobs: int = 1, pattern: str = DEFAULT_PATTERN,
              regrade: bool = False, limits: Limits = Limits(7200, 7200), zip_limits: ZipLimits = ZipLimits(),
              on_result: Callable[[dict[str, Any], bool], None] | None = None,
              on_start: Callable[[int], None] | None = None,
              scheduler: str | None = None) -> list[dict[str, Any]]:
    """Grade every submission not already graded; returns one row per student."""
    # Children run in their own temporary folder: every path they get must be absolute.
    source, out = source.resolve(), out.resolve()
    if Path(assignment).is_file():
        assignment = str(Path(assignment).resolve())
    key = assignment_key(assignment)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(exist_ok=True)
    other = _other_assignments(out, key)
    if other and not regrade:
        names = ", ".join(sorted({repr(name) for _, name in other}))
        raise BatchError(f"{out} holds results of assignment {names} ({len(other)} students); this batch grades "
                         f"{key.name!r}: give another --out, or add --regrade to grade everything again under "
                         f"{key.name!r} (the other results are then moved to {out / 'replaced'})")
    unpacked = unpack(source, out, zip_limits)
    submissions, skipped = discover(unpacked.folder, pattern, unpacked.refused, key)
    if not submissions:
        raise BatchError(f"{source}: no submission found, 0 students graded (the gradebook and results in {out} "
                         "were left as they were)"
                         + (f"; skipped entries: {'; '.join(skipped[:10])}" if skipped else ""))
    if other:  # --regrade into another assignment's folder: nothing graded is deleted
        replaced = out / "replaced" / time.strftime("%Y%m%d-%H%M%S")
        replaced.mkdir(parents=True, exist_ok=True)
        for path, _ in other:
            os.replace(path, replaced / path.name)
    if on_start:
        on_start(len(submissions))
    rows: dict[str, dict[str, Any]] = {}

    def record(row: dict[str, Any]) -> None:
        row = {**row, "assignment": key.name, "assignment_sha256": key.sha256}
        write_atomically(out / "results" / f"{row['student']}.json", json.dumps(row, indent=1))
        rows[row["student"]] = row
        if on_result:
            on_result(row, False)

    todo = []
    for submission in submissions:
        previous = None if regrade else finished(out, submission, key)
        if previous:
            if previous.get("submission") != str(submission.path):  # same content, from another zip
                previous = {**previous, "submission": str(submission.path)}
                write_atomically(out / "results" / f"{submission.student}.json", json.dumps(previous, indent=1))
            rows[submission.student] = previous
            if on_result:
                on_result(previous, True)
        elif submission.refused:
            record(rejected_row(submission))
        else:
            todo.append(submission)
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    graded = [s for s in submissions if not s.refused]
    if limits.memory_mb is None:
        limits = replace(limits, memory_mb=default_memory_mb(assignment, graded))
    _prepare_shared_data(assignment, todo)
    (out / "feedback").mkdir(exist_ok=True)
    sandbox = make_sandbox(out / "feedback")

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
    context = "\n".join(line for line in (sandbox.describe(), limits_line, unpacked.note) if line)
    write_reports(out, ordered, skipped, assignment, context)
    return ordered


def write_reports(out: Path, rows: list[dict[str, Any]], skipped: Iterable[str], assignment: str,
                  isolation: str) -> None:
    """gradebook.csv, the Canvas import CSV, Gradescope results and the class summary."""
    fields = ["student", "status", "points", "points_possible", "message", "submission", "seconds"]
    possible = max((r["points_possible"] for r in rows), default=0)
    column = f"{assignment} ({possible:g})"
    _write_csv(out / "gradebook.csv", [fields] + [[r.get(f, "") for f in fields] for r in rows])
    _write_csv(out / "canvas.csv", [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
                                    ["Points Possible", "", "", "", "", f"{possible:g}"]]
               + [[r["student"], "", "", r["student"], "", f"{r['points']:g}"] for r in rows])
    for r in rows:
        folder = out / "gradescope" / r["student"]
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / "results.json", json.dumps({
            "score": r["points"], "output": f"{r['status']}: {r['message']}".strip(": "),
            "tests": [{"name": assignment, "score": r["points"], "max_score": r["points_possible"],
                       "output": r["message"], "status": "passed" if r["status"] == "graded" else "failed"}]}))
    write_atomically(out / "summary.txt", summary(rows, list(skipped), isolation))


def _cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading quote (OWASP, CSV injection). Student ids and file
    names come from the students."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_csv(path: Path, table: list[list[Any]]) -> None:
    """Every CSV the batch writes: cells neutralised, the file replaced atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([[_cell(v) for v in row] for row in table])
    os.replace(tmp, path)


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
