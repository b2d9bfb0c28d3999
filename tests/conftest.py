"""Shared fixtures: the shipped catalog and a runner for the ``grader`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.quiz.bank import Catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


class Grader:
    """Runs ``grader ...`` in-process and keeps stdout and stderr apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str):
        result = self(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def grader() -> Grader:
    return Grader()


@pytest.fixture
def sheet(tmp_path: Path):
    """Write an answer sheet from text and return its path."""

    def write(text: str, name: str = "answers.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def grader_env(tmp_path_factory):
    """``grader`` with its data cache in a fresh folder, so tests prepare their own data."""
    import os

    cache = tmp_path_factory.mktemp("cache")
    runner = Grader()
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield runner
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files (reference keys, reports) from the current code",
    )


@pytest.fixture
def golden(request):
    """compare(path, text): equal to the stored golden file, or rewrite it with --update-golden."""

    def compare(path: Path, text: str) -> None:
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"{path} is missing: run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), (
            f"{path} differs: if the change is intended, run pytest --update-golden"
        )

    return compare
