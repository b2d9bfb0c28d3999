"""Benchmark: does a notebook get the same points however and wherever it is graded?

Grades each notebook several times alone (``grader grade``), then all of them in one
``grader batch -j 2``, then alone again beside two CPU burners (busy Python processes),
and prints per notebook the points and the measured accuracy of every run, their spread,
and the wall time. With the kernel seeded and the budget counted in examples, the spread
must be zero.

Run: python benchmarks/reproducibility.py [NOTEBOOK ...] [--assignment mnist-cnn] [--runs 2]
(default: the reference MNIST notebook and the unseeded example notebooks that train longest;
about 20 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [
    ROOT / "reference" / "mnist_cnn.ipynb",
    ROOT / "examples" / "notebooks" / "mnist" / "ten_epochs_raw_pixels.ipynb",
    ROOT / "examples" / "notebooks" / "mnist" / "twenty_epochs.ipynb",
]


def _burn() -> None:
    while True:
        sum(i * i for i in range(10_000))


@contextmanager
def cpu_burners(count: int = 2):
    """Processes that keep ``count`` cores busy while the block runs."""
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(count)]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()


def grade_alone(grader: str, notebook: Path, assignment: str, out: Path) -> tuple[float, float | None, float]:
    """(points, measured accuracy, wall seconds) of one ``grader grade``."""
    start = time.perf_counter()
    done = subprocess.run(
        [grader, "grade", str(notebook), "--assignment", assignment, "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(done.stdout)
    return doc["points"], doc.get("measured_accuracy"), time.perf_counter() - start


def grade_batch(grader: str, notebooks: list[Path], assignment: str, work: Path) -> dict[str, tuple[float, float]]:
    """Points and measured accuracy per notebook of one ``grader batch -j 2``."""
    class_dir, out = work / "class", work / "batch-out"
    class_dir.mkdir()
    for notebook in notebooks:
        shutil.copy(notebook, class_dir / notebook.name)
    subprocess.run(
        [
            grader,
            "batch",
            str(class_dir),
            "--assignment",
            assignment,
            "--out",
            str(out),
            "-j",
            "2",
            "--pattern",
            "^(?P<student>[^.]+)",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found = {}
    for row in csv.DictReader(open(out / "gradebook.csv", encoding="utf-8")):
        document = json.loads((out / "feedback" / row["student"] / "result.json").read_text())
        found[row["student"]] = (float(row["points"]), document.get("measured_accuracy"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--assignment", default="mnist-cnn")
    parser.add_argument("--runs", type=int, default=2, help="gradings alone per notebook")
    args = parser.parse_args()
    grader = shutil.which("grader") or sys.exit("the 'grader' command is not installed")
    runs: dict[str, list[tuple[str, float, float | None, float]]] = {nb.stem: [] for nb in args.notebooks}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for i in range(args.runs):
            for nb in args.notebooks:
                runs[nb.stem].append(("alone", *grade_alone(grader, nb, args.assignment, work / f"{nb.stem}-{i}")))
                print(nb.stem, *runs[nb.stem][-1], flush=True)
        start = time.perf_counter()
        batch = grade_batch(grader, args.notebooks, args.assignment, work)
        batch_seconds = time.perf_counter() - start
        for name, (points, accuracy) in batch.items():
            runs[name].append(("batch -j 2", points, accuracy, batch_seconds))
            print(name, *runs[name][-1], flush=True)
        with cpu_burners():
            for nb in args.notebooks:
                runs[nb.stem].append(("busy", *grade_alone(grader, nb, args.assignment, work / f"{nb.stem}-busy")))
                print(nb.stem, *runs[nb.stem][-1], flush=True)
    print(f"{'notebook':<26} {'run':<11} {'points':>6} {'accuracy':>9} {'wall s':>7}")
    for name, rows in runs.items():
        for how, points, accuracy, seconds in rows:
            shown = f"{accuracy:.4f}" if accuracy is not None else "-"
            print(f"{name:<26} {how:<11} {points:>6g} {shown:>9} {seconds:>7.0f}")
        accuracies = [a for _, _, a, _ in rows if a is not None]
        spread = (max(accuracies) - min(accuracies)) * 100 if accuracies else 0.0
        print(
            f"{name:<26} spread: points {max(r[1] for r in rows) - min(r[1] for r in rows):g}, "
            f"accuracy {spread:.2f} percentage points\n"
        )


if __name__ == "__main__":
    main()
