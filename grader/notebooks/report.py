"""How a graded notebook looks: terminal text, a JSON document checked against its
schema, and an HTML page in which everything from the notebook is escaped."""

from __future__ import annotations

import html
from typing import Any

import click

from grader.notebooks.results import GRADED, NotebookResult
from grader.schemas import schema_errors

STATUS_TEXT = {
    "graded": "graded", "error": "stopped by an error", "timeout": "timed out",
    "dead_kernel": "kernel died", "out_of_memory": "out of memory",
    "invalid_notebook": "not a notebook", "no_model": "no model to grade",
    "measure_failed": "model could not be measured", "missing_resource": "needs data or weights not available here",
}


def document(result: NotebookResult) -> dict[str, Any]:
    doc = result.document()
    errors = schema_errors(doc, "notebook-result")
    if errors:  # the grader's own bug: never send out a document that breaks the format
        raise AssertionError(f"notebook result breaks its schema at {list(errors[0].absolute_path)}: {errors[0].message}")
    return doc


def _architecture(model: dict[str, Any]) -> list[str]:
    rows = [f"    {layer['class']:<22} {str(tuple(layer['output_shape'] or ())):<18} {layer['params']:>10,}"
            for layer in model["layers"]]
    return rows + [f"    {'total':<41} {model['params']:>10,}"]


def text(result: NotebookResult) -> str:
    colour = "green" if result.status == GRADED and result.fraction == 1 else (
        "yellow" if result.status == GRADED else "red")
    lines = [click.style(f"{result.notebook}", bold=True) + f"  [{result.assignment}]"
             + ("  (quick check: one short epoch on a slice of the data)" if result.quick else ""),
             "Status: " + click.style(STATUS_TEXT[result.status], fg=colour)
             + ("" if result.quick else f"   Score: {result.points:g} / {result.points_possible:g}")]
    if result.measured_accuracy is not None:
        claimed = f"   (the notebook printed {result.claimed_accuracy:.2%})" if result.claimed_accuracy is not None else ""
        lines.append(f"Measured accuracy: {result.measured_accuracy:.2%}{claimed}")
    lines += [f"  - {m}" for m in result.messages]
    for check in result.checks:
        mark = click.style("✓", fg="green") if check.fraction == 1 else click.style("✗" if check.fraction == 0 else "~", fg="red" if check.fraction == 0 else "yellow")
        lines.append(f"  {mark} {check.check:<22} {check.points:g}/{check.points_possible:g}  {check.message}")
    if result.preprocessing:
        lines.append(f"Preprocessing applied to the held-out digits: {result.preprocessing}")
    if result.training:
        t = result.training
        lines.append(f"Training: {t['epochs']} epoch(s) in {t['fit_calls']} fit call(s), {t['seconds']:g} s"
                     + (f", on {t['samples']:,} samples" if t.get("samples") else ""))
    if result.model:
        lines.append(f"Model ({result.model['class']}, {result.model['params']:,} parameters):")
        lines += _architecture(result.model)
    if result.data:
        lines.append(result.data)
    if result.executed_notebook:
        lines.append(f"Executed notebook: {result.executed_notebook} ({result.seconds:g} s)")
    return "\n".join(lines)


def html_page(result: NotebookResult) -> str:
    """A self-contained feedback page; every value is escaped (it may come from the notebook)."""
    e = html.escape
    rows = "".join(f"<li>{e(m)}</li>" for m in result.messages)
    rows += "".join(f"<li><b>{e(c.check)}</b> {c.points:g}/{c.points_possible:g}: {e(c.message)}</li>" for c in result.checks)
    layers = ""
    if result.model:
        layers = "<table><tr><th>layer</th><th>output</th><th>parameters</th></tr>" + "".join(
            f"<tr><td>{e(l['class'])}</td><td>{e(str(tuple(l['output_shape'] or ())))}</td>"
            f"<td>{l['params']:,}</td></tr>" for l in result.model["layers"]) + "</table>"
    measured = f"{result.measured_accuracy:.2%}" if result.measured_accuracy is not None else "not measured"
    claimed = f"{result.claimed_accuracy:.2%}" if result.claimed_accuracy is not None else "none printed"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(result.assignment)}: {e(result.notebook)}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}</style>
</head><body>
<h1>{e(result.assignment)}</h1>
<p><b>{e(result.notebook)}</b>: {e(STATUS_TEXT[result.status])},
score <b>{result.points:g} / {result.points_possible:g}</b></p>
<p>Measured accuracy: <b>{e(measured)}</b>; printed by the notebook: {e(claimed)}</p>
<ul>{rows}</ul>
<p>Preprocessing applied to the held-out digits: {e(result.preprocessing or "n/a")}</p>
{layers}
<p>{e(result.data)}</p>
</body></html>
"""
