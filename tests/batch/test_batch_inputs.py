"""``grader batch`` with hostile or stale inputs: zip bombs and unsafe paths are refused for
their student only, the extraction's memory stays flat whatever the zip expands to, results
are keyed by the submission and the assignment, and ids are compared and exported safely."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

from grader.batch import AssignmentKey, ZipLimits, discover, unpack
from tests.conftest import ROOT

SHEETS = ROOT / "examples" / "quiz"
MB = 1 << 20


def batch(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", *map(str, args)], capture_output=True, text=True, check=False
    )


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def make_zip(path: Path, entries: dict[str, bytes | int | zipfile.ZipInfo]) -> Path:
    """A zip of ``entries``: bytes as they are, an int as that many MB of zeros written in
    chunks (a zip bomb, made without holding it in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as handle:
                    for _ in range(content):
                        handle.write(bytes(MB))
            else:
                archive.writestr(name, content)
    return path


def sheet(name: str) -> bytes:
    return (SHEETS / name).read_bytes()


def sizes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# ---- zip bombs ----


def test_a_zip_bomb_is_refused_for_its_student_and_the_class_is_graded(tmp_path):
    archive = make_zip(
        tmp_path / "export.zip",
        {
            "ana_1/model.ipynb": 64,
            "ana_1/answers.yaml": sheet("ana.yaml"),
            "ben_2.yaml": sheet("ben.yaml"),
            "carla_3/answers.yaml": sheet("carla.yaml"),
        },
    )
    assert archive.stat().st_size < MB
    out = tmp_path / "out"
    result = batch(archive, "--assignment", "quiz", "--out", out, "--zip-entry-limit", 16)
    assert result.returncode == 0, result.stderr
    book = gradebook(out)
    assert set(book) == {"ana", "ben", "carla"}
    assert book["ana"]["status"] == "rejected" and book["ana"]["points"] == "0"
    message = book["ana"]["message"]
    assert message.startswith("ana_1/model.ipynb expands to more than 16 MB (compression ")
    assert "it was not extracted" in message and "the submission was not graded" in message
    assert int(message.split("compression ")[1].split(":")[0]) > 100
    assert book["ben"]["status"] == "graded" and float(book["ben"]["points"]) > 0
    assert book["carla"]["status"] == "graded" and float(book["carla"]["points"]) > 0
    assert sizes(out) < 2 * MB, "the bomb was extracted"
    assert "rejected 1" in (out / "summary.txt").read_text()


def test_extraction_and_discovery_keep_memory_flat(tmp_path):
    """A large entry within the limits is streamed to disk and hashed in chunks; a bomb past
    them is refused before anything is written."""
    archive = make_zip(
        tmp_path / "export.zip",
        {"ana_1/answers.yaml": 40, "ben_2.yaml": sheet("ben.yaml"), "carla_3/answers.yaml": 200},
    )
    out = tmp_path / "out"
    out.mkdir()
    tracemalloc.start()
    try:
        unpacked = unpack(archive, out, ZipLimits(entry_mb=64, total_mb=512, ratio=1e6))
        submissions, _ = discover(unpacked.folder, refused=unpacked.refused)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB, f"extracting and hashing held {peak / MB:.0f} MB at once"
    assert (unpacked.folder / "ana_1" / "answers.yaml").stat().st_size == 40 * MB
    assert not (unpacked.folder / "carla_3" / "answers.yaml").exists()
    assert {s.student: bool(s.refused) for s in submissions} == {"ana": False, "ben": False, "carla": True}


def test_the_size_written_is_checked_not_only_the_header(tmp_path, monkeypatch):
    """Headers can lie: an entry whose stream runs past its declared size is stopped at the limit."""
    archive = make_zip(tmp_path / "export.zip", {"ana_1/answers.yaml": b"x" * 1000, "ben_2.yaml": b"y"})

    class Endless(io.RawIOBase):  # what a decompressor that trusts the data would give: 64 MB, not 1 KB
        left = 64 * MB

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            size = min(self.left, size if size > 0 else MB)
            self.left -= size
            return bytes(size)

    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, member, *a, **k: (
            Endless() if getattr(member, "filename", member).startswith("ana_1/") else real_open(self, member, *a, **k)
        ),
    )
    out = tmp_path / "out"
    out.mkdir()
    unpacked = unpack(archive, out, ZipLimits(entry_mb=4, total_mb=512, ratio=1e6))
    assert [name for name, _ in unpacked.refused] == ["ana_1/answers.yaml"]
    assert "expands to more than 4 MB" in unpacked.refused[0][1]
    assert not (unpacked.folder / "ana_1" / "answers.yaml").exists() and sizes(out) < 8 * MB


