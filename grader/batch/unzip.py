"""Extracting a class's zip: entry by entry, streamed, within size and compression limits.

A zip bomb, a damaged entry, a link or a path leaving the folder is refused for its student
only (who gets a row saying why); each zip is extracted once per content, to its own folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from grader.batch.submissions import shown
from grader.digest import CHUNK, sha256_of
from grader.errors import BatchError

ZIP_ENTRY_MB = 200  # one entry, uncompressed (a notebook with its outputs is a few MB)
ZIP_TOTAL_MB = 4096  # the whole zip, uncompressed
ZIP_RATIO = 100  # compression ratio refused for entries bigger than ZIP_RATIO_ABOVE_MB (zip bombs: 1000:1)
ZIP_RATIO_ABOVE_MB = 10
MB = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """What extracting one zip may write: beyond these an entry is refused, never expanded."""

    entry_mb: float = ZIP_ENTRY_MB
    total_mb: float = ZIP_TOTAL_MB
    ratio: float = ZIP_RATIO
    ratio_above_mb: float = ZIP_RATIO_ABOVE_MB


@dataclass(frozen=True)
class Unpacked:
    """Where the submissions are, and the zip entries that were not extracted (name, why)."""

    folder: Path
    refused: tuple[tuple[str, str], ...] = ()
    note: str = ""  # for the summary: which zip, its hash, where it was extracted, with which limits


class _Refused(Exception):
    """One zip entry not extracted; the message names it and says why."""


def _entry_parts(member: zipfile.ZipInfo, name: str) -> list[str]:
    """The path components an entry is written to, or _Refused if it would leave the folder,
    is a link or a device, or is not a plain name."""
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise _Refused(f"{shown(name)}: its path is absolute; it was not extracted")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _Refused(f"{shown(name)}: its path leaves the folder it is extracted to; it was not extracted")
    if "\0" in name:
        raise _Refused(f"{shown(name)}: its name holds a NUL character; it was not extracted")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _Refused(f"{shown(name)} is a symbolic link; it was not extracted")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _Refused(f"{shown(name)} is not a regular file; it was not extracted")
    return parts


def _bounded_copy(source: BinaryIO, sink: BinaryIO, check: Callable[[int], None]) -> int:
    """Copy in chunks, checking the bytes really written so far (a header's size can lie)."""
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        check(written)
        sink.write(chunk)
    return written


def _extract_entry(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    name: str,
    dest: Path,
    limits: ZipLimits,
    budget: int,
    archive_size: int,
) -> int:
    """Write one entry to ``dest`` within the limits; returns its size. A refused entry leaves nothing."""
    # Compressed bytes cannot exceed the archive, whatever the header claims.
    compressed = max(1, min(member.compress_size, archive_size))

    def check(size: int) -> None:
        ratio = size / compressed
        if size > limits.entry_mb * MB:
            raise _Refused(
                f"{shown(name)} expands to more than {limits.entry_mb:g} MB "
                f"(compression {ratio:.0f}:1); it was not extracted"
            )
        if size > limits.ratio_above_mb * MB and ratio > limits.ratio:
            raise _Refused(
                f"{shown(name)} expands to {size / MB:.0f} MB or more from {compressed / MB:.2f} MB "
                f"(compression {ratio:.0f}:1, more than the {limits.ratio:g}:1 allowed above "
                f"{limits.ratio_above_mb:g} MB); it was not extracted"
            )
        if size > budget:
            raise _Refused(
                f"{shown(name)} would take the extracted zip past {limits.total_mb:g} MB in all; it was not extracted"
            )

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
            raise _Refused(f"{shown(name)} is damaged in the zip ({exc}); it was not extracted") from None
        if isinstance(exc, (RuntimeError, NotImplementedError)):  # encrypted, unknown compression
            raise _Refused(f"{shown(name)} cannot be read ({exc}); it was not extracted") from None
        if isinstance(exc, OSError):
            raise _Refused(
                f"{shown(name)} could not be written ({exc.strerror or exc}); it was not extracted"
            ) from None
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
                refused.append(
                    (name, f"{shown(name)} could not be written ({exc.strerror or exc}); it was not extracted")
                )
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
    digest = sha256_of(source)
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
    note = (
        f"submissions: {source} (sha256 {digest[:16]}...), extracted to {done / 'submissions'}; "
        f"zip limits {limits.entry_mb:g} MB per entry, {limits.total_mb:g} MB in all, "
        f"{limits.ratio:g}:1 compression above {limits.ratio_above_mb:g} MB"
    )
    return Unpacked(done / "submissions", tuple((n, m) for n, m in previous["refused"]), note)
