"""The one way the grader replaces a file: a reader, or a grader killed at any moment, sees
the old file or the new one, never half of one.

The text goes to a uniquely named temporary file in the same folder (threads of the review
server and a batch's workers may write at once), is flushed to disk, then moved in place.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any


def _replace(path: Path, write: Callable[[IO[Any]], None], newline: str | None = None, binary: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        opened = os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8", newline=newline)
        with opened as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` (UTF-8) in one step."""
    _replace(path, lambda stream: stream.write(text))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one step."""
    _replace(path, lambda stream: stream.write(data), binary=True)


def write_csv_atomically(path: Path, rows: Iterable[Iterable[Any]]) -> None:
    """Replace ``path`` by a CSV table in one step."""
    _replace(path, lambda stream: csv.writer(stream).writerows(rows), newline="")
