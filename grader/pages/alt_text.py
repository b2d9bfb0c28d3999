"""What each figure shows, in words: the alternative text of the pictures on feedback pages
and the class report, for readers who do not see them (screen readers, text browsers). Each
sentence gives the figure's point (the accuracy, the digits most often confused, where the
curves go), not its look."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def _percent(value: float) -> str:
    return f"{value:.2%}"


def confusion(labels: Sequence[int], matrix: Sequence[Sequence[int]]) -> str:
    total = sum(sum(row) for row in matrix)
    right = sum(matrix[i][i] for i in range(min(len(matrix), len(labels))))
    text = f"Confusion matrix of {total:,} held-out digits: {_percent(right / total if total else 0)} answered right."
    mistakes = [
        (count, labels[i], labels[j])
        for i, row in enumerate(matrix)
        for j, count in enumerate(row)
        if i != j and count and i < len(labels) and j < len(labels)
    ]
    if not mistakes:
        return text + " No digit was taken for another."
    count, true, said = max(mistakes, key=lambda m: (m[0], -m[1], -m[2]))
    times = "once" if count == 1 else f"{count:,} times"
    return text + f" The pair most often confused: {true} taken for {said}, {times}."


def mistakes(items: Sequence[dict[str, Any]]) -> str:
    shown = ", ".join(f"{i['true']} taken for {i['predicted']} ({i['confidence']:.0%} sure)" for i in items[:5])
    more = f", and {len(items) - 5} more" if len(items) > 5 else ""
    return f"{len(items)} held-out digits the model got wrong, the most confident first: {shown}{more}."


def _span(values: Sequence[float], name: str) -> str:
    as_percent = "acc" in name and all(0 <= v <= 1 for v in values)
    shown = [_percent(v) if as_percent else f"{v:.3g}" for v in (values[0], values[-1])]
    return f"{name.replace('val_', 'validation ').replace('_', ' ')} from {shown[0]} to {shown[1]}"


def training_curves(fits: Sequence[dict[str, Any]], metrics: Sequence[str]) -> str:
    spans = []
    for metric in metrics:
        for name in (metric, f"val_{metric}"):
            values = [v for fit in fits for v in (fit.get("history") or {}).get(name, [])]
            if values:
                spans.append(_span(values, name))
    epochs = sum(max((len(v) for v in (f.get("history") or {}).values()), default=0) for f in fits)
    calls = f"{len(fits)} fit calls" if len(fits) > 1 else "one fit call"
    return (
        f"{' and '.join(m.replace('_', ' ') for m in metrics).capitalize()} per epoch over {calls} ({epochs} epochs): "
        + "; ".join(spans)
        + ". Each fit call has its own marker; training is a solid line, validation a dashed one."
    )


def parameters_per_fit(fits: Sequence[dict[str, Any]]) -> str:
    parts = [
        f"fit {n}: {f.get('frozen_params', 0):,} frozen, {f.get('trainable_params', 0):,} trainable"
        for n, f in enumerate(fits, 1)
    ]
    return "Parameters at each fit call: " + "; ".join(parts) + "."


def images_per_class(counts: dict[str, int], minimum: int | None) -> str:
    fewest = min(counts, key=lambda k: (counts[k], k))
    most = max(counts, key=lambda k: (counts[k], k))
    text = (
        f"Training images for {len(counts)} classes: from {counts[fewest]:,} (class {fewest}) "
        f"to {counts[most]:,} (class {most})."
    )
    if minimum is None:
        return text
    below = sorted((k for k in counts if counts[k] < minimum), key=lambda k: (len(k), k))
    return text + (
        f" Below the minimum of {minimum:,}: class {', '.join(below)}." if below else f" All reach {minimum:,}."
    )


def distribution(values: Iterable[float], what: str, unit: str) -> str:
    data = [v for v in values if v is not None]
    if not data:
        return f"{what}: none."
    return (
        f"{what} of {len(data)} students: from {min(data):.3g} to {max(data):.3g} {unit}, "
        f"median {statistics.median(data):.3g}."
    )


def counts(values: dict[str, int], what: str) -> str:
    return f"{what}: " + ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in values.items()) + "."
