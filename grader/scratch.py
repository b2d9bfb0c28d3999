"""Scratch folders: named by the process that made them, so that the next run can remove what
a killed one left behind (a grader stopped with SIGKILL cannot clean up after itself); and
held to a size while a notebook's kernel writes in one (:class:`DiskWatch`)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import resource  # imported here, never between fork and exec (a thread may hold the import lock)
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

_ABANDONED = re.compile(r"^grader-(?:work|run|ipc)-(\d+)-")


def scratch_prefix(kind: str) -> str:
    """The name prefix of a scratch folder of this process: ``grader-KIND-PID-``."""
    return f"grader-{kind}-{os.getpid()}-"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_abandoned(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders in ``folder`` (the temporary folder) whose maker is gone;
    returns what was removed."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _ABANDONED.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not process_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


DEFAULT_DISK_MB = 4096  # what a notebook may write (its folder; its private /tmp holds as much again)
NEARLY_FULL = 64 * 2**20  # free bytes under which a volume counts as full (the failed write used the rest)
_TMP_SLACK = 2**20  # a tmpfs this close to its size is full (its last block may be partly used)


def disk_usage(folder: Path) -> int:
    """Bytes the files under ``folder`` take on disk (allocated blocks, as du counts them: a
    sparse file counts what it holds), each file once however many links it has; symbolic
    links are not followed and other file systems not entered. Files that vanish while it
    is counted are skipped."""
    try:
        device = os.lstat(folder).st_dev
    except OSError:
        return 0
    seen: set[int] = set()
    total = 0
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_dev != device or info.st_ino in seen:
                continue
            seen.add(info.st_ino)
            total += info.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    return total


def free_space(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use on ``folder``'s volume; None if unknown."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


@dataclass(frozen=True)
class DiskUse:
    """What a kernel wrote, as measured: the facts a full disk is told apart by."""

    written: int  # most bytes the scratch folder grew by at any measurement
    limit: int  # bytes it may grow by
    free: int | None  # free bytes on the scratch folder's volume when last measured
    tmp_used: int | None = None  # most bytes seen in the kernel's private /tmp (None: not measured)
    tmp_size: int | None = None  # that /tmp's size (None: no private /tmp of a known size)
    stopped: bool = False  # the watch stopped the kernel for passing the limit

    @property
    def over_limit(self) -> bool:
        return self.written > self.limit

    @property
    def tmp_full(self) -> bool:
        return self.tmp_used is not None and self.tmp_size is not None and self.tmp_used >= self.tmp_size - _TMP_SLACK

    @property
    def volume_full(self) -> bool:
        """The real disk under the scratch folder was (nearly) full: the machine's, not the limit."""
        return self.free is not None and self.free < NEARLY_FULL

    @property
    def exhausted(self) -> bool:
        """No room was left to write: past the limit, a full /tmp or a full volume."""
        return self.over_limit or self.tmp_full or self.volume_full


class DiskWatch(threading.Thread):
    """Measures how much a kernel has written to its scratch folder (growth over what the
    folder held when the watch was made) and stops the kernel and its children once that
    passes ``limit`` bytes, as :class:`grader.isolation.process_limits.MemoryWatch` does for memory. It
    also notes the free space on the folder's volume and, where the kernel has a private
    /tmp of ``tmp_size`` bytes (a tmpfs in its sandbox, seen through /proc/PID/root), how
    full that got.

    A poll walks the folder, so polls are spaced by at least nine times the last walk's
    duration (a folder of many files costs the notebook no more than a tenth of a core);
    a notebook writing fast can go past the limit by what it writes between two polls.
    Single files are held to the limit exactly by RLIMIT_FSIZE (see
    :func:`limit_file_size`)."""

    def __init__(
        self, folder: Path, limit: int, pid: int | None = None, tmp_size: int | None = None, interval: float = 0.5
    ) -> None:
        super().__init__(daemon=True)
        self.folder, self.limit, self.pid, self.tmp_size, self.interval = Path(folder), limit, pid, tmp_size, interval
        self.baseline = disk_usage(self.folder)
        self.written = 0
        self.free = free_space(self.folder)
        self.tmp_used: int | None = None
        self.killed = False
        self.armed = True  # False while the grader itself writes (the model saved after the last cell): not counted
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._tmp_pid: int | None = None

    def measure(self) -> DiskUse:
        """Measure now (from any thread): the facts as they stand."""
        now = max(0, disk_usage(self.folder) - self.baseline)
        free = free_space(self.folder)
        tmp = self._private_tmp_used()
        with self._lock:
            if self.armed:
                self.written = max(self.written, now)
            self.free = free
            if tmp is not None:
                self.tmp_used = max(self.tmp_used or 0, tmp)
        return self.facts()

    def facts(self) -> DiskUse:
        with self._lock:
            return DiskUse(self.written, self.limit, self.free, self.tmp_used, self.tmp_size, self.killed)

    def run(self) -> None:
        wait = self.interval
        while not self.stopped.wait(wait):
            began = time.monotonic()
            if self.measure().over_limit and self.armed and self.pid:
                self.killed = True
                kill_family(self.pid)
                return
            wait = max(self.interval, 9 * (time.monotonic() - began))

    def _private_tmp_used(self) -> int | None:
        """Bytes used in the kernel's own /tmp, seen from here through /proc/PID/root/tmp of a
        process inside its sandbox (one whose /tmp is not this process's); None if none is."""
        if not self.pid or not self.tmp_size:
            return None
        import psutil

        try:
            own = os.stat("/tmp").st_dev
            family = [self.pid] + [p.pid for p in psutil.Process(self.pid).children(recursive=True)]
        except (OSError, psutil.Error):
            return None
        for pid in ([self._tmp_pid] if self._tmp_pid in family else []) + family:
            tmp = f"/proc/{pid}/root/tmp"
            try:
                if os.stat(tmp).st_dev == own:
                    continue
                stats = os.statvfs(tmp)
            except OSError:  # ended, or not ours to look into
                continue
            self._tmp_pid = pid
            return (stats.f_blocks - stats.f_bfree) * stats.f_frsize
        return None


def kill_family(pid: int) -> None:
    """Kill a process and all its descendants."""
    import psutil

    try:
        process = psutil.Process(pid)
        family = [process] + process.children(recursive=True)
    except psutil.Error:
        return
    for member in family:
        try:
            member.kill()
        except psutil.Error:
            pass


def limit_file_size(limit: int) -> None:
    """Cap the size of any file this process and its children write (RLIMIT_FSIZE): a write
    past it fails with EFBIG in Python (which ignores SIGXFSZ); other programs are stopped by
    SIGXFSZ. Runs in the kernel's process between fork and exec."""
    if resource is None:
        return
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
