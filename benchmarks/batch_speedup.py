"""Benchmark: ``grader batch`` with -j 1 against -j 2, on 8 copies of the reference MNIST
notebook and 8 copies of an answer sheet, whole batches timed in one run.

Run: python benchmarks/batch_speedup.py [--copies 8] [--skip-notebooks]
Reports the speed-up and the per-submission overhead of a quiz batch (process start,
isolation, result writing) over grading one sheet directly.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_batch(subs: Path, assignment: str, out: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "batch",
            str(subs),
            "--assignment",
            assignment,
            "--out",
            str(out),
            "-j",
            str(jobs),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        kinds = [("answer sheets", "quiz", ROOT / "examples" / "quiz" / "ana.yaml", ".yaml")]
        if not args.skip_notebooks:
            kinds.append(("reference MNIST notebooks", "mnist-cnn", ROOT / "reference" / "mnist_cnn.ipynb", ".ipynb"))
        for label, assignment, source, suffix in kinds:
            subs = work / f"subs-{assignment}"
            subs.mkdir()
            for i in range(args.copies):
                shutil.copy(source, subs / f"student{i:02d}{suffix}")
            times = {jobs: timed_batch(subs, assignment, work / f"out-{assignment}-{jobs}", jobs) for jobs in (1, 2)}
            print(
                f"{args.copies} {label}: -j 1 {times[1]:.2f} s, -j 2 {times[2]:.2f} s, speed-up {times[1] / times[2]:.2f}x"
            )
            if assignment == "quiz":
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "grader", "quiz", "check", str(source)],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                direct = time.perf_counter() - start
                print(
                    f"  per sheet: batch -j 1 {times[1] / args.copies:.2f} s vs direct 'grader quiz check' "
                    f"{direct:.2f} s (batch start-up and reports included)"
                )


if __name__ == "__main__":
    main()
