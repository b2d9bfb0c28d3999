"""Points that wait for a person's decision (written answers not yet reviewed) are visible in
every export until someone has decided them: the gradebook and summary say how many, the
class report lists the students, canvas.csv holds their rows out (or marks them, as the
instructor chooses) and Gradescope calls the answers pending, never failed. After the review
workspace has decided every written answer the exports written again show final points and
no pending."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

from grader.batch.store import CanvasPending, ScoreStatus
from grader.quiz.bank import Catalog
from grader.quiz.results import QuestionStatus
from grader.quiz.sheets import grade_sheet
from tests.review.test_review_fixtures import write_sheets

WRITTEN = ("carla", "dev", "eli")  # sheets with written answers (conv-arithmetic/q12, some q13)
FINAL = "zed"  # a sheet with no written answer: nothing to review


def batch(subs, out, *options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(subs), "--assignment", "quiz", "--out", str(out), *options],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A quiz batch, Canvas rows held (the default): three sheets with written answers, one without."""
    folder = tmp_path_factory.mktemp("pending")
    subs = write_sheets(folder / "all")
    keep = {f"{s}.yaml" for s in WRITTEN}
    for path in subs.iterdir():
        if path.name not in keep:
            path.unlink()
    (subs / f"{FINAL}.yaml").write_text("conv-arithmetic/q7: [126, 126, 16]\n", encoding="utf-8")
    out = folder / "out"
    result = batch(subs, out)
    assert result.returncode == 0, result.stderr
    return subs, out


def expected_pending(subs) -> dict[str, float]:
    """What the sheets leave to review, from grading them here (not from the batch's files)."""
    catalog = Catalog.load()
    return {path.stem: grade_sheet(catalog, path).pending_review for path in sorted(subs.glob("*.yaml"))}


