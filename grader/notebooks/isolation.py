"""Keeping a notebook's kernel away from everything but its own scratch folder.

Nothing a submission does may change a grade but its own. Where bubblewrap works, the
kernel runs in a sandbox (:mod:`grader.isolation.sandbox`): the machine read-only, the grader's data
cache and the MNIST source files hidden, an empty /tmp of its own, no network, its own
process ids (everything it starts ends with it), and only its scratch folder writable. The
served data is bound read-only at the one path the kernel is told. Where the grader may
make control groups, the kernel and all it starts also run in one, which caps their
processes and memory and is emptied when the notebook ends.

Without bubblewrap the kernel runs as this user with this user's rights (as root,
permissions bind nothing): it gets a private copy of the served file, the measuring
process still refuses held-out data that changed, and the result says that the run was
not isolated.
"""

from __future__ import annotations

import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from grader import paths
from grader.isolation.process_limits import DEFAULT_MAX_PROCESSES, ControlGroup, TreeLimits, create_group
from grader.isolation.sandbox import find_bwrap, sandbox_prefix, why_no_bwrap
from grader.notebooks import mnist_data
from grader.notebooks.data_cache import PreparedData
from grader.scratch import scratch_prefix

GROUP_MARGIN_MB = 1024  # the kernel's own memory watch stops it first, with a clearer message
SOCKET_PATH_MAX = 90  # a Unix socket's path must fit in 108 bytes, with the port appended


@dataclass(frozen=True)
class RunFolders:
    """One grading's temporary folders: the kernel's (writable by it) and the grader's own."""

    root: Path

    @property
    def kernel(self) -> Path:
        return self.root / "kernel"

    @property
    def work(self) -> Path:
        """The scratch copy of the notebook's folder: the kernel's working directory."""
        return self.kernel / "work"

    @property
    def out(self) -> Path:
        """Where the hidden finish cell saves the model."""
        return self.kernel / "grader"

    @property
    def served(self) -> Path:
        """The path the kernel's ``load_data()`` reads."""
        return self.kernel / "data" / "mnist.npz"

    @property
    def grader(self) -> Path:
        """Out of the kernel's reach: the checked copy of the model, the measurement."""
        return self.root / "grader"

    def make(self) -> None:
        for folder in (self.out, self.served.parent, self.kernel / "home", self.kernel / "tmp", self.grader):
            folder.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)


@dataclass
class KernelConfinement:
    """How one kernel is confined: the command prefix, its sockets, its control group and
    environment, and what to say about it."""

    prefix: list[str]
    env: dict[str, str]
    sockets: Path | None = None  # folder of the kernel's Unix sockets (it has no network to use)
    group: ControlGroup | None = None
    missing: str = ""  # why there is no sandbox
    outer: bool = False  # no sandbox of its own, but the grader itself runs in one (grader batch's)
    shared_group: bool = False  # no control group of its own: the grader's (grader batch's) holds it
    scratch: Path | None = None  # the folder the kernel may write (its size is watched while it runs)

    @property
    def isolation(self) -> str:
        """``bubblewrap+cgroup``, ``bubblewrap``, ``outer-bubblewrap`` (+``cgroup``), ``cgroup`` or ``none``."""
        sandbox = "bubblewrap" if self.prefix else "outer-bubblewrap" if self.outer else None
        grouped = self.group or self.shared_group
        return "+".join(p for p in (sandbox, "cgroup" if grouped else None) if p) or "none"

    def note(self) -> str | None:
        """A sentence for the report when the kernel was not sandboxed; None when it was (or
        shared the sandbox the grader itself runs in, which that sandbox's maker reports)."""
        if self.prefix or self.outer:
            return None
        return (
            f"This notebook ran without a sandbox ({self.missing}): its code could read and write whatever "
            "this user can, so the grader checked its data before measuring but cannot rule out other "
            "interference"
            + (
                ""
                if self.group or self.shared_group
                else ", and processes it started in the background may have outlived it"
            )
            + ". Install bubblewrap (scripts/install-sandbox.sh) to "
            "grade in isolation."
        )

    def start_options(self) -> dict[str, object]:
        """Keyword arguments for starting the kernel: its environment, and joining the control
        group between fork and exec (so that everything it starts is in the group too)."""
        return {"env": self.env, **({"preexec_fn": self.group.enter} if self.group else {})}

    def out_of_memory(self) -> bool:
        """Whether the control group's memory limit stopped one of the kernel's processes."""
        return bool(self.group and self.group.out_of_memory_kills())

    def close(self, kernel_pid: int | None) -> None:
        """Stop everything the notebook started (a sandbox's process ids end with it anyway),
        and remove a socket folder made outside the scratch folder."""
        if self.group:
            self.group.remove()
        elif kernel_pid and not self.prefix and not self.shared_group:
            _kill_session(kernel_pid)
        if self.sockets and self.sockets.name.startswith("grader-ipc-"):
            shutil.rmtree(self.sockets, ignore_errors=True)


