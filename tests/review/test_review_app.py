"""The review workspace in-process (Starlette's TestClient): token and CSRF, grouped answers,
decisions saved in the grades format and the gradebook regenerated from them."""

from __future__ import annotations

import csv
import json
import re

import pytest
import yaml

pytest.importorskip("starlette")
pytest.importorskip("multipart", reason="python-multipart (the review extra) reads the forms")

from starlette.testclient import TestClient  # noqa: E402

from grader.quiz.answers import Grade  # noqa: E402
from grader.quiz.sheets import grade_sheet, read_grades  # noqa: E402
from grader.review.app import create_app  # noqa: E402
from grader.review.groups import group_answers  # noqa: E402
from grader.review.regenerate import regenerate  # noqa: E402
from tests.quiz.test_quiz_variants import SECRET, graded_key_sheet, no_secret_in_the_environment  # noqa: E402, F401
from tests.review.test_review_fixtures import HOSTILE, NOTEBOOK_STUDENT, make_out  # noqa: E402

Q12 = "conv-arithmetic/q12"


@pytest.fixture
def out(tmp_path):
    return make_out(tmp_path)


@pytest.fixture
def client(out, catalog):
    app = create_app(out, token="secret-token", who="tester", model="lexical", catalog=catalog)
    client = TestClient(app)
    assert client.get("/?token=secret-token").status_code == 200  # sets the cookies
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def gradebook(out):
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_every_request_needs_the_token(out, catalog):
    client = TestClient(create_app(out, token="secret-token", model="lexical", catalog=catalog))
    assert client.get("/").status_code == 403
    assert client.get(f"/q/{Q12}").status_code == 403
    assert client.get("/?token=wrong").status_code == 403
    assert client.post(f"/q/{Q12}", data={"student": "dev", "points": "2"}).status_code == 403
    first = client.get("/?token=secret-token", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
    assert client.get("/").status_code == 200  # the cookie now


def test_a_post_without_the_csrf_token_is_refused(client, out):
    page = client.get(f"/q/{Q12}").text
    assert client.post(f"/q/{Q12}", data={"student": "dev", "points": "2"}).status_code == 403
    assert client.post(f"/q/{Q12}", data={"student": "dev", "points": "2", "csrf": "0" * 64}).status_code == 403
    assert not (out / "review" / "grades" / "dev.yaml").exists()
    assert client.post(f"/q/{Q12}", data={"student": "dev", "points": "2", "csrf": csrf_of(page)}).status_code == 200


def test_identical_and_near_identical_answers_form_one_group_largest_first(client):
    groups = group_answers(
        [
            ("a", "Pooling shrinks maps."),
            ("b", "pooling shrinks maps"),
            ("c", "Something else."),
            ("d", "Pooling shrinks the maps."),
            ("e", "Something else"),
        ]
    )
    assert [g.members for g in groups] == [("a", "b", "d"), ("c", "e")]
    page = client.get(f"/q/{Q12}").text
    first = page.index('id="g1"')
    assert page.index("dev, eli, gus", first) < page.index('id="g2"')


def test_grading_a_group_then_one_member_saves_grades_and_regenerates_the_gradebook(client, out, catalog):
    before = gradebook(out) if (out / "gradebook.csv").exists() else {}
    page = client.get(f"/q/{Q12}").text
    response = client.post(
        f"/q/{Q12}",
        data={
            "student": ["dev", "eli", "gus"],
            "points": "1",
            "comment": "only speed",
            "csrf": csrf_of(page),
            "next": "g2",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == f"/q/{Q12}#g2"
    response = client.post(f"/q/{Q12}", data={"student": "gus", "points": "1.5", "csrf": csrf_of(page)})
    assert response.status_code == 200
    grades = {s: read_grades(out / "review" / "grades" / f"{s}.yaml", catalog) for s in ("dev", "eli", "gus")}
    assert grades["dev"][Q12] == Grade(1.0, "only speed") and grades["gus"][Q12] == Grade(1.5, "")
    meta = json.loads((out / "review" / "decisions" / "dev.json").read_text())[Q12]
    assert meta["by"] == "tester" and meta["via"] == "group" and "at" in meta
    book = gradebook(out)
    assert float(book["gus"]["points"]) == float(before.get("gus", {}).get("points", 2)) + 1.5
    assert "written answers reviewed: 1 of 2; 2 points await review" in book["dev"]["message"]
    # the grades file is exactly what `grader quiz check --grades` reads
    row = json.loads((out / "results" / "dev.json").read_text())
    again = grade_sheet(catalog, row["submission"], None, grades["dev"])
    assert again.points == float(book["dev"]["points"]) == row["points"]
    assert "Instructor: only speed" in (out / "feedback" / "dev" / "feedback.html").read_text()
    assert "reviewed 3 of 5" in client.get(f"/q/{Q12}").text


def test_bad_points_get_a_clear_message(client):
    csrf = csrf_of(client.get(f"/q/{Q12}").text)
    for points, message in (
        ("3", "must be 0 to 2 in steps of 0.5"),
        ("0.3", "steps of 0.5"),
        ("lots", "must be a number"),
    ):
        response = client.post(f"/q/{Q12}", data={"student": "dev", "points": points, "csrf": csrf})
        assert response.status_code == 400 and message in response.text
    response = client.post(f"/q/{Q12}", data={"student": "nobody", "points": "1", "csrf": csrf})
    assert response.status_code == 400 and "no answer to" in response.text
    assert client.get("/q/conv-arithmetic/q99").status_code == 404


def test_student_text_is_shown_as_text(client):
    page = client.get(f"/q/{Q12}").text
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_notebook_check_can_be_overridden_with_a_comment(client, out):
    page = client.get(f"/nb/{NOTEBOOK_STUDENT}").text
    assert "images per class" in page and 'src="/nb/nora/executed"' in page
    response = client.post(
        f"/nb/{NOTEBOOK_STUDENT}",
        data={"check": "images_per_class", "points": "1.5", "comment": "class 3 was given", "csrf": csrf_of(page)},
    )
    assert response.status_code == 200 and "changed from 0" in response.text
    reviewed = json.loads((out / "feedback" / NOTEBOOK_STUDENT / "reviewed.json").read_text())
    assert reviewed["points"] == 2.5 + 1.5 + 1
    assert json.loads((out / "feedback" / NOTEBOOK_STUDENT / "result.json").read_text())["points"] == 3.5
    assert float(gradebook(out)[NOTEBOOK_STUDENT]["points"]) == 5.0
    assert yaml.safe_load((out / "review" / "grades" / "nora.yaml").read_text())["images_per_class"] == {
        "points": 1.5,
        "comment": "class 3 was given",
    }
    bad = client.post(f"/nb/{NOTEBOOK_STUDENT}", data={"check": "accuracy", "points": "9", "csrf": csrf_of(page)})
    assert bad.status_code == 400 and "0 to 2.5" in bad.text


def test_the_executed_notebook_is_rendered_in_a_sandbox(client):
    response = client.get(f"/nb/{NOTEBOOK_STUDENT}/executed")
    assert response.status_code == 200 and "Epoch 1/1" in response.text
    assert response.headers["content-security-policy"].startswith("sandbox")


def test_a_restart_shows_where_grading_stood(client, out, catalog):
    csrf = csrf_of(client.get(f"/q/{Q12}").text)
    client.post(f"/q/{Q12}", data={"student": ["dev", "eli", "gus"], "points": "1", "csrf": csrf})
    restarted = TestClient(create_app(out, token="t2", model="lexical", catalog=catalog))
    restarted.get("/?token=t2")
    assert "3 of 5" in restarted.get("/").text
    assert "reviewed 3 of 5" in restarted.get(f"/q/{Q12}").text


def test_regenerate_is_idempotent_and_restores_without_decisions(out, catalog):
    first = regenerate(out, catalog=catalog)
    second = regenerate(out, catalog=catalog)
    assert first == second
    assert (out / "gradebook.csv").exists() and (out / "canvas.csv").exists()


def test_bad_folders_and_grades_files_get_clear_messages(out, catalog, tmp_path, grader):
    from grader.errors import GraderError

    result = grader("review", tmp_path / "missing")
    assert result.exit_code == 1 and "no such folder" in result.stderr
    (tmp_path / "empty").mkdir()
    result = grader("review", tmp_path / "empty")
    assert result.exit_code == 1 and "no results/ folder" in result.stderr
    grades = out / "review" / "grades" / "dev.yaml"
    grades.parent.mkdir(parents=True)
    grades.write_text(f"{Q12}: {{points: lots}}\n")
    with pytest.raises(GraderError, match=r"dev.yaml: conv-arithmetic/q12: points must be a number"):
        create_app(out, token="t", model="lexical", catalog=catalog)


def named_sheet_out(tmp_path, grader, catalog, practice):
    """A batch's folder holding alice's handed-out sheet (it names her), graded as the batch
    grades it: on her graded numbers (with the secret), or on practice numbers (``practice``)."""
    secret_file = tmp_path / "course-secret.txt"
    secret_file.write_text(SECRET)
    sheet = graded_key_sheet(grader, tmp_path, "alice", "--secret-file", secret_file)
    kept = [line for line in sheet.read_text().splitlines() if not line.startswith(f"{Q12}:")]
    sheet.write_text("\n".join(kept) + f"\n{Q12}: Pooling makes the maps smaller.\n")
    result = grade_sheet(catalog, sheet, secret=None if practice else SECRET.encode())
    assert result.practice_check == practice
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    row = {
        "student": "alice",
        "status": "graded",
        "points": result.points,
        "points_possible": result.points_possible,
        "message": "graded on a practice variant: the batch had no course secret" if practice else "",
        "submission": str(sheet),
        "digest": "0" * 64,
        "seconds": 0.1,
        **({"practice_check": True} if practice else {}),
    }
    (out / "results" / "alice.json").write_text(json.dumps(row))
    return out


def grade_alice(app):
    client = TestClient(app)
    client.get("/?token=t")
    csrf = csrf_of(client.get(f"/q/{Q12}").text)
    assert client.post(f"/q/{Q12}", data={"student": "alice", "points": "1", "csrf": csrf}).status_code == 200


def test_a_batch_graded_on_practice_numbers_is_reviewed_only_as_practice(tmp_path, grader, catalog):
    from grader.errors import CourseSecretError

    out = named_sheet_out(tmp_path, grader, catalog, practice=True)
    for secret in (None, SECRET.encode()):  # the secret does not make its practice numbers graded ones
        with pytest.raises(CourseSecretError, match=r"practice numbers.*--secret-file PATH.*--practice"):
            create_app(out, token="t", model="lexical", catalog=catalog, course_secret=secret)
    assert not (out / "gradebook.csv").exists(), "nothing is written before the refusal"
    grade_alice(create_app(out, token="t", model="lexical", catalog=catalog, practice=True))
    row = json.loads((out / "results" / "alice.json").read_text())
    reviewed = json.loads((out / "feedback" / "alice" / "reviewed.json").read_text())
    assert row["practice_check"] is True and reviewed["variant"]["kind"] == "practice"


def test_sheets_graded_on_graded_numbers_are_regraded_with_the_secret_only(tmp_path, grader, catalog):
    from grader.errors import CourseSecretError

    out = named_sheet_out(tmp_path, grader, catalog, practice=False)
    for practice in (False, True):  # practice numbers would replace the graded ones
        with pytest.raises(CourseSecretError, match=r"alice.*course secret.*--secret-file PATH"):
            create_app(out, token="t", model="lexical", catalog=catalog, **({"practice": True} if practice else {}))
    grade_alice(create_app(out, token="t", model="lexical", catalog=catalog, course_secret=SECRET.encode()))
    reviewed = json.loads((out / "feedback" / "alice" / "reviewed.json").read_text())
    assert reviewed["variant"]["kind"] == "graded"
    assert {q["status"] for q in reviewed["questions"] if q["type"] == "integer"} == {"correct"}


def test_grader_review_without_the_secret_refuses_in_one_line(tmp_path, grader, catalog, monkeypatch):
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    out = named_sheet_out(tmp_path, grader, catalog, practice=False)
    refused = grader("review", out, "--model", "lexical")
    assert refused.exit_code == 1 and not served
    assert len(refused.stderr.strip().splitlines()) == 1 and "--secret-file PATH" in refused.stderr
    secret_file = tmp_path / "course-secret.txt"
    result = grader("review", out, "--model", "lexical", "--secret-file", secret_file)
    assert result.exit_code == 0, result.stderr
    assert len(served) == 1
