"""Benchmark: the grader's overhead over plain ``jupyter nbconvert --execute``.

Both run the same notebook on the same served data (the bundled subset at MNIST's sizes):
nbconvert executes a copy of the notebook whose first cell serves ``load_data()`` from
the grader's served file, exactly as the grader's hidden setup cell does; the grader runs
``grader grade`` (run, save the model, measure it in another process, report). Whole
processes are timed, alternating, in one run.

Run: python benchmarks/notebook_overhead.py [NOTEBOOK] [--runs 3]
Target (issue 3): overhead under 15% and under 3 s for reference/mnist_cnn.ipynb.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SERVE = """\
import numpy as np, keras
def _served_load_data(path="mnist.npz"):
    with np.load({served!r}) as d:
        return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
keras.datasets.mnist.load_data = _served_load_data
"""


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=str(ROOT / "reference" / "mnist_cnn.ipynb"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from grader.notebooks.assignment import load_assignment
    from grader.notebooks.data_cache import prepare_data

    served = prepare_data(load_assignment("mnist-cnn")).served
    grader = shutil.which("grader") or sys.exit("the 'grader' command is not installed")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        nb = nbformat.read(args.notebook, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(SERVE.format(served=str(served))))
        plain = work / "plain.ipynb"
        nbformat.write(nb, str(plain))
        shutil.copy(args.notebook, work / "graded.ipynb")
        commands = {
            "jupyter nbconvert --execute": [
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=1800",
                "--output",
                "plain.out",
                str(plain),
            ],
            "grader grade": [grader, "grade", str(work / "graded.ipynb"), "--out", str(work / "out")],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command, work))
    base = statistics.median(times["jupyter nbconvert --execute"])
    ours = statistics.median(times["grader grade"])
    for name, values in times.items():
        print(f"{name:<30} median {statistics.median(values):7.2f} s   runs: {', '.join(f'{v:.2f}' for v in values)}")
    print(
        f"overhead: {ours - base:+.2f} s ({(ours - base) / base:+.1%}); target < 3 s and < 15%: "
        f"{'met' if ours - base < 3 and (ours - base) / base < 0.15 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