def confine(
    folders: RunFolders, data: PreparedData | None, hidden: list[Path], memory_mb: float, env: dict[str, str]
) -> KernelConfinement:
    """The confinement for a kernel about to run in ``folders``: sandboxed where bubblewrap
    works, in a control group where one can be made. ``data`` is what the kernel is served
    (checked first: raises DataIntegrityError if it changed); ``hidden`` are files and
    folders the kernel must not see (the grader's cache, an instructor's test set)."""
    bwrap = find_bwrap()
    kernel_env = _kernel_env(folders, env)
    keras_binds = _keras_home(Path(kernel_env["KERAS_HOME"]), link=not bwrap)
    if not bwrap:
        if data is not None:
            data.copy_served(folders.served)
        return KernelConfinement(
            [],
            kernel_env,
            group=_group(memory_mb),
            missing=why_no_bwrap(),
            outer=_inside_a_sandbox(),
            shared_group=_in_a_graders_group(),
            scratch=folders.kernel,
        )
    sockets = _socket_folder(folders)
    read_only = list(keras_binds)
    if data is not None:
        data.check_served()
        folders.served.touch()  # the mount point
        read_only.append((data.served, folders.served))
    keras_mnist = paths.keras_mnist()
    if keras_mnist.is_file() and keras_binds:  # Keras's MNIST, also where the scratch home offers it
        read_only.append((Path("/dev/null"), Path(kernel_env["KERAS_HOME"]) / "datasets" / keras_mnist.name))
    writable = [folders.kernel] + ([] if sockets.is_relative_to(folders.kernel) else [sockets])
    prefix = sandbox_prefix(
        bwrap,
        writable=writable,
        read_only=read_only,
        hidden=[p for p in [*hidden, *mnist_data.source_files()] if p.is_file()],
        empty=[p for p in hidden if p.is_dir()],
        private_tmp=True,
        system_only=True,  # no home folder, no instructor's or classmate's file
        chdir=folders.work,
        # ipykernel exits when its parent seems gone; in its own process ids the
        # parent is pid 1, which it knows to be no parent to watch
        set_env={"JPY_PARENT_PID": "1"},
    )
    return KernelConfinement(
        prefix,
        kernel_env,
        sockets=sockets,
        group=_group(memory_mb),
        shared_group=_in_a_graders_group(),
        scratch=folders.kernel,
    )


def _group(memory_mb: float) -> ControlGroup | None:
    """A control group for the kernel and all it starts, where this machine lets the grader
    make one: a process cap against fork bombs, a memory cap above the kernel's own limit
    (whose watch stops it first, with a clearer message), and one place to stop them all.
    None when the grader already runs in a group a grader made for it (grader batch's): the
    kernel stays in that one, whose limits and accounting then cover it as before."""
    if _in_a_graders_group():
        return None
    return create_group("kernel", TreeLimits(DEFAULT_MAX_PROCESSES, memory_mb + GROUP_MARGIN_MB))


def _in_a_graders_group() -> bool:
    """Whether this process is in a control group made by a grader (named ``grader-...``)."""
    try:
        membership = Path("/proc/self/cgroup").read_text()
    except OSError:
        return False
    return any(
        part.startswith("grader-") for line in membership.splitlines() for part in line.split(":", 2)[-1].split("/")
    )


def _inside_a_sandbox() -> bool:
    """Whether this grader itself runs in a bubblewrap sandbox (process 1 of its process ids is
    bwrap), as ``grader batch`` runs it: a kernel started from it cannot get a sandbox of its
    own, but shares that one (no network, the machine read-only)."""
    try:
        return Path("/proc/1/comm").read_text().strip() == "bwrap"
    except OSError:
        return False


def _kernel_env(folders: RunFolders, env: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: the grader's, with its home, temporary files, Keras's home and
    the tools' own settings in the scratch folder (the instructor's home does not exist inside)."""
    home = folders.kernel / "home"
    out = dict(env)
    out.update(
        {
            "HOME": str(home),
            "TMPDIR": str(folders.kernel / "tmp"),
            "KERAS_HOME": str(home / ".keras"),
            "IPYTHONDIR": str(home / ".ipython"),
            "MPLCONFIGDIR": str(home / "matplotlib"),
        }
    )
    fonts = _matplotlib_cache(env)
    if fonts:  # a font cache saves matplotlib seconds of work at its first import
        shutil.copytree(fonts, home / "matplotlib", dirs_exist_ok=True)
    return out


def _matplotlib_cache(env: dict[str, str]) -> Path | None:
    for folder in (
        env.get("MPLCONFIGDIR"),
        paths.xdg_cache_home() / "matplotlib",
        paths.user_home() / ".cache" / "matplotlib",
    ):
        if folder and any(Path(folder).glob("fontlist-*.json")):
            return Path(folder)
    return None


def _keras_home(home: Path, link: bool) -> list[tuple[Path, Path]]:
    """A writable Keras home in the scratch folder offering what the real one holds (cached
    weights and datasets), so that Keras finds them and never writes the real one. Returns
    the read-only binds a sandbox needs; without one, symbolic links are made instead."""
    home.mkdir(parents=True, exist_ok=True)
    real = paths.keras_home()
    binds = []
    for entry in sorted(real.iterdir()) if real.is_dir() else []:
        target = home / entry.name
        if entry.name == "keras.json":
            shutil.copyfile(entry, target)
        elif link:
            target.symlink_to(entry)
        elif entry.is_dir():
            target.mkdir()
            binds.append((entry, target))
    return binds


def _socket_folder(folders: RunFolders) -> Path:
    """Where the kernel's Unix sockets go: in its scratch folder when the path is short enough."""
    sockets = folders.kernel / "ipc"
    if len(str(sockets)) > SOCKET_PATH_MAX:
        import tempfile

        sockets = Path(tempfile.mkdtemp(prefix=scratch_prefix("ipc"), dir="/tmp"))
    sockets.mkdir(exist_ok=True)
    return sockets


def _kill_session(kernel_pid: int) -> None:
    """Without a sandbox or a control group: kill every process left in the kernel's session
    (it was started in a session of its own). Processes that made their own session escape."""
    import psutil

    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and os.getsid(process.pid) == kernel_pid:
                os.kill(process.pid, signal.SIGKILL)
        except (OSError, psutil.Error):
            continue
