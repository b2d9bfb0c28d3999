"""How a graded notebook looks: terminal text, a JSON document checked against its
schema, and an HTML page in which everything from the notebook is escaped."""

from __future__ import annotations

from typing import Any

import click

from grader.notebooks.assignment import CheckName
from grader.notebooks.results import NotebookResult
from grader.notebooks.status import Status
from grader.schemas import schema_errors


def document(result: NotebookResult) -> dict[str, Any]:
    doc = result.document()
    errors = schema_errors(doc, "notebook-result")
    if errors:  # the grader's own bug: never send out a document that breaks the format
        raise AssertionError(
            f"notebook result breaks its schema at {list(errors[0].absolute_path)}: {errors[0].message}"
        )
    return doc


def _architecture(model: dict[str, Any]) -> list[str]:
    rows = [
        f"    {layer['class']:<22} {str(tuple(layer['output_shape'] or ())):<18} {layer['params']:>10,}"
        for layer in model["layers"]
    ]
    return rows + [f"    {'total':<41} {model['params']:>10,}"]


def text(result: NotebookResult) -> str:
    colour = (
        "green"
        if result.status is Status.GRADED and result.fraction == 1
        else ("yellow" if result.status is Status.GRADED else "red")
    )
    lines = [
        click.style(f"{result.notebook}", bold=True)
        + f"  [{result.assignment}]"
        + ("  (quick check: one short epoch on a slice of the data)" if result.quick else ""),
        "Status: "
        + click.style(result.status.text, fg=colour)
        + ("" if result.quick else f"   Score: {result.points:g} / {result.points_possible:g}"),
    ]
    if result.measured_accuracy is not None:
        claimed = (
            f"   (the notebook printed {result.claimed_accuracy:.2%})" if result.claimed_accuracy is not None else ""
        )
        lines.append(f"Measured accuracy: {result.measured_accuracy:.2%}{claimed}")
    lines += [f"  - {m}" for m in result.messages]
    for check in result.checks:
        mark = (
            click.style("✓", fg="green")
            if check.fraction == 1
            else click.style("✗" if check.fraction == 0 else "~", fg="red" if check.fraction == 0 else "yellow")
        )
        lines.append(f"  {mark} {check.check:<22} {check.points:g}/{check.points_possible:g}  {check.message}")
    if result.preprocessing:
        lines.append(f"Preprocessing applied to the held-out digits: {result.preprocessing}")
    if result.training:
        t = result.training
        lines.append(
            f"Training: {t['epochs']} epoch(s) in {t['fit_calls']} fit call(s), {t['seconds']:g} s"
            + (f", on {t['samples']:,} samples" if t.get("samples") else "")
            + (f", {t['examples']:,} training examples in all" if t.get("examples") is not None else "")
            + (f" ({t['steps_outside_fit']:,} steps outside fit)" if t.get("steps_outside_fit") else "")
        )
    if result.model:
        lines.append(f"Model ({result.model['class']}, {result.model['params']:,} parameters):")
        lines += _architecture(result.model)
    if result.data:
        lines.append(result.data)
    if result.executed_notebook:
        lines.append(f"Executed notebook: {result.executed_notebook} ({result.seconds:g} s)")
    return "\n".join(lines)


def _check_views(result: NotebookResult) -> list[dict[str, Any]]:
    views = []
    for c in result.checks:
        css, symbol = ("ok", "✓") if c.fraction == 1 else (("bad", "✗") if c.fraction == 0 else ("warn", "~"))
        views.append(
            {
                "name": c.check.replace("_", " "),
                "message": c.message,
                "points": c.points,
                "points_possible": c.points_possible,
                "css": css,
                "symbol": symbol,
            }
        )
    return views


def _figures(result: NotebookResult, minimum_per_class: int | None) -> list[dict[str, str]]:
    from grader.pages import alt_text, figures

    shown = []

    def add(key: str, uri: str | None, caption: str, alt: str) -> None:
        if uri:
            shown.append({"id": key, "uri": uri, "caption": caption, "alt": alt, "wide": key == "curves"})

    if result.confusion:
        add(
            "confusion",
            figures.confusion(result.confusion["labels"], result.confusion["matrix"]),
            "Each row is a true digit, each column what your model answered: off the diagonal are its mistakes.",
            alt_text.confusion(result.confusion["labels"], result.confusion["matrix"]),
        )
    add(
        "mistakes",
        figures.mistakes(result.mistakes),
        "The held-out digits your model got wrong, most confident first (true → predicted, confidence).",
        alt_text.mistakes(result.mistakes),
    )
    add(
        "curves",
        figures.training_curves(result.fits),
        "Loss and accuracy per epoch: each fit call its own colour and marker; training solid with filled "
        "markers, validation dashed with hollow ones.",
        alt_text.training_curves(result.fits, figures.curve_metrics(result.fits)),
    )
    if len(result.fits) > 1 or any(f.get("frozen_params") for f in result.fits):
        add(
            "parameters",
            figures.parameters_per_fit(result.fits),
            "Frozen and trainable parameters at each fit call.",
            alt_text.parameters_per_fit(result.fits),
        )
    counts: dict[str, int] = {}
    for fit in result.fits:
        for label, n in (fit.get("label_counts") or {}).items():
            counts[label] = max(counts.get(label, 0), n)
    if counts and any(c.check == CheckName.IMAGES_PER_CLASS for c in result.checks):
        add(
            "per-class",
            figures.images_per_class(counts, minimum_per_class),
            "Training images per class.",
            alt_text.images_per_class(counts, minimum_per_class),
        )
    return shown


def html_page(result: NotebookResult, assignment: Any = None) -> str:
    """A self-contained feedback page with the student's figures; everything from the
    notebook is escaped by the template."""
    from pathlib import PurePath

    from grader.pages import render

    minimum = None
    if assignment is not None:
        spec = next((c for c in assignment.checks if c.check == CheckName.IMAGES_PER_CLASS), None)
        minimum = int(spec.option("min", 100)) if spec else None
    status_class = (
        "ok"
        if result.status is Status.GRADED and result.fraction == 1
        else ("warn" if result.status is Status.GRADED else "bad")
    )
    return render(
        "notebook.html.j2",
        r=result,
        notebook_name=PurePath(result.notebook).name,
        title=getattr(assignment, "title", None) or result.assignment,
        status_text=result.status.text,
        status_class=status_class,
        checks=_check_views(result),
        figures=_figures(result, minimum),
    )
