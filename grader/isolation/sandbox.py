"""Bubblewrap sandboxes: a command sees the machine read-only, with no network.

One command builder for everything the grader runs untrusted: a submission's grading in
``grader batch`` and a notebook's kernel in ``grader grade``. Inside, the whole file system
is read-only except the folders named writable; chosen files and folders are hidden; the
command has its own network namespace (loopback only), process ids, IPC, /dev and /proc,
no capabilities (so even as root it cannot remount or leave its control group), and dies
with the process that started it. Where bubblewrap is missing or cannot make namespaces,
:func:`find_bwrap` says so and callers run without it, and say that too.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Binding a socket on loopback works only where the network namespace was really made.
LOOPBACK_PROBE = "import socket; socket.socket().bind(('127.0.0.1', 0))"


def sandbox_prefix(
    bwrap: str,
    *,
    writable: Iterable[str | Path] = (),
    hidden: Iterable[str | Path] = (),
    empty: Iterable[str | Path] = (),
    read_only: Iterable[tuple[str | Path, str | Path]] = (),
    private_tmp: bool = False,
    tmp_size: int | None = None,
    chdir: str | Path | None = None,
    set_env: dict[str, str] | None = None,
    system_only: bool = False,
) -> list[str]:
    """The bwrap arguments that run the command after them in a sandbox.

    ``writable``: folders the command may write (bound at the same path); ``hidden``: files
    replaced by an empty one (/dev/null); ``empty``: folders replaced by an empty one (a
    tmpfs), so nothing in them can be read or changed; ``read_only``: (source, destination)
    pairs bound read-only, applied after the writable folders so that a file can be offered
    read-only inside one; ``private_tmp``: an empty /tmp of its own (a tmpfs, kept in memory),
    of at most ``tmp_size`` bytes when given (a write past it fails with ENOSPC); ``set_env``: variables
    set inside; ``system_only``: instead of the whole machine, only what a program needs to
    run (see :func:`system_view`): no home folder, no instructor's file.
    """
    args = [bwrap, *(system_view() if system_only else ["--ro-bind", "/", "/"])]
    args += ["--dev", "/dev", "--proc", "/proc"]
    if private_tmp:
        args += ["--size", str(int(tmp_size)), "--tmpfs", "/tmp"] if tmp_size else ["--tmpfs", "/tmp"]
        for folder in residents_of_tmp():
            args += ["--ro-bind", str(folder), str(folder)]
    for path in hidden:  # after /tmp is remade: a hidden file inside an environment there stays hidden
        args += ["--ro-bind", "/dev/null", str(path)]
    for folder in empty:
        args += ["--tmpfs", str(folder)]
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    for source, destination in read_only:
        args += ["--ro-bind", str(source), str(destination)]
    for name, value in (set_env or {}).items():
        args += ["--setenv", name, value]
    if chdir is not None:
        args += ["--chdir", str(chdir)]
    if system_only:  # bwrap's own root, where the mount points were made: read-only too
        args += ["--remount-ro", "/"]
    return args + [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--",
    ]


def with_tmp_size(prefix: list[str], size: int) -> list[str]:
    """A sandbox prefix whose private /tmp holds at most ``size`` bytes (a prefix without a
    private /tmp, or none at all, is returned as it is). bubblewrap before 0.7 has no
    ``--size``: its /tmp stays unbounded."""
    for index in range(len(prefix) - 1):
        if prefix[index : index + 2] == ["--tmpfs", "/tmp"]:
            if not sizes_tmpfs(prefix[0]):
                return list(prefix)
            before = prefix[:index]
            if len(before) >= 2 and before[-2] == "--size":
                before = before[:-2]
            return [*before, "--size", str(int(size)), *prefix[index:]]
    return list(prefix)


@functools.cache
def sizes_tmpfs(bwrap: str) -> bool:
    """Whether this bubblewrap can give a tmpfs a size (``--size``, bubblewrap 0.7 and later)."""
    try:
        probe = subprocess.run(
            sandbox_prefix(bwrap, private_tmp=True, tmp_size=2**20, system_only=True) + [sys.executable, "-c", ""],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


SYSTEM_FOLDERS = ("/usr", "/etc", "/sys")  # programs, libraries, settings, the processor's description


def system_view() -> list[str]:
    """bwrap arguments for a file system built from what a Python program needs, read-only:
    the system's folders (and /bin, /lib, ... where they link into /usr), and this interpreter's
    installation wherever it lives (a virtual environment, pyenv under /root). No home folder,
    no project or instructor's files: the rest of the machine does not exist inside."""
    args: list[str] = []
    for top in sorted(Path("/").iterdir()):
        if top.is_symlink() and os.readlink(top).lstrip("/").startswith("usr/"):
            args += ["--symlink", os.readlink(top), str(top)]
    for folder in SYSTEM_FOLDERS:
        if Path(folder).is_dir():
            args += ["--ro-bind", folder, folder]
    installs: list[Path] = []
    for prefix in sorted({Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}):
        if not any(prefix.is_relative_to(f) for f in (*map(Path, SYSTEM_FOLDERS), *installs)):
            installs.append(prefix)
            args += ["--ro-bind", str(prefix), str(prefix)]
    return args


def residents_of_tmp() -> list[Path]:
    """What the sandboxed command needs that may live under /tmp, where its own empty /tmp
    would hide it: the interpreter's environment (a virtual environment made in /tmp), offered
    read-only. Not this project, even from a clone in /tmp: a kernel never imports the grader,
    and an instructor's files (the course secret) may sit beside it."""
    tmp = Path(tempfile.gettempdir()).resolve()
    found: list[Path] = []
    for folder in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        path = Path(folder).resolve()
        if path.is_relative_to(Path("/tmp")) or path.is_relative_to(tmp):
            if path != Path("/tmp") and not any(path.is_relative_to(f) for f in found):
                found.append(path)
    return found


@functools.cache
def find_bwrap() -> str | None:
    """bwrap's path if it is installed and makes a working sandbox here (tried once per
    process: inside another sandbox, or without user namespaces, it cannot), else None."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return None
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as scratch:
        try:
            probe = subprocess.run(
                sandbox_prefix(bwrap, writable=[scratch], private_tmp=True, chdir=scratch)
                + [sys.executable, "-c", LOOPBACK_PROBE],
                capture_output=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    return bwrap if probe.returncode == 0 else None


def why_no_bwrap() -> str:
    """Why :func:`find_bwrap` found nothing, in a few words for reports."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    return "bubblewrap is installed but cannot make a sandbox here (inside another sandbox, or no user namespaces)"
