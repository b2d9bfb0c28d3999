"""Where the grader's prepared data and Keras's downloads live, worked out in one place.

The grader that prepares the data, the sandbox that hides it from a kernel and the batch
child that reads it must name the same folders, or a child would prepare its own copy or
find an MNIST file nobody hid. Standard library only, so that any process can ask cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_CACHE_NAME = "cnn-homework-grader"


def user_home() -> Path:
    return Path(os.path.expanduser("~"))


def xdg_cache_home() -> Path:
    """``$XDG_CACHE_HOME``, or ``~/.cache`` where it is unset or empty (as the XDG spec says)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or user_home() / ".cache")


def data_cache_dir() -> Path:
    """The folder of every prepared data setting (``$XDG_CACHE_HOME/cnn-homework-grader``)."""
    return xdg_cache_home() / DATA_CACHE_NAME


def data_cache_dirs() -> list[Path]:
    """Every folder this user's graders keep data in (this one's, and the default one when
    $XDG_CACHE_HOME points elsewhere): all are hidden from a notebook's kernel."""
    return list(dict.fromkeys([data_cache_dir(), user_home() / ".cache" / DATA_CACHE_NAME]))


def keras_home() -> Path:
    """Keras's own folder (``$KERAS_HOME``, else ``~/.keras``): its cached datasets and weights."""
    return Path(os.environ.get("KERAS_HOME") or user_home() / ".keras")


def keras_mnist() -> Path:
    """Where Keras caches the full MNIST (``mnist.load_data()`` downloads it there)."""
    return keras_home() / "datasets" / "mnist.npz"