def test_a_header_smaller_than_the_data_is_a_damaged_entry(tmp_path):
    archive = make_zip(tmp_path / "export.zip", {"ana_1/answers.yaml": bytes(8 * MB), "ben_2.yaml": sheet("ben.yaml")})
    data = bytearray(archive.read_bytes())
    # Declare 1,000 bytes uncompressed in both headers of the first entry.
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature)
        assert struct.unpack_from("<I", data, at + size_at)[0] == 8 * MB
        struct.pack_into("<I", data, at + size_at, 1000)
    archive.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    unpacked = unpack(archive, out, ZipLimits(entry_mb=4, total_mb=512, ratio=1e6))
    assert len(unpacked.refused) == 1 and "ana_1/answers.yaml is damaged in the zip" in unpacked.refused[0][1]
    assert (unpacked.folder / "ben_2.yaml").exists() and sizes(out) < MB


def test_the_whole_zip_is_bounded_and_only_entries_past_the_bound_are_refused(tmp_path):
    archive = make_zip(tmp_path / "export.zip", {"ana_1.yaml": 6, "ben_2.yaml": 6, "carla_3.yaml": sheet("carla.yaml")})
    out = tmp_path / "out"
    out.mkdir()
    unpacked = unpack(archive, out, ZipLimits(entry_mb=8, total_mb=10, ratio=1e6))
    assert unpacked.refused == (
        ("ben_2.yaml", "ben_2.yaml would take the extracted zip past 10 MB in all; it was not extracted"),
    )
    submissions, _ = discover(unpacked.folder, refused=unpacked.refused)
    assert {s.student: bool(s.refused) for s in submissions} == {"ana": False, "ben": True, "carla": False}


# ---- paths that leave the folder ----


def test_an_unsafe_entry_is_refused_alone_and_the_rest_is_graded(tmp_path):
    link = zipfile.ZipInfo("eve_5/answers.yaml")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ana_1.yaml", sheet("ana.yaml"))
        z.writestr("ben_2.yaml", sheet("ben.yaml"))
        z.writestr("../evil.yaml", sheet("ben.yaml"))
        z.writestr("/tmp/abs-evil.yaml", sheet("ben.yaml"))
        z.writestr("../\x1b[2Jred.yaml", b"x")
        z.writestr("dana_4/../../evil.yaml", sheet("ben.yaml"))
        z.writestr("dana_4/answers.yaml", sheet("ana.yaml"))
        z.writestr(link, str(ROOT / "examples" / "quiz" / "ana.yaml"))
    out = tmp_path / "deep" / "out"
    result = batch(archive, "--assignment", "quiz", "--out", out)
    assert result.returncode == 0, result.stderr
    book = gradebook(out)
    assert set(book) == {"ana", "ben", "dana", "eve"}
    assert book["ana"]["status"] == book["ben"]["status"] == "graded"
    assert book["dana"]["status"] == "rejected"
    assert book["dana"]["message"].startswith("dana_4/../../evil.yaml: its path leaves the folder")
    assert book["eve"]["status"] == "rejected"
    assert book["eve"]["message"].startswith("eve_5/answers.yaml is a symbolic link; it was not extracted")
    summary = (out / "summary.txt").read_text()
    assert "../evil.yaml: its path leaves the folder" in summary
    assert "/tmp/abs-evil.yaml: its path is absolute" in summary
    assert "\x1b" not in summary + result.stdout and "../\\x1b[2Jred.yaml" in summary
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert not (tmp_path / "deep" / "evil.yaml").exists() and not (tmp_path / "evil.yaml").exists()
    assert not Path("/tmp/abs-evil.yaml").exists()


# ---- stale inputs: another zip, another assignment ----


