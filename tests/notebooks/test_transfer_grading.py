"""End to end: transfer learning, architecture checks and missing resources, on real notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.notebooks

TRANSFER = ROOT / "examples" / "notebooks" / "transfer"
ARCHITECTURE = ROOT / "tests" / "data" / "digits-architecture.yaml"
_cache: dict[tuple[str, str], dict] = {}


@pytest.fixture
def graded(grader_env, tmp_path_factory):
    def grade(path: Path, assignment: str | Path = "transfer-learning") -> dict:
        key = (str(path), str(assignment))
        if key not in _cache:
            out = tmp_path_factory.mktemp(path.stem)
            result = grader_env("grade", path, "--assignment", assignment, "--out", out, "--json")
            assert result.exit_code == 0, result.stderr
            _cache[key] = json.loads(result.stdout)
        return _cache[key]

    return grade


def check(doc: dict, name: str) -> dict:
    return next(c for c in doc["checks"] if c["check"] == name)


def test_reference_transfer_notebook_gets_full_marks(graded):
    doc = graded(ROOT / "reference" / "transfer_learning.ipynb")
    assert doc["status"] == "graded", doc["messages"]
    assert doc["points"] == doc["points_possible"] == 10, [(c["check"], c["message"]) for c in doc["checks"]]
    assert "digits 5, 6, 7, 8, 9" in check(doc, "accuracy")["message"]


def test_a_tf_data_pipeline_gets_full_marks(graded):
    doc = graded(TRANSFER / "tf_data_pipeline.ipynb")
    assert doc["points"] == doc["points_possible"] == 10, [(c["check"], c["message"]) for c in doc["checks"]]
    assert "Training (750), validation (250) and test (250)" in check(doc, "disjoint_splits")["message"]
    assert "fewest: 150" in check(doc, "images_per_class")["message"]
    assert doc["preprocessing"].startswith("raw pixels") and "NOT verified" not in doc["preprocessing"]
    assert doc["training"]["samples"] == 750


def test_a_base_never_frozen(graded):
    result = check(graded(TRANSFER / "never_freezes.ipynb"), "frozen_then_unfrozen")
    assert result["points"] == 0 and "base.trainable = False" in result["message"]


def test_a_base_never_unfrozen(graded):
    result = check(graded(TRANSFER / "never_unfreezes.ipynb"), "frozen_then_unfrozen")
    assert 0 < result["points"] < result["points_possible"] and "never unfrozen" in result["message"]


def test_a_test_set_taken_from_the_training_set(graded):
    result = check(graded(TRANSFER / "test_overlaps_train.ipynb"), "disjoint_splits")
    assert result["points"] == 0 and "also in the training set" in result["message"]


def test_fewer_than_100_images_in_a_class(graded):
    result = check(graded(TRANSFER / "too_few_images.ipynb"), "images_per_class")
    assert result["points"] == 0 and "at least 100 per class" in result["message"]


@pytest.mark.parametrize(
    "name, inception, residual",
    [("inception_block", True, False), ("residual_block", False, True), ("plain_cnn", False, False)],
)
def test_inception_and_residual_blocks(graded, name, inception, residual):
    doc = graded(TRANSFER / f"{name}.ipynb", ARCHITECTURE)
    assert doc["status"] == "graded", doc["messages"]
    assert (check(doc, "inception_block")["fraction"] == 1) is inception
    assert (check(doc, "residual_block")["fraction"] == 1) is residual
    if not inception:
        assert "Concatenate" in check(doc, "inception_block")["message"]
    if not residual:
        assert "Add layer" in check(doc, "residual_block")["message"]


@pytest.mark.parametrize(
    "notebook, assignment",
    [("needs_cifar10.ipynb", "cifar10-cnn"), ("needs_imagenet_weights.ipynb", "transfer-learning")],
)
def test_notebooks_that_need_downloads_are_reported_clearly(graded, notebook, assignment):
    doc = graded(ROOT / "tests" / "data" / "notebooks" / notebook, assignment)
    assert doc["status"] == "missing_resource"
    assert "not available on this machine" in doc["messages"][0]
    assert doc["points"] == 0
