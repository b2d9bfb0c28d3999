"""Handing out sheets: one signed sheet per roster student with every bank asked for; a
student's check of it runs on the sheet's own numbers and shows no key; the instructor's
grading verifies the signature and refuses an edited sheet; sheets handed out without
immediate feedback get no verdicts before grading; canvas.csv carries the roster's ids."""

from __future__ import annotations

import csv
import json
import re

import pytest

from grader.batch.store import BatchInfo, BatchRow, RowStatus
from grader.quiz.handout import numbers_of, verified
from grader.quiz.kinds import REGISTRY
from grader.quiz.render import result_document
from grader.quiz.sheets import grade_sheet, read_sheet
from grader.quiz.variants import Variant
from grader.roster import RosterError, file_stem, read_roster
from tests.quiz.test_quiz_variants import AUTO, SECRET, no_secret_in_the_environment  # noqa: F401

BANKS = ("cnn-exercises", "conv-arithmetic")
WRONG = ("incorrect", "partial")
CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (87568490)\n"
    "    Points Possible,,,,,26\n"
    '"Doe, Jane",1001,S-1001,jdoe,CNN 101 A,\n'
    '"Roe, Rich",1002,S-1002,,CNN 101 B,\n'
    '"Student, Test",1003,,,,\n'
)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "course-secret.txt"
    path.write_text(SECRET + "\n")
    return path


def hand_out(grader, tmp_path, secret_file, roster_text="student,name\nalice,Alice A\nbob,Bob B\n", *extra):
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text, encoding="utf-8")
    out = tmp_path / "sheets"
    result = grader("quiz", "handout", *BANKS, "--roster", roster, "--out", out, "--secret-file", secret_file, *extra)
    assert result.exit_code == 0, result.stderr
    return out


def filled(grader, sheet_path, student, secret_file, skip=frozenset()):
    """The handed-out sheet with every answer line but those of ``skip`` replaced by the key's
    (the rest as handed out)."""
    key = "\n".join(grader("quiz", "key", b, "--student", student, "--secret-file", secret_file).stdout for b in BANKS)
    answers = {line.split(": ", 1)[0]: line for line in key.splitlines() if line.startswith(BANKS)}
    answers = {qid: line for qid, line in answers.items() if qid not in skip}
    text = "\n".join(answers.get(line.split(": ", 1)[0], line) for line in sheet_path.read_text().splitlines())
    sheet_path.write_text(text + "\n")
    return sheet_path


def test_handout_writes_one_signed_sheet_per_student_with_every_bank(grader, catalog, tmp_path, secret_file):
    out = hand_out(grader, tmp_path, secret_file)
    assert sorted(p.name for p in out.iterdir()) == ["alice.yaml", "bob.yaml"]
    for student in ("alice", "bob"):
        text = (out / f"{student}.yaml").read_text()
        assert text.count("\nstudent: ") == 1 and f'student: "{student}"' in text and "seed:" not in text
        assert all(f"\n{q.id}: " in text for b in BANKS for q in catalog.bank(b).questions if REGISTRY[q.type].on_sheet)
        sheet = read_sheet(out / f"{student}.yaml", catalog)
        assert sheet.handout.banks == BANKS and sheet.handout.feedback == "immediate"
        assert verified(sheet.handout, SECRET.encode())
        graded = Variant.graded(student, SECRET.encode())
        for bank in map(catalog.bank, BANKS):
            for question in bank.questions:
                own = numbers_of(bank.instance(question, graded), bank)
                assert sheet.handout.numbers.get(question.id, {}) == own, question.id
    assert (
        read_sheet(out / "alice.yaml", catalog).handout.numbers != read_sheet(out / "bob.yaml", catalog).handout.numbers
    )


def test_a_canvas_roster_gives_each_student_a_sheet_under_their_login(grader, catalog, tmp_path, secret_file):
    out = hand_out(grader, tmp_path, secret_file, CANVAS_ROSTER)
    # the SIS Login ID, else the SIS User ID, else Canvas's ID; the Points Possible row is no student
    assert sorted(p.name for p in out.iterdir()) == ["1003.yaml", "S-1002.yaml", "jdoe.yaml"]
    assert read_sheet(out / "jdoe.yaml", catalog).handout.student == "jdoe"
    roster = read_roster(tmp_path / "roster.csv")
    jane = roster.find("JDOE ")
    assert (jane.name, jane.canvas_id, jane.sis_user_id, jane.section) == ("Doe, Jane", "1001", "S-1001", "CNN 101 A")