def results(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def test_a_second_zip_into_the_same_out_is_extracted_and_graded(tmp_path):
    out = tmp_path / "out"
    first = make_zip(tmp_path / "first.zip", {"ana_1.yaml": sheet("ana.yaml"), "ben_2.yaml": sheet("ben.yaml")})
    assert batch(first, "--assignment", "quiz", "--out", out).returncode == 0
    graded_before = results(out)
    second = make_zip(
        tmp_path / "second.zip",
        {"ana_1.yaml": sheet("broken.yaml"), "ben_2.yaml": sheet("ben.yaml"), "carla_3.yaml": sheet("carla.yaml")},
    )
    result = batch(second, "--assignment", "quiz", "--out", out)
    assert result.returncode == 0, result.stderr
    book = gradebook(out)
    assert set(book) == {"ana", "ben", "carla"}
    assert book["ana"]["message"] == "4 answer(s) could not be read", "the first zip's file was graded again"
    assert "second.zip" in (out / "summary.txt").read_text()
    after = results(out)
    # ben's sheet did not change: his result is kept, and names the file in the second zip.
    assert after["ben"]["seconds"] == graded_before["ben"]["seconds"]
    assert after["ben"]["submission"] == book["ben"]["submission"] != graded_before["ben"]["submission"]
    assert Path(graded_before["ana"]["submission"]).is_file(), "the first extraction was removed"
    # The first zip again: its extraction is reused and ana's first sheet is graded again.
    assert batch(first, "--assignment", "quiz", "--out", out, "--regrade").returncode == 0
    assert gradebook(out)["ana"]["message"] == "" and len(list((out / "unzipped").iterdir())) == 2


def test_another_assignment_into_the_same_out_is_refused_or_regraded_with_regrade(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana_1.yaml").write_bytes(sheet("ana.yaml"))
    out = tmp_path / "out"
    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    before = (out / "results" / "ana.json").read_text()
    assert json.loads(before)["assignment"] == "quiz"
    refused = batch(subs, "--assignment", "quiz:midterm", "--out", out)
    assert refused.returncode == 1
    assert "holds results of assignment 'quiz'" in refused.stderr and "--regrade" in refused.stderr
    assert (out / "results" / "ana.json").read_text() == before
    result = batch(subs, "--assignment", "quiz:midterm", "--out", out, "--regrade")
    assert result.returncode == 0, result.stderr
    assert results(out)["ana"]["assignment"] == "quiz:midterm"
    kept = list((out / "replaced").glob("*/ana.json"))
    assert len(kept) == 1 and kept[0].read_text() == before, "the other assignment's result was lost"


def test_an_assignment_neither_known_nor_a_file_is_refused_naming_the_known_ones(tmp_path, grader):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana_1.yaml").write_bytes(sheet("ana.yaml"))
    out = tmp_path / "out"
    refused = batch(subs, "--assignment", "quiz.yaml", "--out", out)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    for said in ("'quiz.yaml'", "no such file", "quiz (answer sheets", "quiz:NAME", "mnist-cnn", "transfer-learning"):
        assert said in refused.stderr
    assert not out.exists(), "nothing is written for an assignment that does not exist"
    notebook = tmp_path / "ana.ipynb"
    notebook.write_text("{}")
    for command in ("grade", "check"):
        result = grader(command, notebook, "-a", "quiz.yaml")
        assert result.exit_code == 1 and "'quiz.yaml'" in result.stderr and "mnist-cnn" in result.stderr
        assert "the path of an assignment YAML file" in result.stderr


def test_a_changed_assignment_file_regrades_its_results(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana_1.yaml").write_bytes(sheet("ana.yaml"))
    assignment = tmp_path / "quiz-week1.yaml"
    assignment.write_text("version: 1\n")
    out = tmp_path / "out"
    assert batch(subs, "--assignment", assignment, "--out", out).returncode == 0
    first = results(out)["ana"]
    assert first["assignment"] == "quiz-week1" and first["assignment_sha256"]
    assert batch(subs, "--assignment", assignment, "--out", out).returncode == 0
    assert results(out)["ana"] == first, "an unchanged result was graded again"
    assignment.write_text("version: 2\n")
    assert batch(subs, "--assignment", assignment, "--out", out).returncode == 0
    assert results(out)["ana"]["assignment_sha256"] != first["assignment_sha256"]


# ---- which file is graded ----


def test_a_file_at_the_top_of_the_folder_is_graded_before_nested_ones_and_the_row_says_so(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ana" / "a_old").mkdir(parents=True)
    (subs / "ana" / "final.yaml").write_bytes(sheet("broken.yaml"))
    (subs / "ana" / "a_old" / "draft.yaml").write_bytes(sheet("ana.yaml"))  # newer, but nested
    os.utime(subs / "ana" / "final.yaml", (time.time() - 3600,) * 2)
    out = tmp_path / "out"
    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    row = gradebook(out)["ana"]
    assert row["submission"].endswith("ana/final.yaml")
    assert "graded ana/final.yaml; not graded: ana/a_old/draft.yaml" in row["message"]


def test_the_file_graded_is_of_the_assignments_kind_then_named_like_it_then_the_newest(tmp_path):
    subs = tmp_path / "subs"
    for student, files in {
        "bo": ["notes.ipynb", "answers.yaml"],
        "cy": ["draft.yaml", "final.yaml"],
        "di": ["quiz-answers.yaml", "other.yaml"],
    }.items():
        (subs / student).mkdir(parents=True)
        for age, name in enumerate(files):  # the last one listed is the newest
            (subs / student / name).write_text("x")
            os.utime(subs / student / name, (time.time() - 3600 + age,) * 2)
    chosen = lambda key: {s.student: s.path.name for s in discover(subs, assignment=key)[0]}
    assert chosen(AssignmentKey("quiz", None, False)) == {
        "bo": "answers.yaml",
        "cy": "final.yaml",
        "di": "quiz-answers.yaml",
    }
    assert chosen(AssignmentKey("mnist-cnn", "0" * 64, True))["bo"] == "notes.ipynb"


# ---- student ids ----


def test_ids_starting_like_a_formula_are_neutralised_in_every_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    ids = ['=HYPERLINK("evil")', "+1", "-2", "@SUM(A1)"]
    for i, student in enumerate(ids):
        (subs / f"{student}_{i}.yaml").write_bytes(sheet("ana.yaml"))
    out = tmp_path / "out"
    result = batch(subs, "--assignment", "quiz", "--out", out, "--canvas-pending", "mark")  # every row in canvas.csv
    assert result.returncode == 0, result.stderr
    assert set(gradebook(out)) == {"'" + student for student in ids}
    with open(out / "canvas.csv", newline="", encoding="utf-8") as handle:
        canvas = list(csv.reader(handle))[2:]
    assert sorted(row[0] for row in canvas) == sorted(row[3] for row in canvas) == sorted("'" + s for s in ids)
    assert set(results(out)) == set(ids), "the results keep the ids themselves"


def test_ids_differing_only_in_case_or_unicode_form_are_one_student(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    files = {
        "Ana_1.yaml": "ana.yaml",
        "ana_2.yaml": "ben.yaml",  # the newest of each student is last
        unicodedata.normalize("NFD", "José_3.yaml"): "carla.yaml",
        unicodedata.normalize("NFC", "José_4.yaml"): "ana.yaml",
        "ｅｖｅ_5.yaml": "ben.yaml",
        "eve_6.yaml": "carla.yaml",
    }
    for age, (name, source) in enumerate(files.items()):
        (subs / name).write_bytes(sheet(source))
        os.utime(subs / name, (time.time() - 3600 + age,) * 2)
    out = tmp_path / "out"
    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    book = gradebook(out)
    assert set(book) == {"ana", unicodedata.normalize("NFC", "José"), "eve"}
    assert book["ana"]["submission"].endswith("ana_2.yaml")
    assert "older submissions ignored: Ana_1.yaml" in book["ana"]["message"]
    assert "also submitted as Ana: the same student" in book["ana"]["message"]
    assert "also submitted as ｅｖｅ" in book["eve"]["message"]


# ---- nothing to grade ----


def test_an_empty_zip_or_folder_is_an_error_and_keeps_the_earlier_gradebook(tmp_path):
    out = tmp_path / "out"
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana_1.yaml").write_bytes(sheet("ana.yaml"))
    assert batch(subs, "--assignment", "quiz", "--out", out).returncode == 0
    before = (out / "gradebook.csv").read_text()
    empty = make_zip(tmp_path / "empty.zip", {})
    result = batch(empty, "--assignment", "quiz", "--out", out)
    assert result.returncode == 1
    assert "no submission found, 0 students graded" in result.stderr
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("x")
    result = batch(notes, "--assignment", "quiz", "--out", out)
    assert result.returncode == 1 and "readme.txt: no notebook or answer sheet in it" in result.stderr
    assert (out / "gradebook.csv").read_text() == before
