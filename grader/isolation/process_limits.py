"""Keeping a submission's whole process tree inside a process count and a memory size.

A notebook can start processes that leave its kernel's process group (a fork bomb, a
daemonised helper), and a grading process can swell by itself (a huge saved model).
Linux control groups bound every process a child starts, wherever it goes: ``pids.max``
refuses new processes past a count, and the memory limit makes the kernel stop the
group's processes past a size. Both hierarchies are handled: cgroup v1 (one folder per
controller) and cgroup v2 (one folder), wherever this process may create groups (root,
or a delegated subtree). Elsewhere the fallback is weaker and says so: RLIMIT_NPROC
(which does not bind root) and a watch of the child's resident memory.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from grader.scratch import process_alive

CONTROLLERS = ("pids", "memory")
DEFAULT_MAX_PROCESSES = 1024  # a graded MNIST notebook peaks near 40 on 2 cores (TensorFlow: threads per core)
_MEMORY_LIMIT_FILES = {1: "memory.limit_in_bytes", 2: "memory.max"}
_SWAP_LIMIT_FILES = {1: "memory.memsw.limit_in_bytes", 2: "memory.swap.max"}
_OOM_EVENT_FILES = {1: "memory.oom_control", 2: "memory.events"}
_PEAK_FILES = {1: "memory.max_usage_in_bytes", 2: "memory.peak"}


@dataclass(frozen=True)
class TreeLimits:
    """What one child and everything it starts may hold at once."""

    max_processes: int  # processes and threads (the kernel counts both)
    memory_mb: float


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(text: str, name: str) -> int:
    """The value of ``name N`` in a cgroup events file (0 if absent)."""
    match = re.search(rf"^{re.escape(name)} (\d+)$", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def group_parents(mounts: str | None = None, membership: str | None = None) -> tuple[int, dict[str, Path]] | None:
    """Where groups for children can be made: (cgroup version, controller -> folder), or None.

    The folders are this process's own groups, so children's groups nest under whatever
    limits this process already has. ``mounts`` and ``membership`` default to
    /proc/self/mounts and /proc/self/cgroup (parameters for tests).
    """
    mounts = _read(Path("/proc/self/mounts")) if mounts is None else mounts
    membership = _read(Path("/proc/self/cgroup")) if membership is None else membership
    own: dict[str, str] = {}
    for line in membership.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                own[controller] = parts[2]
    table = [line.split() for line in mounts.splitlines() if len(line.split()) >= 4]
    v1 = {}
    for controller in CONTROLLERS:
        for _, point, fstype, options, *_ in table:
            if fstype == "cgroup" and controller in options.split(",") and controller in own:
                v1[controller] = Path(point) / own[controller].lstrip("/")
                break
    if len(v1) == len(CONTROLLERS):
        return 1, v1
    for _, point, fstype, *_ in table:
        if fstype == "cgroup2" and "" in own:
            base = Path(point) / own[""].lstrip("/")
            if set(CONTROLLERS) <= set(_read(base / "cgroup.controllers").split()):
                return 2, {c: base for c in CONTROLLERS}
    return None


@dataclass(frozen=True)
class ControlGroup:
    """A control group made for one child: limits set, entered by the child before exec."""

    version: int
    folders: dict[str, Path]  # controller -> this group's folder (the same folder twice in v2)

    def enter(self) -> None:
        """Move the calling process into the group (runs in the child between fork and exec)."""
        for folder in dict.fromkeys(self.folders.values()):
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in set(self.folders.values()):
            pids.update(int(p) for p in _read(folder / "cgroup.procs").split())
        return sorted(pids)

    def refused_processes(self) -> int:
        """How many times a new process was refused because of the process limit."""
        return _counter(_read(self.folders["pids"] / "pids.events"), "max")

    def out_of_memory_kills(self) -> int:
        return _counter(_read(self.folders["memory"] / _OOM_EVENT_FILES[self.version]), "oom_kill")

    def peak_memory_mb(self) -> float | None:
        text = _read(self.folders["memory"] / _PEAK_FILES[self.version]).strip()
        return round(int(text) / 2**20, 1) if text.isdigit() else None

    def peak_processes(self) -> int | None:
        """Most processes and threads at once (kernels since 6.1 keep this count)."""
        text = _read(self.folders["pids"] / "pids.peak").strip()
        return int(text) if text.isdigit() else None

    def kill_all(self) -> None:
        """Stop every process left in the group, including ones that left their process group."""
        kill_file = self.folders["pids"] / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            kill_file.write_text("1")
        for _ in range(200):  # v1: processes may still be forking while we kill; repeat until empty
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for folder in set(self.folders.values()):
            for _ in range(100):  # a group can be removed only once its last process is reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def create_group(name: str, limits: TreeLimits) -> ControlGroup | None:
    """A new control group with these limits under this process's own groups, or None where
    this machine does not let this process make one (then use :func:`fallback_limits`)."""
    found = group_parents()
    if not found:
        return None
    version, parents = found
    _remove_orphans(version, parents)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] + "-" + uuid.uuid4().hex[:8]
    folders = {c: parent / f"grader-{os.getpid()}-{safe}" for c, parent in parents.items()}
    made: list[Path] = []
    try:
        for folder in dict.fromkeys(folders.values()):
            if version == 2:
                _enable_controllers(folder.parent)
            folder.mkdir()
            made.append(folder)
        group = ControlGroup(version, folders)
        memory = int(limits.memory_mb * 2**20)
        (folders["pids"] / "pids.max").write_text(str(limits.max_processes))
        (folders["memory"] / _MEMORY_LIMIT_FILES[version]).write_text(str(memory))
        swap = folders["memory"] / _SWAP_LIMIT_FILES[version]
        if swap.exists():  # no escape into swap: v1 counts memory+swap, v2 counts swap alone
            swap.write_text(str(memory) if version == 1 else "0")
        return group
    except OSError:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                pass
        return None


def _remove_orphans(version: int, parents: dict[str, Path]) -> None:
    """Remove groups whose maker is gone (a batch killed with SIGKILL cannot remove its own)."""
    for parent in parents.values():
        for folder in parent.glob("grader-*-*"):
            maker = folder.name.split("-")[1]
            if maker.isdigit() and not process_alive(int(maker)):
                ControlGroup(version, {c: folder for c in CONTROLLERS}).remove()


def _enable_controllers(parent: Path) -> None:
    """cgroup v2 offers a controller to child groups only once the parent enables it."""
    control = parent / "cgroup.subtree_control"
    enabled = set(_read(control).split())
    missing = [c for c in CONTROLLERS if c not in enabled]
    if missing:
        control.write_text(" ".join(f"+{c}" for c in missing))


def describe() -> str:
    """One line for reports: how children are held to their process and memory limits."""
    probe = create_group("probe", TreeLimits(max_processes=64, memory_mb=64))
    if probe:
        probe.remove()
        return f"on (control groups v{probe.version}: process and memory limits cover everything a child starts)"
    if os.geteuid() == 0:
        return (
            "PARTLY: no control groups here and RLIMIT_NPROC does not bind root, so a fork bomb is not stopped; "
            "memory is watched (resident memory of the child's processes)"
        )
    return "PARTLY: no control groups here; RLIMIT_NPROC caps processes, memory is watched (resident memory)"


def fallback_process_limit(max_processes: int) -> None:
    """Without control groups: cap this user's processes (binds every user but root).

    RLIMIT_NPROC counts all of the user's processes, so the cap is what the user runs
    now (besides this child) plus the child's allowance. Runs in the child between fork and exec.
    """
    import resource

    if os.geteuid() == 0:
        return
    running = sum(1 for entry in os.listdir("/proc") if entry.isdigit() and _owned(entry))
    cap = running - 1 + max_processes
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


def _owned(pid: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}").st_uid == os.getuid()
    except OSError:
        return False


class MemoryWatch(threading.Thread):
    """Kills a process and its children when together they hold more than ``limit_mb``
    (where control groups cannot do it, and for the kernel's own friendlier limit).

    Resident sizes are summed each poll (cheap); forked children share pages, so past the
    limit the proportional set size, which counts each shared page once, decides (slow)."""

    def __init__(self, pid: int, limit_mb: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.limit_mb = pid, limit_mb
        self.peak_mb = 0.0
        self.killed = False
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            process = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stopped.wait(0.25):
            try:
                family = [process] + process.children(recursive=True)
            except psutil.Error:
                return  # the watched process has ended
            held = sum(_size(p, "rss") for p in family) / 2**20
            if held > self.limit_mb and len(family) > 1:
                held = sum(_size(p, "pss") for p in family) / 2**20
            self.peak_mb = max(self.peak_mb, held)
            if held > self.limit_mb:
                self.killed = True
                for p in family:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                return


def _size(process, kind: str) -> int:
    import psutil

    try:
        info = process.memory_info() if kind == "rss" else process.memory_full_info()
        return getattr(info, kind)
    except psutil.Error:  # ended between listing and measuring
        return 0
