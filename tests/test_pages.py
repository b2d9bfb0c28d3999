"""Feedback pages people look at: each figure is on the page, student text stays text, and
the pages render in headless Chromium (screenshots kept under the test's folder)."""

from __future__ import annotations

import base64
import shutil
import subprocess

import numpy as np
import pytest

from grader.notebooks.checks import CheckResult
from grader.notebooks.report import html_page
from grader.notebooks.results import NotebookResult
from grader.quiz.render import report_html
from grader.quiz.sheets import grade_sheet

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def digit_pixels(seed: int) -> str:
    image = np.random.default_rng(seed).integers(0, 256, size=(28, 28), dtype=np.uint8)
    return base64.b64encode(image.tobytes()).decode()


def notebook_result(**changes) -> NotebookResult:
    matrix = (np.eye(10, dtype=int) * 95 + 1).tolist()
    fields = dict(
        notebook=f"students/{HOSTILE}.ipynb",
        assignment="transfer-learning",
        status="graded",
        messages=(f"The notebook printed {HOSTILE}",),
        data="Data: test",
        measured_accuracy=0.95,
        claimed_accuracy=0.97,
        checks=(
            CheckResult("accuracy", 2.5, 1.0, "Measured 95%."),
            CheckResult("images_per_class", 1.5, 0.0, "Too few training images (class 3: 40)."),
            CheckResult("frozen_then_unfrozen", 2, 0.5, "never unfrozen"),
        ),
        confusion={"labels": list(range(10)), "matrix": matrix},
        mistakes=tuple(
            {"index": i, "true": i % 10, "predicted": (i + 1) % 10, "confidence": 0.9, "pixels": digit_pixels(i)}
            for i in range(12)
        ),
        fits=(
            {
                "epochs_run": 3,
                "seconds": 4.0,
                "frozen_params": 9000,
                "trainable_params": 500,
                "label_counts": {"0": 150, "3": 40},
                "history": {
                    "loss": [1.0, 0.6, 0.4],
                    "accuracy": [0.6, 0.8, 0.9],
                    "val_loss": [0.9, 0.7, 0.5],
                    "val_accuracy": [0.7, 0.8, 0.85],
                },
            },
            {
                "epochs_run": 2,
                "seconds": 3.0,
                "frozen_params": 4000,
                "trainable_params": 5500,
                "label_counts": {"0": 150, "3": 40},
                "history": {"loss": [0.35, 0.3], "accuracy": [0.92, 0.94]},
            },
        ),
    )
    fields.update(changes)
    return NotebookResult(**fields)


def screenshot(html: str, tmp_path, name: str) -> bytes:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("Chromium is not installed (scripts/install-sandbox.sh installs it)")
    page, png = tmp_path / f"{name}.html", tmp_path / f"{name}.png"
    page.write_text(html, encoding="utf-8")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,2400",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert png.exists(), "Chromium wrote no screenshot"
    return png.read_bytes()


def test_a_notebook_page_shows_the_students_figures():
    page = html_page(notebook_result())
    for figure in ("confusion", "mistakes", "curves", "parameters", "per-class"):
        assert f'id="{figure}"' in page, figure
    assert page.count("data:image/png;base64,") == 5
    assert "<script>" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


def test_a_failed_notebook_page_has_no_empty_figures():
    page = html_page(notebook_result(status="error", confusion=None, mistakes=(), fits=(), measured_accuracy=None))
    assert "data:image/png" not in page and "What your model does" not in page


def test_a_quiz_page_draws_grids_and_keeps_written_answers_as_text(catalog, tmp_path):
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(
        f'conv-arithmetic/q1: [[0, 0], [2, 4]]\ncnn-exercises/q1: "{HOSTILE} {"x" * 3000}"\ncnn-exercises/q2b: "9 MB"\n'
    )
    page = report_html(grade_sheet(catalog, sheet))
    assert 'class="grid"' in page and 'class="wrong"' in page
    assert "common slip" in page and "parameters left out" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_pages_render_in_chromium(catalog, tmp_path):
    shot = screenshot(html_page(notebook_result()), tmp_path, "notebook")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000, "a page with figures, not a blank one"
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text('conv-arithmetic/q1: [[0, 0], [2, 4]]\ncnn-exercises/q2b: "9 MB"\n')
    shot = screenshot(report_html(grade_sheet(catalog, sheet)), tmp_path, "quiz")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_stored_result_gives_the_same_page_again():
    result = notebook_result()
    again = NotebookResult.from_document(result.document())
    assert again == result
    assert html_page(again) == html_page(result)
