"""A batch output folder to review, shared by the review tests: answer sheets with identical,
near-identical and hostile written answers, and a notebook result made by hand (so no test
here needs TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

HOSTILE = "<script>alert(1)</script><b>bold?</b>"
LONG_LINE = "y" * 5000
SHEETS = {
    "carla": {
        "conv-arithmetic/q12": "Max pooling downsamples the feature maps, which cuts computation and memory, "
        "gives some invariance to small shifts, and has no parameters.",
        "conv-arithmetic/q13": "Random label-preserving transformations of the training images make the "
        "training set larger and more varied, so the model overfits less.",
    },
    "dev": {
        "conv-arithmetic/q12": "It makes the feature maps smaller so the network is faster.",
        "conv-arithmetic/q13": "It gives you more training data.",
    },
    "eli": {"conv-arithmetic/q12": "it makes the feature maps smaller, so the network is faster"},
    "gus": {"conv-arithmetic/q12": "It makes the feature map smaller so the network is faster."},
    "mallory": {"conv-arithmetic/q12": f"{HOSTILE} Pooling makes maps smaller. {LONG_LINE}"},
}
NOTEBOOK_STUDENT = "nora"


def write_sheets(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, answers in SHEETS.items():
        text = "conv-arithmetic/q7: [126, 126, 16]\n" + "".join(
            f"{qid}: {json.dumps(answer)}\n" for qid, answer in answers.items()
        )
        (folder / f"{student}.yaml").write_text(text, encoding="utf-8")
    return folder


def sheet_rows(out: Path, sheets: Path) -> None:
    """Result rows as the batch writes them, without running it (points as graded automatically)."""
    from grader.quiz.bank import Catalog
    from grader.quiz.sheets import grade_sheet

    catalog = Catalog.load()
    (out / "results").mkdir(parents=True, exist_ok=True)
    for path in sorted(sheets.glob("*.yaml")):
        result = grade_sheet(catalog, path)
        row = {
            "student": path.stem,
            "status": "graded",
            "points": result.points,
            "points_possible": result.points_possible,
            "pending_points": result.pending_review,
            "message": "",
            "submission": str(path),
            "digest": "0" * 64,
            "seconds": 0.1,
        }
        (out / "results" / f"{path.stem}.json").write_text(json.dumps(row))


def add_notebook_student(out: Path) -> None:
    """A graded notebook's row, result document and executed notebook, as the batch leaves them."""
    from grader.notebooks.checks import CheckResult
    from grader.notebooks.results import NotebookResult

    feedback = out / "feedback" / NOTEBOOK_STUDENT
    feedback.mkdir(parents=True, exist_ok=True)
    executed = feedback / "transfer.executed.ipynb"
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("model.fit(x, y)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<script>alert(2)</script><p>done</p>"}),
        nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/1 accuracy 0.91\n"),
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Transfer learning"), cell]
    nbformat.write(notebook, str(executed))
    result = NotebookResult(
        notebook=str(out / "subs" / "nora.ipynb"),
        assignment="transfer-learning",
        status="graded",
        messages=("Measured on held-out digits 5-9.",),
        data="Data: bundled digits",
        measured_accuracy=0.91,
        checks=(
            CheckResult("accuracy", 2.5, 1.0, "Measured 91%."),
            CheckResult("images_per_class", 1.5, 0.0, "Too few training images (class 3: 40)."),
            CheckResult("frozen_then_unfrozen", 2, 0.5, "Never unfrozen."),
        ),
        executed_notebook=str(executed),
    )
    (feedback / "result.json").write_text(json.dumps(result.document()))
    row = {
        "student": NOTEBOOK_STUDENT,
        "status": "graded",
        "points": result.points,
        "points_possible": result.points_possible,
        "message": "Measured on held-out digits 5-9.",
        "submission": str(out / "subs" / "nora.ipynb"),
        "digest": "1" * 64,
        "seconds": 60.0,
    }
    (out / "results" / f"{NOTEBOOK_STUDENT}.json").write_text(json.dumps(row))
    record = out / "batch.json"  # a batch lists its students there: the exports write theirs
    if record.exists():
        info = json.loads(record.read_text())
        info["students"] = sorted({*info["students"], NOTEBOOK_STUDENT})
        record.write_text(json.dumps(info))


def make_out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    sheet_rows(out, write_sheets(tmp_path / "subs"))
    add_notebook_student(out)
    return out
