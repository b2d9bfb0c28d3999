"""Benchmark: whole-process wall time of ``grader quiz check`` on a full answer sheet
for both banks, beside ``python -c pass`` measured in the same run.

Run: python benchmarks/quiz_check.py [--runs 15]
Target (issue 2): under 0.5 s for the whole ``grader quiz check`` process on the
project's 2-core machine.
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


def wall_times(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    grader = shutil.which("grader") or sys.exit("the 'grader' command is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "both-banks.yaml"
        text = "".join(
            subprocess.run([grader, "quiz", "key", bank], check=True, capture_output=True, text=True).stdout
            for bank in ("cnn-exercises", "conv-arithmetic")
        )
        sheet.write_text(text)
        baseline = wall_times([sys.executable, "-c", "pass"], args.runs)
        check = wall_times([grader, "quiz", "check", str(sheet)], args.runs)
    print(f"{'command':<40} {'min':>8} {'median':>8} {'max':>8}")
    for name, times in (("python -c pass", baseline), ("grader quiz check (both banks)", check)):
        print(f"{name:<40} {min(times):>7.3f}s {statistics.median(times):>7.3f}s {max(times):>7.3f}s")
    median = statistics.median(check)
    print(f"grader's own share (median difference): {median - statistics.median(baseline):.3f}s")
    print(f"target < 0.5 s: {'met' if median < 0.5 else 'NOT met'} ({median:.3f}s median)")


if __name__ == "__main__":
    main()
