"""The quiz path must stay fast: it never imports TensorFlow, Keras or NumPy."""

import subprocess
import sys

PROBE = """
import sys
from grader.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("tensorflow", "keras", "numpy", "nbclient", "jupyter_client") if m in sys.modules)
print("HEAVY:", ",".join(heavy))
sys.exit(code)
"""


def run_probe(*args):
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False)


def test_quiz_check_imports_no_heavy_library(tmp_path):
    sheet = tmp_path / "answers.yaml"
    key = run_probe("quiz", "key", "cnn-exercises")
    sheet.write_text(key.stdout.split("HEAVY:")[0])
    result = run_probe("quiz", "check", str(sheet))
    assert result.returncode == 0, result.stderr
    assert "Total:" in result.stdout
    assert result.stdout.strip().endswith("HEAVY:"), result.stdout[-200:]


def test_quiz_list_imports_no_heavy_library():
    result = run_probe("quiz", "list")
    assert result.returncode == 0 and result.stdout.strip().endswith("HEAVY:")
