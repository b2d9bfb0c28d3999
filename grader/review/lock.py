"""Locks on a batch output folder's review, so that no instructor's decision is lost.

Two ``grader review`` servers on one folder would each answer "saved" while one overwrote the
other's decisions. So a server holds ``OUT/review/server.lock`` for its whole life and a second
one is refused (:class:`ServerLock`), and every read-change-write of a decisions file happens
under ``OUT/review/decisions.lock`` (:func:`exclusive`), so that even two writers that bypass
the server (a script using :class:`grader.review.decisions.Decisions`) keep every decision.

Both are ``flock`` locks, not files whose existence is the lock: the kernel drops them when
the process ends, however it ends, so a crashed server never blocks the next one. The lock
file stays; its content (the holder's process id and address) is only for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.errors import GraderError

SERVER_LOCK = Path("review") / "server.lock"
DECISIONS_LOCK = Path("review") / "decisions.lock"


class ReviewLockError(GraderError):
    """OUT is already served by another ``grader review``."""


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block, waiting for
    any other holder (in this process or another) to finish."""
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


class ServerLock:
    """The one ``grader review`` serving ``out``: :meth:`acquire` it before writing anything
    there, :meth:`release` it (or leave the ``with`` block, or end the process) when done."""

    def __init__(self, out: Path, fd: int) -> None:
        self.out, self._fd = out, fd

    @classmethod
    def acquire(cls, out: Path, host: str | None = None, port: int | None = None) -> ServerLock:
        """Hold ``out``'s server lock, or raise :class:`ReviewLockError` naming the holder."""
        path = out / SERVER_LOCK
        try:
            fd = _open(path)
        except OSError as exc:
            raise ReviewLockError(f"{out}: cannot create {path} ({exc.strerror}): the review writes there") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ReviewLockError(
                f"{out} is already being reviewed by {_holder(path)}: use that one, or stop it first"
            ) from None
        holder = {"pid": os.getpid(), "host": host, "port": port}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        return cls(out, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ServerLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _holder(path: Path) -> str:
    """The other server as its lock file names it (it may not have written itself in yet)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        pid = int(holder["pid"])
    except (OSError, ValueError, TypeError, KeyError):
        return "another `grader review` (process id unknown)"
    where = f", http://{holder['host']}:{holder['port']}/" if holder.get("host") and holder.get("port") else ""
    return f"another `grader review` (process {pid}{where})"
