"""The quiz path must stay fast: a quiz command loads the quiz alone, never the batch, the
review or the notebooks (and so never TensorFlow, Keras or NumPy), nor a JSON Schema
validator for the shipped banks (benchmarks/quiz_import.py measures the time)."""

import subprocess
import sys

PROBE = """
import sys
from grader.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = ("tensorflow", "keras", "numpy", "nbclient", "nbformat", "jupyter_client", "rich", "matplotlib", "jinja2", "jsonschema")
own = ("grader.batch", "grader.review", "grader.notebooks", "grader.similarity")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(own))
print("HEAVY:", ",".join(loaded))
sys.exit(code)
"""


def run_probe(*args):
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False)


def test_quiz_check_loads_no_batch_review_notebook_or_heavy_module(tmp_path):
    sheet = tmp_path / "answers.yaml"
    key = run_probe("quiz", "key", "cnn-exercises")
    sheet.write_text(key.stdout.split("HEAVY:")[0])
    result = run_probe("quiz", "check", str(sheet))
    assert result.returncode == 0, result.stderr
    assert "Total:" in result.stdout
    assert result.stdout.strip().endswith("HEAVY:"), result.stdout[-300:]


def test_quiz_list_loads_no_batch_review_notebook_or_heavy_module():
    result = run_probe("quiz", "list")
    assert result.returncode == 0 and result.stdout.strip().endswith("HEAVY:"), result.stdout[-300:]
