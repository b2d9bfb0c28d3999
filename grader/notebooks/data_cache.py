"""Served and held-out MNIST files, prepared once per data setting and kept on disk.

Preparing the split takes seconds; a batch grades hundreds of notebooks. The files are
written to a temporary folder and renamed into place, so a half-written cache is never
used, even when several graders start at once.

The grader measures with these files, so nothing a notebook does may change them: the
SHA-256 of each is recorded in ``meta.json`` when the cache is made and checked whenever
it is used. A cache whose files no longer match is moved aside and made again; data that
changed while a notebook ran is never used (the measuring process checks what it reads).
The kernel itself never sees the cache: it runs in a sandbox that hides it, and is given
the served file alone (see :mod:`grader.notebooks.isolation`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import paths
from grader.digest import read_unchanged, sha256_of
from grader.errors import AssignmentError, DataIntegrityError
from grader.notebooks import likeness, mnist_data
from grader.notebooks.assignment import Assignment
from grader.notebooks.kernel_trace import image_prints

CACHE_VERSION = 5  # part of the cache key: older caches (without checksums or image prints) are not reused


@dataclass(frozen=True)
class PreparedData:
    served: Path
    heldout: Path
    fingerprints: frozenset[str]
    description: str
    full: bool
    # prints of the held-out images no served image resembles, an (n, 32) byte array
    heldout_prints: Any = field(default_factory=lambda: likeness.as_array(()))
    served_sha256: str = ""
    heldout_sha256: str = ""

    def heldout_leak(self, trained_prints: Iterable[str]) -> int:
        """How many held-out images were given to fit (training or validation), whatever the
        preprocessing, noise or shift: a notebook can only have them from outside the served
        data. Counts below chance level (``likeness.is_leak``) are returned as 0."""
        matched = int(likeness.near(self.heldout_prints, likeness.as_array(set(trained_prints))).sum())
        return matched if likeness.is_leak(matched, len(self.heldout_prints)) else 0

    def check_served(self) -> None:
        """Refuse to serve a served file that changed since it was prepared."""
        if sha256_of(self.served) != self.served_sha256:
            raise DataIntegrityError(self._served_changed)

    def copy_served(self, destination: Path) -> None:
        """A private copy of the served file, checked as it is copied (where no sandbox keeps
        the notebook from writing files, each run gets its own copy to spoil)."""
        destination.write_bytes(read_unchanged(self.served, self.served_sha256, self._served_changed))

    @property
    def _served_changed(self) -> str:
        return f"{self.served} changed since the grader prepared it"

    def discard(self) -> None:
        """Move a cache that was found changed out of the way, so the next run makes it again."""
        folder = self.served.parent
        if folder.parent == paths.data_cache_dir() and folder.exists():
            _set_aside(folder)


def prepare_data(assignment: Assignment) -> PreparedData:
    """Served and held-out files for this assignment's data settings, cached on disk and
    checked against their recorded SHA-256 (a changed cache is made again)."""
    keras_mnist = paths.keras_mnist()
    source = assignment.npz or (str(keras_mnist) if keras_mnist.exists() else "bundled")
    key = hashlib.sha1(
        json.dumps(
            [source, assignment.heldout_per_class, assignment.heldout_per_class_full, assignment.mnist_sizes]
            + [CACHE_VERSION]
        ).encode()
    ).hexdigest()[:12]
    folder = paths.data_cache_dir() / f"mnist-{key}"
    meta = _checked_meta(folder)
    if meta is None:
        _build(folder, assignment)
        meta = _checked_meta(folder)
    if meta is None:
        raise DataIntegrityError(
            f"{folder}: the grader's prepared data changed again as soon as it was made; "
            "something on this machine is writing to the grader's cache"
        )
    heldout, description = folder / "heldout.npz", meta["description"]
    heldout_sha256 = meta["sha256"]["heldout.npz"]
    if assignment.private_test:
        heldout = Path(assignment.private_test)
        count = _check_private_test(heldout)
        heldout_sha256 = sha256_of(heldout)
        description = (
            description.split("; measured on")[0]
            + f"; measured on the instructor's private test set ({heldout}, {count:,} images)."
        )
    return PreparedData(
        folder / "served.npz",
        heldout,
        frozenset(meta["fingerprints"]),
        description,
        meta["full"],
        _heldout_prints(heldout, meta["served_prints"]),
        meta["sha256"]["served.npz"],
        heldout_sha256,
    )


def _checked_meta(folder: Path) -> dict | None:
    """The cache's meta.json if its files are those it records; a cache that is not (or
    records no checksums) is moved aside and None returned, so that it is made again."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        meta = {}
    sums = meta.get("sha256") if isinstance(meta, dict) else None
    try:
        intact = isinstance(sums, dict) and all(
            sha256_of(folder / name) == sums.get(name) for name in ("served.npz", "heldout.npz")
        )
    except OSError:
        intact = False
    if not intact:
        _set_aside(folder)
        return None
    return meta


