"""Points never rest on what the student's kernel says about itself (issue #14, part 2).

The hidden kernel code used to keep its record in module-level lists and write it to
trace.json at the end, where the notebook could rewrite it: a transfer-learning notebook
raised its score from 1.75 to 7.75 that way, and an MNIST notebook reported 100 epochs it
never ran. Each record is now sent on a pipe as it happens, and the record is checked
against the saved model (parameters, layers, the optimizer's steps); a record that
contradicts it is flagged and earns nothing.
"""

from __future__ import annotations

import json

import pytest

from grader.notebooks.flags import Flag
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
FAST = DATA / "mnist-fast.yaml"
NOTEBOOKS = DATA / "notebooks"


def _grade(grader_env, tmp_path, notebook: str, assignment=FAST) -> dict:
    result = grader_env(
        "grade", NOTEBOOKS / notebook, "--assignment", assignment, "--out", tmp_path, "--json",
        "--html", tmp_path / "feedback.html",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _check(doc: dict, name: str) -> dict:
    return next(c for c in doc["checks"] if c["check"] == name)


@pytest.mark.notebooks
def test_rewriting_the_record_in_the_kernel_or_on_disk_changes_nothing(grader_env, tmp_path):
    doc = _grade(grader_env, tmp_path, "rewrites_trace.ipynb")
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.TRACE_CONTRADICTED not in doc["flags"], "what was sent is the truth: nothing to contradict"
    assert Flag.REACHES_INTO_GRADER in doc["flags"], "it reached the hidden module through sys.modules"
    assert doc["points"] == 0 and doc["training"] is None, "held for the instructor, whatever the record says"


@pytest.mark.notebooks
def test_a_made_up_record_is_contradicted_by_the_saved_model(grader_env, tmp_path):
    doc = _grade(grader_env, tmp_path, "forges_trace.ipynb")
    assert doc["status"] == "graded", doc["messages"]
    assert Flag.TRACE_CONTRADICTED in doc["flags"], doc["messages"]
    message = next(m for m in doc["messages"] if "contradicts the saved model" in m)
    assert "100 epochs in 94 training steps" in message and "instructor to review" in message
    assert "The saved model's optimizer took 94 training steps." in message
    assert doc["training"] is None and doc["fits"] == [], "the forged account of the training is not shown"
    page = (tmp_path / "feedback.html").read_text()
    assert "100 epoch(s)" not in page and "Training:" not in page
    assert doc["measured_accuracy"] is not None, "the saved model is still measured"
    assert Flag.REACHES_INTO_GRADER in doc["flags"] and doc["points"] == 0, "held until the instructor looks"


@pytest.mark.notebooks
def test_a_rewritten_transfer_record_earns_no_points(grader_env, tmp_path):
    doc = _grade(grader_env, tmp_path, "transfer_rewrites_trace.ipynb", "transfer-learning")
    assert doc["status"] == "graded", doc["messages"]
    for name in ("images_per_class", "disjoint_splits", "pretrained_base", "frozen_then_unfrozen"):
        assert _check(doc, name)["points"] == 0, _check(doc, name)
    assert doc["points"] == 0 and Flag.REACHES_INTO_GRADER in doc["flags"], doc["checks"]


# --- pieces ---------------------------------------------------------------------------


def _fit(**fields) -> dict:
    return {
        "model": 1,
        "epochs_run": 2,
        "seconds": 1.0,
        "trainable_params": 10,
        "frozen_params": 0,
        "total_params": 10,
        "optimizer": 1,
        "iterations": 20,
        "steps": 20,
        **fields,
    }


def _trace(*fits: dict, optimizer: int | None = 1):
    from grader.notebooks.trace import KernelTrace

    return KernelTrace.from_dict(
        {
            "fits": list(fits),
            "inputs": [],
            "loaded": [],
            "model_found": "",
            "model": {
                "id": 1,
                "params": 10,
                "trained": True,
                "optimizer": optimizer,
                "layers": [{"name": "dense", "class": "Dense"}],
            },
        }
    )


SAVED = {"params": 10, "layers": [["dense", "Dense"]], "optimizer": "Adam", "optimizer_iterations": 20}


def test_a_true_record_is_never_contradicted():
    assert _trace(_fit()).contradictions(SAVED) == []
    recompiled = _trace(_fit(optimizer=1), _fit(optimizer=2, iterations=5, steps=5), optimizer=3)
    assert recompiled.contradictions({**SAVED, "optimizer_iterations": 0}) == [], "compiled again after training"
    assert _trace(_fit()).contradictions({**SAVED, "optimizer_iterations": 25}) == [], "train_on_batch after fit"
    assert _trace(_fit()).contradictions(None) == [], "nothing measured: nothing to compare"


def test_records_that_cannot_be_true():
    def said(trace, saved=SAVED):
        return " / ".join(trace.contradictions(saved))

    assert "100 epochs in 20 training steps" in said(_trace(_fit(epochs_run=100)))
    assert "step 40" in said(_trace(_fit(), _fit(iterations=40)))
    assert "step 40" in said(_trace(_fit(iterations=20, steps=20), _fit(iterations=20, steps=20)))
    assert "the saved model has 12" in said(_trace(_fit()), {**SAVED, "params": 12})
    assert "layers" in said(_trace(_fit()), {**SAVED, "layers": [["conv", "Conv2D"]]})
    assert "records no training steps" in said(_trace(_fit(steps=None)))
    hashless = _fit(data_kind="ndarray", samples=60_000, train_hashes=None)
    assert "ndarray data records no hashes of its images" in said(_trace(hashless))
    assert said(_trace({**hashless, "train_hashes": ["ab"] * 3})) == ""
    assert said(_trace({**hashless, "data_kind": "generator"})) == "", "a generator's images cannot be hashed"


def test_the_record_stream_keeps_what_was_sent_and_each_hash_list_once(monkeypatch):
    from grader.notebooks import kernel_trace
    from grader.notebooks.trace import KernelTrace, RecordStream

    stream = RecordStream()
    monkeypatch.setattr(kernel_trace, "CONFIG", {"record_fd": stream.write_fd})
    monkeypatch.setattr(kernel_trace, "SENT_HASHES", set())
    monkeypatch.setattr(kernel_trace, "FITS", [])
    hashes = [f"{i:012x}" for i in range(1000)]
    fit = _fit(train_hashes=hashes, image_prints=hashes)
    kernel_trace._record("fit", fit, kernel_trace.FITS)
    kernel_trace._send("fit", fit)
    fit["epochs_run"] = 100  # changed after it was sent: too late
    kernel_trace._send("model", {"model": {"id": 1, "params": 10, "trained": True, "layers": []}, "model_found": "x"})
    kernel_trace._send("end", {})
    kernel_trace._send("fit", _fit(epochs_run=7))  # after the end: ignored
    records = stream.records()
    assert sum(r["record"] == "hashes" for r in records) == 1, "a hash list is sent once"
    trace = KernelTrace.from_records(records)
    assert [f.epochs_run for f in trace.fits] == [2, 2]
    assert trace.fits[0].train_hashes == hashes and trace.fits[1].image_prints is trace.fits[0].train_hashes
    assert trace.model.trained, "worked out from the fit records"
