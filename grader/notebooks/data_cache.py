"""Served and held-out MNIST files, prepared once per data setting and kept on disk.

Preparing the split takes seconds; a batch grades hundreds of notebooks. The files are
written to a temporary folder and renamed into place, so a half-written cache is never
used, even when several graders start at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.notebooks import mnist_data
from grader.notebooks.assignment import Assignment, AssignmentError
from grader.notebooks.kernel_trace import rank_hashes


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cnn-homework-grader"


@dataclass(frozen=True)
class PreparedData:
    served: Path
    heldout: Path
    fingerprints: frozenset[str]
    description: str
    full: bool
    heldout_ranks: frozenset[str] = frozenset()  # rank hashes of held-out images no served image shares

    def heldout_leak(self, trained_ranks: set[str]) -> int:
        """How many held-out images were given to fit (training or validation), whatever
        the preprocessing: a notebook can only have them from outside the served data."""
        return len(self.heldout_ranks & trained_ranks)


def prepare_data(assignment: Assignment) -> PreparedData:
    """Served and held-out files for this assignment's data settings, cached on disk."""
    source = assignment.npz or (str(mnist_data.KERAS_CACHE) if mnist_data.KERAS_CACHE.exists() else "bundled")
    key = hashlib.sha1(json.dumps([source, assignment.heldout_per_class, assignment.mnist_sizes, 3]).encode()).hexdigest()[:12]
    folder = _cache_dir() / f"mnist-{key}"
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        split = mnist_data.prepare(assignment.npz, heldout_per_class=assignment.heldout_per_class,
                                   mnist_sizes=assignment.mnist_sizes)
        tmp = Path(tempfile.mkdtemp(dir=_ensure(folder.parent)))
        mnist_data.save_served(split, tmp / "served.npz")
        mnist_data.save_heldout(split, tmp / "heldout.npz")
        prints = sorted({mnist_data.fingerprint(i) for i in split.train.images} |
                        {mnist_data.fingerprint(i) for i in split.test.images})
        served_ranks = sorted(set(rank_hashes(split.train.images)) | set(rank_hashes(split.test.images)))
        (tmp / "meta.json").write_text(json.dumps({"description": mnist_data.describe(split),
                                                   "full": split.full, "fingerprints": prints,
                                                   "served_ranks": served_ranks}))
        try:
            tmp.rename(folder)  # atomic: a half-written cache is never used
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    meta = json.loads(meta_path.read_text())
    heldout, description = folder / "heldout.npz", meta["description"]
    if assignment.private_test:
        heldout = Path(assignment.private_test)
        count = _check_private_test(heldout)
        description = description.split("; measured on")[0] + f"; measured on the instructor's private test set ({heldout}, {count:,} images)."
    return PreparedData(folder / "served.npz", heldout, frozenset(meta["fingerprints"]), description, meta["full"],
                        _heldout_ranks(heldout, set(meta["served_ranks"])))


def _heldout_ranks(heldout: Path, served_ranks: set[str]) -> frozenset[str]:
    """Rank hashes of the images the grader measures on, less any that a served image shares
    (MNIST has a few near-copies): training on what was served is never held against anyone."""
    import numpy as np

    with np.load(heldout) as data:
        return frozenset(set(rank_hashes(data["x"])) - served_ranks)


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
