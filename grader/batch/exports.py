"""What a batch writes for people and other systems from its rows: the gradebook, the Canvas
import CSV, Gradescope results and the class summary."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Iterable

from grader.atomic import write_atomically, write_csv_atomically

def write_reports(out: Path, rows: list[dict[str, Any]], skipped: Iterable[str], assignment: str,
                  isolation: str) -> None:
    """gradebook.csv, the Canvas import CSV, Gradescope results and the class summary."""
    fields = ["student", "status", "points", "points_possible", "message", "submission", "seconds"]
    possible = max((r["points_possible"] for r in rows), default=0)
    column = f"{assignment} ({possible:g})"
    _write_csv(out / "gradebook.csv", [fields] + [[r.get(f, "") for f in fields] for r in rows])
    _write_csv(out / "canvas.csv", [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
                                    ["Points Possible", "", "", "", "", f"{possible:g}"]]
               + [[r["student"], "", "", r["student"], "", f"{r['points']:g}"] for r in rows])
    for r in rows:
        folder = out / "gradescope" / r["student"]
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / "results.json", json.dumps({
            "score": r["points"], "output": f"{r['status']}: {r['message']}".strip(": "),
            "tests": [{"name": assignment, "score": r["points"], "max_score": r["points_possible"],
                       "output": r["message"], "status": "passed" if r["status"] == "graded" else "failed"}]}))
    write_atomically(out / "summary.txt", summary(rows, list(skipped), isolation))


def _cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading quote (OWASP, CSV injection). Student ids and file
    names come from the students."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_csv(path: Path, table: list[list[Any]]) -> None:
    """Every CSV the batch writes: cells neutralised, the file replaced atomically."""
    write_csv_atomically(path, [[_cell(v) for v in row] for row in table])


def summary(rows: list[dict[str, Any]], skipped: list[str], isolation: str) -> str:
    """The class summary: score distribution and failures by kind."""
    scores = [r["points"] for r in rows]
    lines = [f"{len(rows)} students graded"]
    if scores:
        lines.append(f"scores: min {min(scores):g}, median {statistics.median(scores):g}, "
                     f"mean {statistics.mean(scores):.2f}, max {max(scores):g}")
        possible = max(r["points_possible"] for r in rows) or 1
        buckets = [0] * 5
        for s in scores:
            buckets[min(4, int(5 * s / possible))] += 1
        for i, count in enumerate(buckets):
            lines.append(f"  {20 * i:>3}-{20 * (i + 1):<3}% {'#' * count} {count}")
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    if skipped:
        lines.append("skipped entries: " + "; ".join(skipped))
    lines.append("isolation: " + isolation)
    return "\n".join(lines) + "\n"
