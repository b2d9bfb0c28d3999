"""A notebook's kernel cannot reach beyond its own run (issue #14, part 3).

A notebook graded by plain ``grader grade`` once wrote /tmp/pwned, replaced Keras's cached
MNIST, wrote into site-packages and left two detached processes running. The kernel now
runs in a bubblewrap sandbox (read-only file system but its scratch folder, no network,
its own process ids) inside a control group that is emptied when the notebook ends, and
the result says how it was confined.
"""

from __future__ import annotations

import json
import shutil
import socket
import sysconfig
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
FAST = DATA / "mnist-fast.yaml"


def _survivors(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.fixture
def targets(tmp_path, monkeypatch):
    """Paths outside the run and a port on the host's loopback, told to the notebook; all
    removed afterwards whatever happened (a grader without a sandbox lets them be made)."""
    marker = f"grader-test-{uuid.uuid4().hex[:12]}"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    home = Path.home() / f".{marker}"  # not under /tmp, which the sandbox replaces with its own
    paths = {
        "tmp": Path("/tmp") / f"{marker}.txt",
        "site_packages": Path(sysconfig.get_paths()["purelib"]) / f"{marker}.txt",
        "keras_cache": home / ".keras" / "datasets" / "mnist.npz",  # stands for ~/.keras's
        "outside": home / "written.txt",
    }
    told = {**{k: str(v) for k, v in paths.items()}, "port": server.getsockname()[1], "marker": marker}
    monkeypatch.setenv("GRADER_TEST_TARGETS", json.dumps(told))
    yield paths, server, marker
    for path in paths.values():
        path.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    for process in _survivors(marker):
        process.kill()
    server.close()


def _grade(grader_env, tmp_path) -> tuple[dict, dict]:
    out = tmp_path / "out"
    result = grader_env("grade", DATA / "notebooks" / "escapes.ipynb", "--assignment", FAST, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    executed = nbformat.read(str(out / "escapes.executed.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "GRADER-TEST " in printed, printed[-3000:]
    return json.loads(result.stdout), json.loads(printed.split("GRADER-TEST ", 1)[1].splitlines()[0])


def _gone(marker: str, seconds: float = 5) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while _survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _survivors(marker)


@pytest.mark.notebooks
def test_a_sandboxed_notebook_changes_nothing_outside_its_run(grader_env, tmp_path, targets):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    paths, server, marker = targets
    doc, done = _grade(grader_env, tmp_path)
    written = [name for name, path in paths.items() if path.exists()]
    assert written == [], f"the notebook wrote outside its run: {written}"
    assert not done["site_packages"] and not done["keras_cache"] and not done["outside"]
    assert done["tmp"], "it has a /tmp of its own to write"
    with pytest.raises(BlockingIOError):
        server.accept()
    assert not done["network"], "no network, not even the host's loopback"
    assert _gone(marker) == [], "nothing the notebook started outlives it"
    assert doc["isolation"] in ("bubblewrap+cgroup", "bubblewrap"), doc.get("isolation")
    if doc["isolation"] == "bubblewrap+cgroup":
        assert "/grader-" in done["cgroup"], "the kernel runs in a control group of its own"
    assert not any("without a sandbox" in m for m in doc["messages"])


@pytest.mark.notebooks
def test_without_a_sandbox_the_control_group_still_ends_everything_and_the_result_says_so(
    grader_env, tmp_path, targets, monkeypatch
):
    from grader.isolation.process_limits import describe

    if not describe().startswith("on"):
        pytest.skip("no control groups can be made here")
    try:
        import grader.notebooks.isolation as isolation
    except ImportError:  # a grader without confinement for the kernel
        pass
    else:
        monkeypatch.setattr(isolation, "find_bwrap", lambda: None)
    paths, server, marker = targets
    doc, done = _grade(grader_env, tmp_path)
    assert _gone(marker) == [], "the control group is emptied when the notebook ends"
    assert doc.get("isolation") == "cgroup"
    assert any(
        "without a sandbox" in m and "its code could read and write whatever this user can" in m
        for m in doc["messages"]
    ), doc["messages"]


def test_what_the_result_says_about_each_confinement():
    from grader.notebooks.isolation import KernelConfinement

    none = KernelConfinement([], {}, missing="bubblewrap (bwrap) is not installed")
    assert none.isolation == "none"
    assert "bubblewrap (bwrap) is not installed" in none.note() and "outlived it" in none.note()
    sandboxed = KernelConfinement(["bwrap", "--"], {})
    assert sandboxed.isolation == "bubblewrap" and sandboxed.note() is None


def test_a_long_scratch_path_gets_its_sockets_a_short_folder_removed_afterwards(tmp_path):
    """A Unix socket's path must fit in 108 bytes: batches name scratch folders after students."""
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    from grader.notebooks.isolation import RunFolders, confine

    folders = RunFolders(tmp_path / ("student-with-a-very-long-name-" * 3))
    folders.make()
    confinement = confine(folders, None, [], 1000, {})
    if not confinement.prefix:
        pytest.skip("bubblewrap cannot make a sandbox here")
    assert confinement.sockets and len(str(confinement.sockets / "k-65535")) < 108
    assert str(confinement.sockets) in confinement.prefix, "the socket folder is writable in the sandbox"
    confinement.close(None)
    assert not confinement.sockets.exists()


def test_a_kernel_in_the_graders_own_sandbox_says_so_without_alarming_the_student():
    from grader.notebooks.isolation import KernelConfinement

    shared = KernelConfinement([], {}, missing="bubblewrap cannot make a sandbox here", outer=True)
    assert shared.isolation == "outer-bubblewrap" and shared.note() is None


def test_a_grader_in_a_batch_control_group_leaves_its_kernel_there(monkeypatch):
    """grader batch puts each grading in a control group of its own; a second one inside it
    would take the kernel's memory kills out of the batch's accounting."""
    import grader.notebooks.isolation as isolation

    monkeypatch.setattr(isolation, "_in_a_graders_group", lambda: True)
    assert isolation._group(1000) is None
    shared = isolation.KernelConfinement([], {}, missing="no bubblewrap", shared_group=True)
    assert shared.isolation == "cgroup" and "outlived" not in shared.note()
