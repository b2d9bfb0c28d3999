"""A notebook that prints without end costs the grader neither memory nor disk (issue #14, part 4).

A notebook printing in a loop once took the grading process to 9.8 GB and left a 2.4 GB
executed notebook, although its cell timed out. The grader keeps the first 80 KB and the
last 20 KB of each cell's printed text (carriage returns applied, as a terminal shows it),
bounded figures and displays, and drops any single message over 64 MB unread.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "tests" / "data" / "notebooks"

# Runs `grader ARGS` as its child and prints the largest resident size of any process it
# waited for (the grading process, the kernel and its sandbox; nothing is measured here).
PEAK = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-m', 'grader', *sys.argv[1:]], stdout=subprocess.DEVNULL)\n"
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


@pytest.mark.notebooks
def test_printing_hundreds_of_megabytes_keeps_the_grader_and_the_notebook_small(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK,
            "grade",
            str(NOTEBOOKS / "prints_for_a_while.ipynb"),
            "--assignment",
            str(NOTEBOOKS / "output-limits.yaml"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    returncode, peak_kb = map(int, done.stdout.split())
    assert returncode == 0, done.stderr[-3000:]
    executed = tmp_path / "prints_for_a_while.executed.ipynb"
    assert executed.stat().st_size < 400_000, f"the executed notebook has {executed.stat().st_size:,} bytes"
    assert peak_kb < 600_000, f"a process of the grading reached {peak_kb / 1024:.0f} MB"
    cells = [c for c in nbformat.read(str(executed), as_version=4).cells if c.cell_type == "code"]
    printed = "".join(o.get("text", "") for o in cells[0].outputs)
    assert "[output truncated by the grader after 80 KB: " in printed
    assert printed.rstrip().endswith("the last line"), "the end of a long output is kept"
    redrawn = "".join(o.get("text", "") for o in cells[1].outputs)
    assert redrawn == "step 199999\nthe progress line was redrawn 200,000 times\n", redrawn[:300]


def test_printed_text_is_kept_as_a_terminal_shows_it():
    from grader.notebooks.execute import _overwrite

    assert _overwrite("", "10%\r20%\r100%\n") == "100%\n"
    assert _overwrite("Epoch 1/2\n 1/9 loss\r", " 9/9 loss: 0.1\n") == "Epoch 1/2\n 9/9 loss: 0.1\n"
    assert _overwrite("a long line\r", "short") == "shortg line", "a shorter redraw leaves the rest, as on a terminal"
    assert _overwrite("done\r", "\nnext") == "done\nnext"
    assert _overwrite("plain ", "text\n") == "plain text\n"
