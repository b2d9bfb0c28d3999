"""Benchmark: CPU time (user + system) of ``python -m grader quiz check SHEET`` against
``python -c pass``, the two run in turn so that both see the same machine load.

A student's quiz check should cost little more than starting Python: the command loads
the quiz and nothing of the batch, the review or the notebooks. CPU time, not wall
time, so that the other processes on a shared machine count for less.

Run: python benchmarks/quiz_import.py [--runs 15]
Target: the ratio of the medians at most 5.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_RATIO = 5.0
# Both commands run from their bytecode caches, as an installed grader does (pip compiles it).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def cpu_seconds(command: list[str]) -> float:
    """The user and system CPU seconds one run of COMMAND used (its process and all it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired_runs(baseline: list[str], command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """CPU seconds of BASELINE and COMMAND, run in turn RUNS times."""
    pairs = [(cpu_seconds(baseline), cpu_seconds(command)) for _ in range(runs)]
    return [b for b, _ in pairs], [c for _, c in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sheet = Path(folder) / "cnn-exercises.yaml"
        key = [sys.executable, "-m", "grader", "quiz", "key", "cnn-exercises"]
        sheet.write_text(subprocess.run(key, check=True, capture_output=True, text=True).stdout)
        check = [sys.executable, "-m", "grader", "quiz", "check", str(sheet)]
        subprocess.run(check, check=True, stdout=subprocess.DEVNULL, env=ENV)  # writes the bytecode caches
        baseline, quiz = paired_runs([sys.executable, "-c", "pass"], check, args.runs)
    print(f"{'command':<44} {'min':>8} {'median':>8} {'max':>8}   (CPU seconds, user + system)")
    for name, times in (("python -c pass", baseline), ("python -m grader quiz check SHEET", quiz)):
        print(f"{name:<44} {min(times):>7.3f}s {statistics.median(times):>7.3f}s {max(times):>7.3f}s")
    ratio = statistics.median(quiz) / statistics.median(baseline)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio of medians: {ratio:.1f}x (target <= {TARGET_RATIO:g}x: {verdict}; {args.runs} paired runs)")


if __name__ == "__main__":
    main()
