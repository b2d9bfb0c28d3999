"""Pages everyone can read: every page the grader makes (a notebook's and an answer sheet's
feedback page, the class report, the similarity page, the review workspace) passes axe-core's
WCAG 2.1 A and AA rules with no serious or critical violation, checked in headless Chromium
(Debian's chromium and chromium-driver, driven by Selenium, as tests/test_review_browser.py
does). axe-core comes from npm (tests/a11y, installed by scripts/install-sandbox.sh); each page
is also kept as a screenshot under the test's folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.review.test_review_browser import CHROMIUM, DRIVER, Q12, Server, browser, shoot  # noqa: F401 (browser: a fixture)
from tests.review.test_review_fixtures import NOTEBOOK_STUDENT, add_notebook_student, write_sheets
from tests.similarity_class import notebook_class
from tests.test_pages import notebook_result

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = {"serious", "critical"}
pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not installed"),
    pytest.mark.skipif(
        not AXE.is_file(), reason="axe-core is not installed (scripts/install-sandbox.sh: npm ci in tests/a11y)"
    ),
]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"], iframes: false})
  .then(result => done(result.violations))
  .catch(error => done([{id: "axe-error", impact: "critical", help: String(error), nodes: []}]));
"""


def violations(driver) -> list[dict]:
    """axe-core's serious and critical violations of WCAG 2.1 A and AA on the page the browser shows."""
    driver.set_script_timeout(120)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(RUN_AXE, TAGS)
    return [v for v in found if v.get("impact") in SERIOUS]


def described(found: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; e.g. {[n['target'] for n in v['nodes'][:3]]} "
        f"{v['nodes'][0].get('failureSummary', '') if v['nodes'] else ''}"
        for v in found
    )


def check(driver, tmp_path: Path, name: str) -> None:
    shoot(driver, tmp_path, name)
    found = violations(driver)
    assert not found, f"{name}: {driver.current_url}\n{described(found)}"


def open_file(driver, path: Path) -> None:
    driver.get(path.as_uri())


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    """A batch of answer sheets (with near-identical written answers) and a graded notebook."""
    from grader.batch import Limits, run_batch
    from grader.batch.exports import export

    tmp = tmp_path_factory.mktemp("a11y")
    out = tmp / "out"
    run_batch(write_sheets(tmp / "subs"), "quiz", out, jobs=2, limits=Limits(120, 120))
    add_notebook_student(out)
    export(out)
    return out


def test_feedback_pages_pass_axe(browser, tmp_path, catalog):
    from grader.notebooks.report import html_page
    from grader.quiz.render import report_html
    from grader.quiz.sheets import grade_sheet

    pages = {"notebook-feedback": html_page(notebook_result())}
    pages["notebook-failed"] = html_page(
        notebook_result(status="error", confusion=None, mistakes=(), fits=(), measured_accuracy=None)
    )
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(
        'conv-arithmetic/q1: [[0, 0], [2, 4]]\ncnn-exercises/q1: "Weights are shared."\n'
        'cnn-exercises/q2b: "9 MB"\nconv-arithmetic/q7: [126, 126, 16]\n'
    )
    pages["quiz-feedback"] = report_html(grade_sheet(catalog, sheet))
    pages["quiz-feedback-revealed"] = report_html(grade_sheet(catalog, sheet), True)
    for name, html in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        open_file(browser, path)
        check(browser, tmp_path, name)


def test_class_report_and_similarity_pages_pass_axe(browser, tmp_path, batch_out):
    from grader.similarity.run import compare_folder, write_similarity

    planted = notebook_class(tmp_path / "class", honest=6, tutorial=2)
    write_similarity(compare_folder(planted.folder, "mnist-cnn", tmp_path / "sim"), tmp_path / "sim")
    assert "Similar submissions" in (batch_out / "report.html").read_text(encoding="utf-8")
    for name, path in {
        "class-report": batch_out / "report.html",
        "similarity-answers": batch_out / "similarity.html",
        "similarity-notebooks": tmp_path / "sim" / "similarity.html",
        "batch-notebook-feedback": batch_out / "feedback" / NOTEBOOK_STUDENT / "feedback.html",
    }.items():
        open_file(browser, path)
        check(browser, tmp_path, name)


def test_review_workspace_passes_axe(browser, tmp_path, batch_out):
    server = Server(batch_out)
    try:
        browser.get(server.url)
        check(browser, tmp_path, "review-overview")
        for name, page in {"review-question": f"/q/{Q12}", "review-notebook": f"/nb/{NOTEBOOK_STUDENT}"}.items():
            browser.get(server.base + page)
            check(browser, tmp_path, name)
        browser.get(server.base + "/q/no-such/question")
        check(browser, tmp_path, "review-error")
    finally:
        server.stop()


def test_figures_say_what_they_show():
    from grader.notebooks.report import html_page

    alts = dict(
        re.findall(r'<figure class="[^"]*" id="([^"]+)"><img src="[^"]+" alt="([^"]*)"', html_page(notebook_result()))
    )
    assert set(alts) == {"confusion", "mistakes", "curves", "parameters", "per-class"}
    assert "91.43% answered right" in alts["confusion"], alts["confusion"]  # 950 of the 1,050 in the matrix
    assert "most often confused: 0 taken for 1, once" in alts["confusion"], alts["confusion"]
    assert "12" in alts["mistakes"], alts["mistakes"]
    assert "line style" in alts["curves"] or "dashed" in alts["curves"], alts["curves"]
