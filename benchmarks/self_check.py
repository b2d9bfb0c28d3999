"""Benchmark: the self-check's prediction against the grader's grade, and check()'s own time.

Run: python benchmarks/self_check.py [NOTEBOOK ...] [--assignment mnist-cnn]
For each notebook (default: the reference and four example notebooks), the README's two lines
are added, the notebook runs in a plain kernel as in a student's Jupyter (its load_data()
reads the grader's served file, as a student's Keras reads its downloaded MNIST), and the
points check() predicts are set beside `grader grade`'s for the notebook as handed in. Also
reports how long check() took beyond the model's own prediction on the public test digits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "notebooks" / "mnist"
DEFAULT = [ROOT / "reference" / "mnist_cnn.ipynb"] + [
    EXAMPLES / f"{name}.ipynb" for name in ("standardised", "unscaled_pixels", "forgot_channel_axis", "fake_accuracy")
]
TIMED_CHECK = """result = gs.check()
print(f"CHECK-SECONDS {result.seconds:.2f} PREDICT-SECONDS {result.predict_seconds:.2f}")
"""


def student_run(notebook: Path, assignment: str, served: Path, folder: Path) -> tuple[float, float, float]:
    """(predicted points, check() seconds, prediction seconds) from a plain kernel."""
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, 4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import grader.student as gs\ngs.start({assignment!r})"))
    nb.cells.append(nbformat.v4.new_code_cell(TIMED_CHECK))
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-mnist.py").write_text(
        f"import keras.src.datasets.mnist as _mnist\n_mnist.get_file = lambda *a, **k: {str(served)!r}\n"
    )
    os.environ["IPYTHONDIR"] = str(folder / "ipython")
    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    points = float(re.search(r"predicted ([\d.]+) of", text).group(1))
    seconds = re.search(r"CHECK-SECONDS ([\d.]+) PREDICT-SECONDS ([\d.]+)", text)
    return points, float(seconds.group(1)), float(seconds.group(2))


def graded_points(notebook: Path, assignment: str, out: Path) -> float:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(notebook),
            "--assignment",
            assignment,
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return float(json.loads(done.stdout)["points"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--assignment", default="mnist-cnn")
    args = parser.parse_args()
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.data_cache import prepare_data

    served = prepare_data(load_assignment(args.assignment)).served
    print(f"{'notebook':28s} {'predicted':>9s} {'graded':>7s} {'check() s':>9s} {'predict s':>9s}")
    for notebook in args.notebooks:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            predicted, check_s, predict_s = student_run(notebook, args.assignment, served, Path(tmp))
            graded = graded_points(notebook, args.assignment, Path(tmp) / "out")
            print(
                f"{notebook.stem:28s} {predicted:9g} {graded:7g} {check_s:9.1f} {predict_s:9.1f}"
                f"   ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