def gradebook(out) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def canvas(out) -> list[list[str]]:
    with open(out / "canvas.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def gradescope(out, student) -> dict:
    return json.loads((out / "gradescope" / student / "results.json").read_text(encoding="utf-8"))


def test_the_sheets_leave_points_to_review(graded):
    subs, _ = graded
    pending = expected_pending(subs)
    assert all(pending[s] > 0 for s in WRITTEN) and pending[FINAL] == 0


def test_the_gradebook_has_a_pending_column_and_a_score_status(graded):
    subs, out = graded
    pending, book = expected_pending(subs), gradebook(out)
    for student, points in pending.items():
        assert float(book[student]["pending_points"]) == points
        want = ScoreStatus.PENDING_REVIEW if points else ScoreStatus.FINAL
        assert book[student]["score_status"] == want
    stored = json.loads((out / "results" / "carla.json").read_text())
    assert stored["pending_points"] == pending["carla"], "the stored row carries it: every export reads it there"


def test_the_summary_says_which_totals_are_not_final(graded):
    subs, out = graded
    pending = expected_pending(subs)
    summary = (out / "summary.txt").read_text()
    total = sum(pending.values())
    line = next(line for line in summary.splitlines() if line.startswith("pending review:"))
    assert f"3 students, {total:g} points" in line and "not final" in line
    assert all(f"{s} {pending[s]:g}" in line for s in WRITTEN) and FINAL not in line
    held = next(line for line in summary.splitlines() if line.startswith("canvas.csv:"))
    assert "held out" in held and all(s in held for s in WRITTEN)


def test_canvas_holds_rows_with_pending_points_by_default(graded):
    _, out = graded
    rows = canvas(out)
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and len(rows[0]) == 6
    assert [r[0] for r in rows[2:]] == [FINAL], "only the final total goes to Canvas"


def test_the_class_report_lists_the_totals_still_to_review(graded):
    subs, out = graded
    pending = expected_pending(subs)
    page = (out / "report.html").read_text()
    assert 'id="pending"' in page and "not final" in page
    section = page[page.index('id="pending"') :]
    section = section[: section.index("</table>")]
    for student in WRITTEN:
        assert re.search(rf"<td>{student}</td>.*?<td class=\"num\">{pending[student]:g}</td>", section, re.S)
    assert f"<td>{FINAL}</td>" not in section
    assert "pending review: 3" in page


def test_gradescope_calls_unreviewed_answers_pending_never_failed(graded):
    subs, out = graded
    pending = expected_pending(subs)
    for student in WRITTEN:
        results = gradescope(out, student)
        document = json.loads((out / "feedback" / student / "result.json").read_text())
        waiting = {q["id"] for q in document["questions"] if q["status"] == QuestionStatus.NEEDS_REVIEW}
        assert waiting
        for test in results["tests"]:
            if test["name"] in waiting:
                assert "status" not in test and "score" not in test, "no pass, no fail, no score yet"
                assert test["output"].startswith("Pending review") and test["visibility"] == "visible"
                assert test["extra_data"]["pending_points"] > 0
            else:
                assert test["status"] in ("passed", "failed")
        assert results["extra_data"]["pending_points"] == pending[student]
        assert results["visibility"] == "after_published", "a total that is not final is not shown yet"
        assert "not final" in results["output"].lower()
    final = gradescope(out, FINAL)
    assert "visibility" not in final and "extra_data" not in final
    assert all(t["status"] in ("passed", "failed") for t in final["tests"])


def test_canvas_marks_instead_when_asked_and_the_choice_is_kept(graded, tmp_path, grader):
    subs, original = graded
    out = tmp_path / "out"
    shutil.copytree(original, out)
    pending = expected_pending(subs)
    result = grader("export", out, "--canvas-pending", "mark")
    assert result.exit_code == 0, result.stderr
    rows = canvas(out)
    assert rows[0][-1].startswith("Pending review") and rows[1][-1] == "(read only)", "Canvas skips the column"
    marked = {r[0]: r for r in rows[2:]}
    assert set(marked) == {*WRITTEN, FINAL}
    assert all(float(marked[s][-1]) == pending[s] for s in marked)
    assert json.loads((out / "batch.json").read_text())["canvas_pending"] == CanvasPending.MARK
    assert grader("export", out).exit_code == 0
    assert len(canvas(out)) == 2 + 4, "a later export (and the review's) keeps the choice"
    assert "canvas.csv: marked with their pending points" in (out / "summary.txt").read_text()
    assert grader("export", out, "--canvas-pending", "hold").exit_code == 0
    assert [r[0] for r in canvas(out)[2:]] == [FINAL]


def test_the_default_is_stated_in_the_help(grader):
    for command in ("export", "batch"):
        text = " ".join(grader(command, "--help").stdout.split())
        assert "--canvas-pending [hold|mark]" in text and "hold" in text and "default" in text.lower()


def test_after_every_decision_in_the_review_workspace_the_exports_are_final(graded, tmp_path, catalog):
    pytest.importorskip("starlette")
    pytest.importorskip("multipart", reason="python-multipart (the review extra) reads the forms")
    from starlette.testclient import TestClient

    from grader.review.app import create_app

    subs, original = graded
    out = tmp_path / "out"
    shutil.copytree(original, out)
    client = TestClient(create_app(out, token="t", who="tester", model="lexical", catalog=catalog))
    assert client.get("/?token=t").status_code == 200
    waiting: dict[str, list[tuple[str, float]]] = {}
    for student in WRITTEN:
        document = json.loads((out / "feedback" / student / "result.json").read_text())
        for q in document["questions"]:
            if q["status"] == QuestionStatus.NEEDS_REVIEW:
                waiting.setdefault(q["id"], []).append((student, q["points_possible"]))

    def decide(qid, student, points):
        page = client.get(f"/q/{qid}").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        response = client.post(f"/q/{qid}", data={"student": student, "points": f"{points:g}", "csrf": csrf})
        assert response.status_code == 200, response.text

    first_qid = next(iter(waiting))
    first_student, first_points = waiting[first_qid][0]
    decide(first_qid, first_student, first_points)
    book = gradebook(out)
    assert all(book[s]["score_status"] == ScoreStatus.PENDING_REVIEW for s in WRITTEN if s != first_student)

    for qid, answers in waiting.items():
        for student, possible in answers:
            if (qid, student) != (first_qid, first_student):
                decide(qid, student, possible / 2)
    book = gradebook(out)
    for student in (*WRITTEN, FINAL):
        assert float(book[student]["pending_points"]) == 0 and book[student]["score_status"] == ScoreStatus.FINAL
    documents = {s: json.loads((out / "feedback" / s / "reviewed.json").read_text()) for s in WRITTEN}
    for student in WRITTEN:
        assert float(book[student]["points"]) == documents[student]["score"]["points"]
    assert [r[0] for r in canvas(out)[2:]] == sorted((*WRITTEN, FINAL)), "nothing held any more"
    summary = (out / "summary.txt").read_text()
    assert "pending review" not in summary and "held out" not in summary
    assert 'id="pending"' not in (out / "report.html").read_text()
    for student in WRITTEN:
        results = gradescope(out, student)
        assert "visibility" not in results and "extra_data" not in results
        assert all(t["status"] in ("passed", "failed") and "score" in t for t in results["tests"])
        assert results["score"] == documents[student]["score"]["points"]


def test_a_row_stored_before_rows_recorded_pending_points_takes_them_from_its_result_document(graded, tmp_path, grader):
    subs, original = graded
    out = tmp_path / "out"
    shutil.copytree(original, out)
    path = out / "results" / "carla.json"
    row = json.loads(path.read_text())
    del row["pending_points"]  # as an older grader wrote it
    path.write_text(json.dumps(row))
    assert grader("export", out).exit_code == 0
    book = gradebook(out)
    assert float(book["carla"]["pending_points"]) == expected_pending(subs)["carla"]
    assert book["carla"]["score_status"] == ScoreStatus.PENDING_REVIEW
    assert "carla" not in [r[0] for r in canvas(out)[2:]]
