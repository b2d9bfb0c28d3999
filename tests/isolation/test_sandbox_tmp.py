"""A grader installed under /tmp still sandboxes its kernels.

The sandbox gives the command an empty /tmp of its own; an interpreter in a virtual
environment made under /tmp (or a clone there) would vanish inside it, the sandbox probe
would fail and every notebook would run unsandboxed. They are offered read-only instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.isolation import sandbox


def test_an_interpreter_under_tmp_is_offered_read_only_in_the_private_tmp(monkeypatch):
    monkeypatch.setattr(sys, "prefix", "/tmp/some-venv")
    args = sandbox.sandbox_prefix("bwrap", private_tmp=True)
    tmpfs = args.index("--tmpfs")
    assert args[tmpfs : tmpfs + 5] == ["--tmpfs", "/tmp", "--ro-bind", "/tmp/some-venv", "/tmp/some-venv"]
    monkeypatch.setattr(sys, "prefix", "/opt/venv")
    assert "/opt/venv" not in sandbox.sandbox_prefix("bwrap", private_tmp=True)


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")
def test_a_virtual_environment_in_tmp_still_makes_a_sandbox():
    if sandbox.find_bwrap() is None:
        pytest.skip(sandbox.why_no_bwrap())
    with tempfile.TemporaryDirectory(prefix="grader-venv-", dir="/tmp") as folder:
        venv = Path(folder) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
        probe = "from grader.isolation.sandbox import find_bwrap, why_no_bwrap; print(find_bwrap() or why_no_bwrap())"
        done = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == shutil.which("bwrap"), done.stdout + done.stderr
