"""Process and memory limits that cover everything a child starts: control groups where
the machine allows them, RLIMIT_NPROC and a resident-memory watch elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grader.isolation.process_limits import MemoryWatch, TreeLimits, create_group, fallback_process_limit, group_parents

# A bounded fork bomb: every process forks again, 10 generations (up to 1,024 processes), then
# each one leaves its session and sleeps. The marker lets the test find survivors.
MARKER = "grader-test-bomb-marker"
BOMB = """
import os, time
for _ in range(10):
    try:
        if os.fork() == 0:
            os.setsid()
    except OSError:
        pass
time.sleep(120)
"""
HOG = "block = bytearray(600 * 2**20)\nblock[::4096] = b'1' * len(block[::4096])\nprint('survived')"


def survivors() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if MARKER in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def bomb_command(python: str = sys.executable) -> list[str]:
    return [python, "-c", BOMB, MARKER]


def settled_count() -> int:
    """How many bomb processes there are once the bomb stops growing (1,024 if nothing holds it)."""
    counts = [-1]
    for _ in range(40):
        time.sleep(0.25)
        counts.append(len(survivors()))
        if counts[-1] == counts[-2] == counts[-3] > 0 if len(counts) > 3 else False:
            break
    return counts[-1]


def stop_bombs() -> None:
    for _ in range(50):  # they may still be forking while we stop them
        left = survivors()
        if not left:
            return
        for process in left:
            try:
                process.kill()
            except psutil.Error:
                pass
        time.sleep(0.05)


@pytest.fixture
def control_groups():
    group = create_group("probe", TreeLimits(64, 64))
    if group is None:
        pytest.skip("this machine does not let the tests create control groups (needs root or a delegated subtree)")
    group.remove()


def test_v1_groups_nest_under_this_process_groups():
    mounts = (
        "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n"
        "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
    )
    membership = "8:pids:/\n4:memory:/jobs/42\n0::/\n"
    assert group_parents(mounts, membership) == (
        1,
        {"pids": Path("/sys/fs/cgroup/pids"), "memory": Path("/sys/fs/cgroup/memory/jobs/42")},
    )


def test_v2_groups_need_both_controllers_offered(tmp_path):
    own = tmp_path / "user.slice" / "grading"
    own.mkdir(parents=True)
    mounts = f"cgroup2 {tmp_path} cgroup2 rw,nosuid 0 0\n"
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    assert group_parents(mounts, "0::/user.slice/grading\n") == (2, {"pids": own, "memory": own})
    (own / "cgroup.controllers").write_text("cpu memory\n")
    assert group_parents(mounts, "0::/user.slice/grading\n") is None
    assert group_parents("proc /proc proc rw 0 0\n", "0::/\n") is None


def test_a_fork_bomb_is_capped_and_every_process_is_stopped(control_groups):
    group = create_group("bomb", TreeLimits(max_processes=100, memory_mb=2048))
    try:
        proc = subprocess.Popen(bomb_command(), preexec_fn=group.enter)
        count = settled_count()
        assert 50 < count <= 100, f"{count} bomb processes: the limit of 100 did not hold"
        assert len(group.processes()) <= 100
        assert group.refused_processes() > 0
    finally:
        group.remove()
        if survivors():
            stop_bombs()
            pytest.fail("processes of the bomb survived the group's removal")
    proc.wait(timeout=10)
    assert not group.folders["pids"].exists()


def test_the_memory_limit_covers_the_child(control_groups):
    group = create_group("hog", TreeLimits(max_processes=100, memory_mb=200))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", HOG], capture_output=True, text=True, preexec_fn=group.enter, check=False
        )
        assert proc.returncode == -9 and "survived" not in proc.stdout
        assert group.out_of_memory_kills() >= 1
        assert 150 <= group.peak_memory_mb() <= 201
    finally:
        group.remove()


def test_without_groups_a_user_process_limit_caps_the_bomb():
    """RLIMIT_NPROC binds users other than root: the bomb runs as 'nobody' here."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start the bomb as another user")
    nobody = 65534
    python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), None)
    if python is None:
        pytest.skip("no Python that user nobody may run")
    if any(p.uids().real == nobody for p in psutil.process_iter()):
        pytest.skip("user nobody already runs processes here")
    proc = subprocess.Popen(
        bomb_command(python),
        user=nobody,
        group=nobody,
        extra_groups=[],
        preexec_fn=lambda: fallback_process_limit(50),
        cwd="/",
    )
    try:
        count = settled_count()
        assert 25 < count <= 50, f"{count} bomb processes: the limit of 50 did not hold"
    finally:
        stop_bombs()
        proc.wait(timeout=10)


def test_without_groups_a_memory_watch_stops_the_child():
    proc = subprocess.Popen(
        [sys.executable, "-c", HOG + "\nimport time; time.sleep(30)"], stdout=subprocess.PIPE, text=True
    )
    watch = MemoryWatch(proc.pid, 200)
    watch.start()
    assert proc.wait(timeout=30) == -9, "the memory watch did not stop the child"
    assert watch.killed and watch.peak_mb > 200


def test_groups_left_by_a_killed_grader_are_removed(control_groups):
    """A batch killed with SIGKILL cannot remove its groups; the next one does."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    group = create_group("alive", TreeLimits(64, 64))
    try:
        orphan = group.folders["pids"].parent / f"grader-{dead.stdout.strip()}-student-0000"
        orphan.mkdir()
        sleeper = subprocess.Popen(["sleep", "60"])
        (orphan / "cgroup.procs").write_text(str(sleeper.pid))
        second = create_group("next", TreeLimits(64, 64))
        second.remove()
        assert not orphan.exists() and sleeper.wait(timeout=10) == -9
        assert group.folders["pids"].exists()  # its maker (this process) still runs
    finally:
        group.remove()