def _build(folder: Path, assignment: Assignment) -> None:
    """Make the cache in a temporary folder and rename it into place (atomic)."""
    split = mnist_data.prepare(
        assignment.npz,
        heldout_per_class=assignment.heldout_per_class,
        heldout_per_class_full=assignment.heldout_per_class_full,
        mnist_sizes=assignment.mnist_sizes,
    )
    tmp = Path(tempfile.mkdtemp(dir=_ensure(folder.parent)))
    mnist_data.save_served(split, tmp / "served.npz")
    mnist_data.save_heldout(split, tmp / "heldout.npz")
    prints = sorted(
        {mnist_data.fingerprint(i) for i in split.train.images} | {mnist_data.fingerprint(i) for i in split.test.images}
    )
    served_prints = sorted(set(image_prints(split.train.images)) | set(image_prints(split.test.images)))
    sums = {name: sha256_of(tmp / name) for name in ("served.npz", "heldout.npz")}
    (tmp / "meta.json").write_text(
        json.dumps(
            {
                "description": mnist_data.describe(split),
                "full": split.full,
                "fingerprints": prints,
                "served_prints": served_prints,
                "sha256": sums,
            }
        )
    )
    for name in ("served.npz", "heldout.npz", "meta.json"):
        (tmp / name).chmod(0o600)  # only this user (a defence where permissions bind: not for root)
    try:
        tmp.rename(folder)  # atomic: a half-written cache is never used
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race


def _set_aside(folder: Path) -> None:
    """Rename a changed cache out of the way (atomic, so concurrent graders never read half
    of it), then remove it."""
    aside = folder.with_name(f"{folder.name}.changed-{uuid.uuid4().hex[:8]}")
    try:
        folder.rename(aside)
    except OSError:
        return  # another grader moved it first
    shutil.rmtree(aside, ignore_errors=True)


def _heldout_prints(heldout: Path, served_prints: list[str]) -> Any:
    """Prints of the images the grader measures on, less any that a served image resembles
    (MNIST has near-copies): training on what was served is never held against anyone."""
    import numpy as np

    with np.load(heldout) as data:
        prints = likeness.as_array(image_prints(data["x"]))
    return prints[~likeness.near(prints, likeness.as_array(served_prints))]


def _check_private_test(path: Path) -> int:
    """Number of images in an instructor's test file; refuse a file the measurer cannot use."""
    import numpy as np

    try:
        with np.load(path) as data:
            x, y = data["x"], data["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise AssignmentError(f"{path}: the private test set must be an .npz with arrays x and y ({exc})") from None
    if x.shape[1:] != (28, 28) or len(x) != len(y):
        raise AssignmentError(f"{path}: x must be (n, 28, 28) raw pixels and y n labels; got {x.shape} and {y.shape}")
    return len(y)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
