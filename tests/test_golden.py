"""Golden files: the shipped reference answer keys and a student's report stay as they are
unless changed on purpose (``pytest --update-golden``)."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("bank", ["cnn-exercises", "conv-arithmetic"])
def test_reference_keys_are_what_the_calculators_give(grader, golden, bank):
    golden(ROOT / "reference" / "quiz" / f"{bank}.yaml", grader("quiz", "key", bank).stdout)


def test_reference_sheets_with_the_reference_grades_score_full_marks(grader):
    for bank in ("cnn-exercises", "conv-arithmetic"):
        doc = grader.json(
            "quiz",
            "check",
            ROOT / "reference" / "quiz" / f"{bank}.yaml",
            "--grades",
            ROOT / "reference" / "quiz" / "grades.yaml",
        )
        assert doc["score"]["points"] == doc["score"]["possible"] and doc["score"]["pending_review"] == 0


def test_report_of_an_example_sheet(grader, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden(ROOT / "tests" / "golden" / "ana-report.txt", grader("quiz", "check", "examples/quiz/ana.yaml").stdout)
