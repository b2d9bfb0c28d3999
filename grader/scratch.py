"""Scratch folders named by the process that made them, so that the next run can remove what
a killed one left behind (a grader stopped with SIGKILL cannot clean up after itself)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

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
