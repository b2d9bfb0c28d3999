"""The grading steps on what a run left behind, without running a notebook: a measurement
error's kind, not its wording, decides the status, flag and advice; a step that settles the
grade ends the steps, and the hold on a notebook reaching into the grader applies whatever
they settled."""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader.notebooks import execute as ex
from grader.notebooks import grading, sentences
from grader.notebooks.assignment import load_assignment
from grader.notebooks.flags import Flag
from grader.notebooks.isolation import RunFolders
from grader.notebooks.measure import MeasureErrorKind, MeasurementError
from grader.notebooks.source_scan import Finding, Reach
from grader.notebooks.status import Status
from grader.notebooks.trace import KernelTrace
from tests.conftest import ROOT

FAST = load_assignment(str(ROOT / "tests" / "data" / "mnist-fast.yaml"))


class Data:
    """The grader's prepared data, as far as the steps read it."""

    fingerprints: tuple[str, ...] = ()
    heldout, heldout_sha256, full = Path("heldout.npz"), "", False

    def __init__(self) -> None:
        self.discarded = False

    def discard(self) -> None:
        self.discarded = True


class Refusing:
    """A measurer that could not measure, for the reason given."""

    def __init__(self, error: MeasurementError) -> None:
        self.error = error

    def measure(self, *args: object) -> None:
        raise self.error


def evidence(tmp_path: Path, error: MeasurementError, status: ex.RunStatus = ex.OK) -> grading.Evidence:
    model = tmp_path / "model.keras"
    model.write_bytes(b"saved")
    run = ex.Execution(status, nbformat.v4.new_notebook())
    return grading.Evidence(run, KernelTrace(), model, Data(), FAST, RunFolders(tmp_path), Refusing(error))  # type: ignore[arg-type]


def test_changed_heldout_data_is_refused_by_its_kind(tmp_path):
    found = evidence(tmp_path, MeasurementError(MeasureErrorKind.HELDOUT_CHANGED, "any wording at all"))
    a = grading.assess(found, [])
    assert a.ended and a.status is Status.MEASURE_FAILED
    assert a.flags == [Flag.GRADER_DATA_CHANGED] and a.messages == [sentences.HELDOUT_DATA_CHANGED]
    assert found.data.discarded, "the grader's data is prepared again"
    assert {c.message for c in a.checks} == {f"Not checked: {sentences.HELDOUT_CHANGED}"}


def test_a_model_with_python_code_gets_advice_by_kind(tmp_path):
    error = MeasurementError(MeasureErrorKind.CUSTOM_OBJECT, "any wording", "MyNet")
    a = grading.assess(evidence(tmp_path, error), [])
    assert a.status is Status.MEASURE_FAILED and a.flags == [Flag.CUSTOM_OBJECT]
    assert "'MyNet'" in a.messages[0] and a.transform is not None, "the inferred preprocessing is still shown"


def test_the_hold_for_review_applies_after_the_steps_ended(tmp_path):
    error = MeasurementError(MeasureErrorKind.NOT_MEASURED, "ValueError: the model outputs shape (3,)")
    a = grading.assess(evidence(tmp_path, error), [Finding(2, 1, Reach.MODULE_TABLE, "sys.modules")])
    assert a.flags == [Flag.REACHES_INTO_GRADER] and a.training is None and a.fits == ()
    assert a.messages[0] == "The saved model could not be measured: ValueError: the model outputs shape (3,)"
    assert a.messages[-1].startswith("The notebook's code reaches into the grader's own code")
