"""The pictures on feedback pages and the class report, drawn with matplotlib (Agg) and
embedded as PNG data URIs, so a page is one file. Each function returns None when there
is nothing to draw. Labels that come from a notebook (metric names) are drawn as text in
the picture, never inserted into the page as markup."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from typing import Any

PHASE_COLOURS = ("#2f5fb3", "#d9822b", "#1b7f3b", "#8e44ad", "#b3261e", "#16a085")
PHASE_MARKERS = ("o", "^", "s", "D", "v", "P")  # one per fit call, so phases differ without colour


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _data_uri(fig: Any) -> str:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def confusion(labels: Sequence[int], matrix: Sequence[Sequence[int]]) -> str | None:
    """Rows: the true digit; columns: what the model said. The diagonal is what it got right."""
    if not labels or not matrix:
        return None
    import numpy as np

    plt = _pyplot()
    counts = np.asarray(matrix)
    size = max(3.2, 0.42 * len(labels) + 1.4)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)), [str(d) for d in labels])
    ax.set_yticks(range(len(labels)), [str(d) for d in labels])
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        if value:
            ax.text(
                col,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > threshold else ("#b3261e" if row != col else "#1d2430"),
            )
    ax.set_title("Held-out digits: true vs predicted", fontsize=10)
    return _data_uri(fig)


def mistakes(items: Sequence[dict[str, Any]], columns: int = 8) -> str | None:
    """Thumbnails of the wrong answers, most confident first, with true and predicted digit."""
    if not items:
        return None
    import numpy as np

    plt = _pyplot()
    rows = (len(items) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.95, rows * 1.15), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, item in zip(axes.flat, items):
        pixels = (
            np.frombuffer(base64.b64decode(item["pixels"]), dtype=np.uint8).reshape(28, 28)
            if item.get("pixels")
            else np.zeros((28, 28), np.uint8)
        )
        ax.imshow(pixels, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{item['true']}→{item['predicted']}\n{item['confidence']:.0%}", fontsize=8, color="#b3261e")
    fig.subplots_adjust(wspace=0.15, hspace=0.6)
    return _data_uri(fig)


def _metric_pairs(history: dict[str, list[float]]) -> list[str]:
    """Metrics to plot: loss first, then accuracy-like metrics (their validation twins follow)."""
    names = [n for n in history if not n.startswith("val_")]
    ordered = sorted(names, key=lambda n: (n != "loss", "acc" not in n, n))
    return ordered[:2]


def curve_metrics(fits: Sequence[dict[str, Any]]) -> list[str]:
    """The (at most two) metrics the training curves show."""
    metrics: list[str] = []
    for fit in fits:
        for name in _metric_pairs(fit.get("history") or {}):
            if name not in metrics:
                metrics.append(name)
    return metrics[:2]


def training_curves(fits: Sequence[dict[str, Any]]) -> str | None:
    """Loss and accuracy per epoch over all fit calls in order, so that "frozen, then
    unfrozen" shows as two phases: each call its own colour and marker, training a solid line
    with filled markers, validation a dashed one with hollow markers (told apart without colour)."""
    histories = [f.get("history") or {} for f in fits]
    if not any(histories):
        return None
    metrics = curve_metrics(fits)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.1), squeeze=False)
    start = 0
    for number, (fit, history) in enumerate(zip(fits, histories), 1):
        colour = PHASE_COLOURS[(number - 1) % len(PHASE_COLOURS)]
        marker = PHASE_MARKERS[(number - 1) % len(PHASE_MARKERS)]
        epochs = max((len(v) for v in history.values()), default=0)
        xs = list(range(start + 1, start + epochs + 1))
        phase = f"fit {number}" + (f" ({fit['frozen_params']:,} parameters frozen)" if fit.get("frozen_params") else "")
        for ax, metric in zip(axes.flat, metrics):
            if history.get(metric):
                ax.plot(
                    xs[: len(history[metric])],
                    history[metric],
                    color=colour,
                    marker=marker,
                    ms=4,
                    label=f"{phase}: training",
                )
            if history.get(f"val_{metric}"):
                ax.plot(
                    xs[: len(history[f"val_{metric}"])],
                    history[f"val_{metric}"],
                    color=colour,
                    ls="--",
                    marker=marker,
                    ms=4,
                    mfc="white",
                    label=f"{phase}: validation",
                )
        start += epochs
    for ax, metric in zip(axes.flat, metrics):
        ax.set_xlabel("epoch (all fit calls in order)")
        ax.set_title(metric, fontsize=10)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        rows = (len(handles) + 1) // 2
        fig.tight_layout(rect=(0, 0.07 * rows + 0.02, 1, 1))
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    return _data_uri(fig)


def images_per_class(counts: dict[str, int], minimum: int | None = None) -> str | None:
    """Training images per class, with the assignment's minimum as a line."""
    if not counts:
        return None
    plt = _pyplot()
    labels = sorted(counts, key=lambda k: (len(k), k))
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    low = [minimum is not None and counts[k] < minimum for k in labels]
    ax.bar(labels, [counts[k] for k in labels], color=["#b3261e" if bad else "#2f5fb3" for bad in low])
    if minimum:
        ax.axhline(minimum, color="#a86400", ls="--", lw=1)
        ax.annotate(
            f"minimum {minimum}",
            (0, minimum),
            xycoords=("axes fraction", "data"),
            xytext=(2, 2),
            textcoords="offset points",
            va="bottom",
            ha="left",
            fontsize=8,
            color="#a86400",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
    ax.set_xlabel("class (label given to fit)")
    ax.set_ylabel("training images")
    ax.set_title("Images per class", fontsize=10)
    return _data_uri(fig)


def parameters_per_fit(fits: Sequence[dict[str, Any]]) -> str | None:
    """Frozen and trainable parameters at each fit call."""
    if not fits:
        return None
    plt = _pyplot()
    names = [f"fit {i}" for i in range(1, len(fits) + 1)]
    frozen = [f.get("frozen_params", 0) for f in fits]
    trainable = [f.get("trainable_params", 0) for f in fits]
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    ax.bar(names, frozen, color="#9aa5b5", label="frozen")
    ax.bar(names, trainable, bottom=frozen, color="#2f5fb3", label="trainable")
    ax.set_ylabel("parameters")
    ax.set_title("Frozen and trainable parameters per fit", fontsize=10)
    ax.legend(fontsize=8)
    return _data_uri(fig)


def histogram(
    values: Iterable[float], title: str, xlabel: str, bins: int = 10, value_range: tuple[float, float] | None = None
) -> str | None:
    """A distribution (scores, accuracies) for the class report."""
    data = [v for v in values if v is not None]
    if not data:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.8))
    ax.hist(data, bins=bins, range=value_range, color="#2f5fb3", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("students")
    ax.set_title(title, fontsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _data_uri(fig)


def bars(counts: dict[str, int], title: str, xlabel: str = "") -> str | None:
    """Counts per category (statuses) for the class report."""
    if not counts:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 2.8))
    names = list(counts)
    ax.barh(names[::-1], [counts[n] for n in names[::-1]], color="#2f5fb3")
    ax.set_xlabel(xlabel or "students")
    ax.set_title(title, fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _data_uri(fig)