def test_file_names_are_safe_for_any_student_id(grader, tmp_path, secret_file):
    ids = ["../../escape", "a/b\\c", "José", "con", "-rf", "x" * 300, "ana.maria@uni.edu"]
    roster = "student\n" + "".join(f'"{i}"\n' for i in ids[:-2]) + f"{ids[-1]}\n"
    out = hand_out(grader, tmp_path, secret_file, roster)
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(ids) - 1  # the 300-character id is refused below
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,70}\.yaml", n) for n in names), names
    assert "ana.maria@uni.edu.yaml" in names and all(p.parent == out for p in out.iterdir())
    assert file_stem("José") != file_stem("Jose") and file_stem("con") != "con"
    jose = (out / f"{file_stem('José')}.yaml").read_text()
    assert '\nstudent: "José"\n' in jose  # as written in the roster, and graded as written
    checked = grader.json("quiz", "check", out / f"{file_stem('José')}.yaml", "--secret-file", secret_file)
    assert checked["variant"]["name"] == "José" and checked["handout"]["signature"] == "verified"
    with pytest.raises(RosterError, match=r"roster.csv:2: the student id 'xxx"):
        (tmp_path / "roster.csv").write_text(f"student\n{'x' * 300}\n")
        read_roster(tmp_path / "roster.csv")


def test_a_correct_handed_out_sheet_checked_without_the_secret_is_right_and_shows_no_key(
    grader, catalog, tmp_path, secret_file
):
    sheet = filled(grader, hand_out(grader, tmp_path, secret_file) / "alice.yaml", "alice", secret_file)
    html = tmp_path / "page.html"
    text = grader("quiz", "check", sheet, "--reveal", "--html", html)
    assert text.exit_code == 0, text.stderr
    assert "wrong" not in text.stdout and "close to the expected value" not in text.stdout
    assert "PRACTICE CHECK" not in text.stdout and "checked on the numbers written on this sheet" in text.stdout
    doc = grader.json("quiz", "check", sheet, "--reveal")
    assert doc["variant"] == {"kind": "sheet", "name": "alice", "practice_check": True}
    assert doc["handout"] == {"feedback": "immediate", "signature": "unchecked", "verdicts": True}
    assert set(q["status"] for q in doc["questions"] if q["type"] in AUTO) == {"correct"}
    assert not any(q["status"] in WRONG for q in doc["questions"])
    assert not any("expected" in q for q in doc["questions"]), "no key, even with --reveal"
    assert not any(f.startswith("Model answer") for q in doc["questions"] for f in q["feedback"])
    assert "Model answer" not in html.read_text() and "Expected:" not in html.read_text()
    # a wrong answer still gets its verdict and slip feedback, on the sheet's own numbers
    sheet.write_text(re.sub(r"(?m)^cnn-exercises/q2a: .*$", "cnn-exercises/q2a: 5", sheet.read_text()))
    wrong = {q["id"]: q for q in grader.json("quiz", "check", sheet)["questions"]}["cnn-exercises/q2a"]
    assert wrong["status"] == "incorrect" and wrong["feedback"]


def test_the_same_sheet_graded_with_the_secret_scores_full_marks(grader, catalog, tmp_path, secret_file):
    sheet = filled(grader, hand_out(grader, tmp_path, secret_file) / "alice.yaml", "alice", secret_file)
    doc = grader.json("quiz", "check", sheet, "--secret-file", secret_file)
    assert doc["variant"]["kind"] == "graded" and doc["handout"]["signature"] == "verified"
    auto = [q for q in doc["questions"] if q["type"] in AUTO]
    assert auto and all(q["points"] == q["points_possible"] for q in auto)
    score = doc["score"]
    assert score["points"] + score["pending_review"] == score["possible"]  # the rest is written answers to review


