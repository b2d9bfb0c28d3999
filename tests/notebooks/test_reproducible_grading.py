"""Same notebook, same grade: neither the machine, its load nor chance changes a notebook's points.

The kernel starts seeded, with TensorFlow's op determinism and fixed thread counts, and the
training budget counts examples, not seconds. These tests grade real notebooks that set no
seed of their own, the same one twice, once slowed down on purpose beside a CPU-heavy job,
and check that everything measured is equal to the last digit. They never depend on how
fast training runs.
"""

from __future__ import annotations

import json
import threading

import pytest

from grader.notebooks.flags import Flag
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
NOTEBOOKS = DATA / "notebooks"
BUDGET = DATA / "mnist-budget.yaml"  # 24,000 training examples
UNSEEDED = ROOT / "examples" / "notebooks" / "mnist" / "ten_epochs_raw_pixels.ipynb"

pytestmark = pytest.mark.notebooks


def grade(grader_env, notebook, assignment, out):
    result = grader_env("grade", notebook, "--assignment", assignment, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "graded", doc["messages"]
    return doc


def measured(doc):
    """Everything the grader measured: equal only if the two runs trained the same model."""
    return {
        "points": doc["points"],
        "accuracy": round(doc["measured_accuracy"], 4),
        "confusion": doc["confusion"],
        "mistakes": [(m["index"], m["predicted"], round(m["confidence"], 6)) for m in doc["mistakes"]],
        "examples": doc["training"]["examples"],
        "epochs_done": doc["training"]["epochs_done"],
    }


class CpuBurner:
    """A CPU-heavy job beside the grader (two busy threads of pure Python, stopped at exit)."""

    def __enter__(self):
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._burn, daemon=True) for _ in range(2)]
        for thread in self.threads:
            thread.start()
        return self

    def _burn(self):
        while not self.stop.is_set():
            sum(i * i for i in range(10_000))

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.fixture(scope="module")
def first_grading(grader_env, tmp_path_factory):
    return grade(grader_env, UNSEEDED, BUDGET, tmp_path_factory.mktemp("first"))


def test_an_unseeded_notebook_graded_twice_gets_the_same_points_and_accuracy(grader_env, first_grading, tmp_path):
    again = grade(grader_env, UNSEEDED, BUDGET, tmp_path)
    assert first_grading["training"]["stopped_by_budget"] == "examples"
    assert measured(again) == measured(first_grading)


def test_a_slowed_down_kernel_beside_a_busy_cpu_stops_at_the_same_example_and_scores_the_same(
    grader_env, first_grading, tmp_path
):
    # The same notebook with a callback that sleeps after every batch (12 s over 240 batches),
    # graded while two threads keep the CPU busy: it trains more slowly, not less.
    with CpuBurner():
        slow = grade(grader_env, NOTEBOOKS / "ten_epochs_slowed_down.ipynb", BUDGET, tmp_path)
    assert slow["training"]["seconds"] > 12, "the notebook was not slowed down"
    assert measured(slow) == measured(first_grading)


def with_seed(tmp_path, seed):
    """mnist-fast.yaml with another kernel seed."""
    source = (DATA / "mnist-fast.yaml").read_text()
    path = tmp_path / f"mnist-seed-{seed}.yaml"
    path.write_text(
        source.replace("assignment: mnist-cnn-fast", f"assignment: mnist-seed-{seed}") + f"kernel_seed: {seed}\n"
    )
    return path


def test_the_kernel_seed_decides_an_unseeded_notebook_and_a_notebook_s_own_seed_wins(grader_env, tmp_path):
    one, two = with_seed(tmp_path, 1), with_seed(tmp_path, 2)
    unseeded = [
        grade(grader_env, NOTEBOOKS / "small_cnn.ipynb", a, tmp_path / f"u{i}") for i, a in enumerate((one, two))
    ]
    assert measured(unseeded[0])["mistakes"] != measured(unseeded[1])["mistakes"], "the kernel seed changed nothing"
    seeded = [
        grade(grader_env, NOTEBOOKS / "seeds_itself.ipynb", a, tmp_path / f"s{i}") for i, a in enumerate((one, two))
    ]
    assert measured(seeded[0]) == measured(seeded[1]), "the notebook's own seed was not kept"


@pytest.mark.parametrize(
    "notebook", ["train_on_batch_loop.ipynb", "gradient_tape_loop.ipynb", "tf_function_loop.ipynb"]
)
def test_training_outside_fit_is_counted_and_stopped_by_the_budget(grader_env, tmp_path, notebook):
    doc = grade(grader_env, NOTEBOOKS / notebook, BUDGET, tmp_path)
    training = doc["training"]
    # 1,200 steps of 100 images asked for; the budget of 24,000 examples allows 240 of them
    assert training["stopped_by_budget"] == "examples" and training["examples"] == 24_000
    assert training["steps_outside_fit"] == 240 and training["fit_calls"] == 0
    assert Flag.TRAINING_BUDGET_USED in doc["flags"] and Flag.NEVER_TRAINED not in doc["flags"]
    assert any(m.startswith("Training stopped after 24,000 examples (240 training steps") for m in doc["messages"])
    assert doc["measured_accuracy"] > 0.8
