"""Two writers on one output folder keep every decision, and a second `grader review` on a
folder a live server serves is refused (until that server ends, however it ends)."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("multipart", reason="python-multipart (the review extra) reads the forms")

from grader.quiz.answers import Grade  # noqa: E402
from grader.review.decisions import Decisions  # noqa: E402
from grader.review.lock import ReviewLockError, ServerLock  # noqa: E402
from tests.review.test_review_fixtures import make_out  # noqa: E402

ROUNDS = 25


@pytest.fixture
def out(tmp_path):
    return make_out(tmp_path)


def record_many(out, prefix, start) -> None:
    """One writer (a process of its own): ROUNDS decisions for one student, each its own key."""
    decisions = Decisions(out, who=prefix)
    start.wait()  # both writers begin together
    for number in range(ROUNDS):
        decisions.record("dev", f"{prefix}{number}", Grade(number % 3, f"{prefix} round {number}"), "answer")


def test_two_processes_recording_at_once_keep_every_decision(out):
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, not a fork of pytest
    start = context.Barrier(2)
    writers = [context.Process(target=record_many, args=(out, prefix, start)) for prefix in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert [w.exitcode for w in writers] == [0, 0]
    decisions = Decisions(out, who="reader")
    expected = {f"{p}{n}" for p in ("a", "b") for n in range(ROUNDS)}
    grades = decisions.grades("dev")
    assert len(grades) == 2 * ROUNDS and set(grades) == expected, f"lost: {sorted(expected - set(grades))}"
    assert grades["b7"] == Grade(1, "b round 7")
    meta = decisions.meta("dev")
    assert set(meta) == expected, f"lost in the sidecar: {sorted(expected - set(meta))}"
    assert meta["a3"]["by"] == "a" and meta["b3"]["by"] == "b"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_server_is_refused_until_the_first_ends(out, grader, monkeypatch):
    port = free_port()
    first = subprocess.Popen(
        [sys.executable, "-m", "grader", "review", str(out), "--port", str(port), "--model", "lexical"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        printed = ""
        while "open http" not in printed:  # printed once the server holds the folder
            line = first.stdout.readline()
            assert line, f"the first server ended: {printed}{first.stderr.read()}"
            printed += line
        served = []
        monkeypatch.setattr("uvicorn.run", lambda app, **options: served.append(options))
        second = grader("review", out, "--port", port + 1, "--model", "lexical")
        assert served == [] and second.exit_code == 1
        assert f"{out} is already being reviewed" in second.stderr
        assert f"process {first.pid}, http://127.0.0.1:{port}/" in second.stderr
    finally:
        first.kill()  # a crash: nothing is cleaned up, the kernel drops the lock
        first.wait()
        first.stdout.close()
        first.stderr.close()

    def run(app, **options):  # the new server holds the folder while it serves
        with pytest.raises(ReviewLockError, match="already being reviewed"):
            ServerLock.acquire(out)
        served.append(options)

    monkeypatch.setattr("uvicorn.run", run)
    third = grader("review", out, "--port", port + 1, "--model", "lexical")
    assert third.exit_code == 0, third.stderr
    assert served == [{"host": "127.0.0.1", "port": port + 1, "log_level": "warning"}]
    ServerLock.acquire(out).release()  # and lets go of it when it stops


def test_a_workspace_holder_is_refused_until_the_first_releases(out):
    with ServerLock.acquire(out, host="127.0.0.1", port=9000) as first:
        with pytest.raises(ReviewLockError) as refused:
            ServerLock.acquire(out, host="127.0.0.1", port=9001)
        assert str(refused.value) == (
            f"{out} is already being reviewed by another `grader review` "
            f"(process {os.getpid()}, http://127.0.0.1:9000/): use that one, or stop it first"
        )
        first.release()
        second = ServerLock.acquire(out)  # released: the next one starts
        with pytest.raises(ReviewLockError, match=r"\(process \d+\)"):
            ServerLock.acquire(out)
        second.release()
    with ServerLock.acquire(out):
        (out / "review" / "server.lock").write_text("")  # a holder that has not written itself in yet
        with pytest.raises(ReviewLockError, match="process id unknown"):
            ServerLock.acquire(out)