def test_an_edited_sheet_is_refused_with_the_secret(grader, catalog, tmp_path, secret_file):
    out = hand_out(grader, tmp_path, secret_file)
    sheet = out / "alice.yaml"
    text = sheet.read_text()
    line = next(line for line in text.splitlines() if line.startswith("    cnn-exercises/q2a: "))
    values = json.loads(line.split(": ", 1)[1])
    other = next(c for c in (64, 96, 100, 128) if c != values["f1"])  # another number the bank hands out
    sheet.write_text(text.replace(f'"f1": {values["f1"]}, ', f'"f1": {other}, '))  # in q2a, q2b and q2c
    refused = grader("quiz", "check", sheet, "--secret-file", secret_file)
    assert refused.exit_code == 1 and refused.stdout == ""
    number_line = text.splitlines().index(line) + 1
    assert f"{sheet}:{number_line}: cnn-exercises/q2a: the number f1 on the sheet ({other})" in refused.stderr
    assert "were edited" in refused.stderr
    # without the secret the student's check runs on the sheet's numbers (the edited one included):
    # only the instructor's grading can tell an edit within the bank's choices
    assert grader("quiz", "check", sheet).exit_code == 0
    # without it, a number shared by several questions but edited in one is refused
    sheet.write_text(text.replace(line, line.replace(f'"f1": {values["f1"]}', f'"f1": {other}')))
    one = grader("quiz", "check", sheet)
    assert one.exit_code == 1 and "were edited" in one.stderr
    assert f"{sheet}:{number_line + 1}: cnn-exercises/q2b: f1 = {values['f1']}, but cnn-exercises/q2a has {other}" in (
        one.stderr
    )
    # a number no variant holds is refused even without the secret
    sheet.write_text(text.replace(line, line.replace(f'"f1": {values["f1"]}', '"f1": 7')))
    impossible = grader("quiz", "check", sheet)
    assert impossible.exit_code == 1 and f"{sheet}:{number_line}: cnn-exercises/q2a: f1 = 7 is not" in impossible.stderr
    # a classmate's sheet with its student line changed: its numbers are not alice's
    bob = (out / "bob.yaml").read_text().replace('student: "bob"', 'student: "alice"')
    sheet.write_text(bob)
    copied = grader("quiz", "check", sheet, "--secret-file", secret_file)
    assert copied.exit_code == 1 and "not the one handed out to student 'alice'" in copied.stderr
    # the feedback line is signed too
    sheet.write_text(text.replace("feedback: immediate", "feedback: after-grading"))
    flipped = grader("quiz", "check", sheet, "--secret-file", secret_file)
    block_line = text.splitlines().index("handout:") + 1
    assert flipped.exit_code == 1 and f"{sheet}:{block_line}: handout: the signature does not hold" in flipped.stderr


def test_a_sheet_handed_out_without_immediate_feedback_gets_no_verdicts(grader, catalog, tmp_path, secret_file):
    out = hand_out(grader, tmp_path, secret_file, "student\nalice\n", "--feedback", "after-grading")
    sheet = filled(grader, out / "alice.yaml", "alice", secret_file)
    text = sheet.read_text()
    assert "feedback: after-grading" in text and "# Feedback after grading" in text
    text = re.sub(r"(?m)^cnn-exercises/q2a: .*$", "cnn-exercises/q2a: 5", text)  # wrong
    text = re.sub(r"(?m)^cnn-exercises/q2b: .*$", 'cnn-exercises/q2b: "12 Mb"', text)  # bits: cannot be read
    sheet.write_text(text)
    doc = grader.json("quiz", "check", sheet)
    statuses = {q["id"]: q["status"] for q in doc["questions"]}
    assert set(statuses.values()) <= {"answered", "invalid", "unanswered", "graded_elsewhere"}
    assert statuses["cnn-exercises/q2a"] == "answered" and statuses["cnn-exercises/q2b"] == "invalid"
    assert doc["handout"] == {"feedback": "after-grading", "signature": "unchecked", "verdicts": False}
    assert doc["score"]["points"] == 0 and not any(q["misconceptions"] for q in doc["questions"])
    report = grader("quiz", "check", sheet).stdout
    assert "No verdicts before grading" in report and "Total:" not in report and "wrong" not in report
    graded = grader.json("quiz", "check", sheet, "--secret-file", secret_file)  # the instructor's grading
    assert {q["id"]: q["status"] for q in graded["questions"]}["cnn-exercises/q2a"] == "incorrect"
    assert graded["handout"]["verdicts"] is True and graded["score"]["points"] > 0


