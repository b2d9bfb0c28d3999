"""The environments of the processes the grader starts: the course secret never reaches a
kernel, the measuring process or a batch child, and all of them agree with the grader on
where its prepared data and Keras's downloads are."""

from __future__ import annotations

import pytest

from grader import paths
from grader.batch import isolation
from grader.isolation.environment import kernel_env, worker_env
from grader.notebooks import data_cache, mnist_data
from grader.quiz.variants import SECRET_ENV, SECRET_FILE_ENV

SECRET = "0123456789abcdef-the-instructors-own"


@pytest.fixture
def secret_set(monkeypatch, tmp_path):
    secret_file = tmp_path / "course-secret.txt"
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(SECRET_FILE_ENV, str(secret_file))
    return secret_file


def test_the_course_secret_reaches_no_child(secret_set, tmp_path):
    for env in (
        kernel_env(),
        kernel_env({SECRET_ENV: SECRET}),
        worker_env(tmp_path, 2),
        isolation.worker_env(tmp_path, 2),
    ):
        assert SECRET_ENV not in env and SECRET_FILE_ENV not in env, sorted(env)
        assert not any(SECRET in value or str(secret_set) in value for value in env.values())


def test_a_kernel_gets_the_graders_environment_made_quiet(monkeypatch):
    monkeypatch.setenv("GRADER_TEST_VARIABLE", "kept")
    env = kernel_env({"EXTRA": "1"})
    assert env["GRADER_TEST_VARIABLE"] == "kept" and env["EXTRA"] == "1"
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2" and env["MPLBACKEND"] == "Agg" and env["PYTHONUNBUFFERED"] == "1"


def test_a_batch_child_gets_a_scrubbed_environment_in_its_own_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not for students")
    env = worker_env(tmp_path, 3)
    assert env["PATH"] == "/usr/bin:/bin"
    assert "HTTPS_PROXY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HOME"] == str(tmp_path / "home") and env["TMPDIR"] == str(tmp_path / "tmp")
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "3" and env["TF_NUM_INTEROP_THREADS"] == "1"
    assert env["PYTHONNOUSERSITE"] == "1" and env["TF_CPP_MIN_LOG_LEVEL"] == "2" and env["MPLBACKEND"] == "Agg"


@pytest.mark.parametrize("xdg", [None, "", "elsewhere"])
def test_a_batch_child_finds_the_graders_data_cache_and_keras_folder(monkeypatch, tmp_path, xdg):
    """Its HOME is its own folder: the cache and Keras folders must be named, as the grader's."""
    monkeypatch.setenv("HOME", str(tmp_path / "instructor"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / xdg) if xdg else "")
    env = worker_env(tmp_path / "work", 1)
    cache = tmp_path / (xdg or "instructor/.cache")
    assert env["XDG_CACHE_HOME"] == str(cache) == str(paths.xdg_cache_home())
    assert env["KERAS_HOME"] == str(tmp_path / "instructor" / ".keras")
    monkeypatch.setenv("HOME", env["HOME"])  # as the child sees it
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert paths.data_cache_dir() == cache / "cnn-homework-grader"
    assert paths.keras_mnist() == tmp_path / "instructor" / ".keras" / "datasets" / "mnist.npz"


def test_keras_home_is_read_where_keras_reads_it(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert worker_env(tmp_path, 1)["KERAS_HOME"] == str(tmp_path / "keras")
    assert paths.keras_mnist() == tmp_path / "keras" / "datasets" / "mnist.npz"
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    paths.keras_mnist().write_bytes(b"")
    assert paths.keras_mnist() in mnist_data.source_files(), "hidden from kernels and batch children"


def test_every_cache_folder_is_hidden(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.data_cache_dirs() == [
        tmp_path / "xdg" / "cnn-homework-grader",
        tmp_path / ".cache" / "cnn-homework-grader",
    ]
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert paths.data_cache_dirs() == [tmp_path / ".cache" / "cnn-homework-grader"]
    assert not hasattr(data_cache, "cache_dir") and not hasattr(mnist_data, "KERAS_CACHE"), "one place for paths"
