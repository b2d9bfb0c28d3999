"""The one way the grader hashes a file: SHA-256, read in chunks.

A submission is graded again when its hash changes, an extraction is kept under its zip's
hash, and the prepared data and the saved model are refused when theirs is not the one
recorded. Standard library only, so that any process (the measuring one included) can use it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.errors import DataIntegrityError

CHUNK = 1 << 20  # bytes read, hashed or written at once: memory stays flat whatever a file's size


def sha256_of(path: Path | str) -> str:
    """The file's SHA-256 in hex (a student's file can be as large as the zip limits allow)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_unchanged(path: Path | str, sha256: str, refusal: str) -> bytes:
    """The file's bytes, checked against the SHA-256 recorded for it: the very bytes then used
    are checked, so a file swapped in after a check of its own cannot slip through. Raises
    :class:`DataIntegrityError` with ``refusal`` when they differ."""
    content = Path(path).read_bytes()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise DataIntegrityError(refusal)
    return content