def test_template_takes_several_banks_under_one_variant_line(grader, catalog):
    text = grader("quiz", "template", *BANKS, "--seed", "7").stdout
    assert text.count("\nseed: ") == 1 and "handout:" not in text
    assert all(f"\n{q.id}: " in text for b in BANKS for q in catalog.bank(b).questions if REGISTRY[q.type].on_sheet)
    assert grader("quiz", "template", BANKS[0], "--feedback", "after-grading").exit_code == 2


def test_a_roster_is_refused_with_its_line_when_it_cannot_be_used(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,section\nAna,A\n")
    with pytest.raises(RosterError, match=r"roster.csv:1: no column of student ids .*columns: name, section"):
        read_roster(roster)
    roster.write_text("login\nana\nbob\nAna \n")
    with pytest.raises(RosterError, match=r"roster.csv:4: student 'Ana' is listed twice \(first at line 2\)"):
        read_roster(roster)


def stored_batch(tmp_path, catalog, grader, secret_file) -> object:
    """A quiz batch's OUT as the batch stores it: jane's sheet handed out from the Canvas roster
    (submitted as jane_1.yaml: the file names another id than the sheet), and one student who
    is not on the roster."""
    sheets = hand_out(grader, tmp_path, secret_file, CANVAS_ROSTER)
    out = tmp_path / "out"
    written = {q.id for b in BANKS for q in catalog.bank(b).questions if q.type == "free_text"}  # none to review
    students = {"jane": filled(grader, sheets / "jdoe.yaml", "jdoe", secret_file, written), "zed": None}
    for student, sheet in students.items():
        document = None
        if sheet is not None:
            document = result_document(grade_sheet(catalog, sheet, secret=SECRET.encode()))
            (out / "feedback" / student).mkdir(parents=True)
            (out / "feedback" / student / "result.json").write_text(json.dumps(document))
        points = document["score"]["points"] if document else 0
        row = BatchRow(student, RowStatus.GRADED if document else RowStatus.INVALID, points, 26, "", str(sheet))
        (out / "results").mkdir(parents=True, exist_ok=True)
        (out / "results" / f"{student}.json").write_text(json.dumps(row.to_json()))
    BatchInfo("quiz", tuple(students)).write(out)
    return out


def test_canvas_csv_carries_the_rosters_canvas_ids(grader, catalog, tmp_path, secret_file):
    out = stored_batch(tmp_path, catalog, grader, secret_file)
    result = grader("export", out, "--roster", tmp_path / "roster.csv")
    assert result.exit_code == 0, result.stderr
    rows = {r[0]: r for r in csv.reader((out / "canvas.csv").open())}
    # matched by her sheet's student line (her file names another id)
    assert rows["Doe, Jane"][:5] == ["Doe, Jane", "1001", "S-1001", "jdoe", "CNN 101 A"]
    assert rows["zed"][:5] == ["zed", "", "", "zed", ""]  # not on the roster: as before
    (out / "canvas.csv").unlink()
    assert grader("export", out).exit_code == 0  # the roster OUT kept
    assert {r[0]: r for r in csv.reader((out / "canvas.csv").open())}["Doe, Jane"][1] == "1001"


def test_a_batch_child_without_the_secret_says_what_a_handed_out_sheet_was_graded_on(grader, tmp_path, secret_file):
    """Graded without the secret (grader batch --practice), a handed-out sheet is graded on its
    own numbers, unverified, and its row says so (not "a practice variant")."""
    from grader.batch.child import ChildJob, run
    from grader.batch.store import RowStatus
    from grader.batch.submissions import SubmissionKind

    sheet = filled(grader, hand_out(grader, tmp_path, secret_file) / "alice.yaml", "alice", secret_file)
    outcome = run(ChildJob(str(sheet), SubmissionKind.SHEET, "quiz", str(tmp_path / "feedback")))
    assert outcome.status is RowStatus.GRADED and outcome.practice_check
    assert "graded on the numbers written on the sheet of student 'alice' (not verified)" in outcome.message
