"""Similar submissions: planted, disguised copies among honest notebooks (several written from
the same public tutorial) and near-copies among honest written answers are ranked first and
flagged, honest pairs are not; what two students share is shown escaped, in words that leave
the verdict to the instructor (tests/similarity_class.py builds the class)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.batch.submissions import assignment_key, discover
from grader.schemas import schema_errors
from grader.similarity.notebooks import CODE, notebook_document
from grader.similarity.result import Material, Similarity
from grader.similarity.run import THRESHOLD, compare_folder, compare_submissions, write_similarity
from grader.similarity.tokens import code_units
from grader.similarity.winnowing import fingerprint
from tests.quiz.test_quiz_notebooks import as_notebook
from tests.similarity_class import NEAR_COPIES, notebook_class, sheet_class, write_notebook, write_starter

HOSTILE = "<script>alert('copied')</script>"


def ranking(similarity: Similarity, is_copy) -> tuple[list[float], list[float], int]:
    """(copies' scores, honest pairs' scores, honest pairs flagged)."""
    copies = [p.score for p in similarity.pairs if is_copy(p.a, p.b)]
    honest = [p for p in similarity.pairs if not is_copy(p.a, p.b)]
    return copies, [p.score for p in honest], sum(p.flagged for p in honest)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_disguised_notebook_copies_rank_above_every_honest_pair_and_are_flagged(tmp_path, seed):
    planted = notebook_class(tmp_path / "class", honest=20, tutorial=5, seed=seed)
    found = compare_folder(planted.folder, "mnist-cnn", tmp_path / "out", write_starter(tmp_path / "starter.ipynb"))
    copies, honest, honest_flagged = ranking(found, planted.is_copy)
    assert len(copies) == len(planted.copies) == 4, "every planted copy is found"
    assert min(copies) > max(honest), (copies, sorted(honest)[-3:])
    assert all(p.flagged for p in found.pairs if planted.is_copy(p.a, p.b))
    assert honest_flagged <= 1
    assert [p.score for p in found.pairs] == sorted((p.score for p in found.pairs), reverse=True)
    tutorial_pairs = [p for p in found.pairs if p.a in planted.tutorial and p.b in planted.tutorial]
    assert tutorial_pairs and not any(p.flagged for p in tutorial_pairs), "a shared public tutorial is not flagged"


def test_near_copies_of_written_answers_rank_first_and_are_flagged(tmp_path):
    planted = sheet_class(tmp_path / "sheets")
    found = compare_folder(planted.folder, "quiz", tmp_path / "out")
    assert found.material is Material.WRITTEN_ANSWERS
    copies, honest, honest_flagged = ranking(found, planted.is_copy)
    assert len(copies) == len(NEAR_COPIES)
    assert min(copies) > max(honest) and min(copies) >= THRESHOLD
    assert honest_flagged <= 1
    for pair in found.pairs[: len(copies)]:
        (question,) = {planted.copies.get((pair.a, pair.b)), planted.copies.get((pair.b, pair.a))} - {None}
        assert pair.evidence[0].question == question
        assert pair.evidence[0].a.marked and pair.evidence[0].b.marked, "the shared words are marked"


def test_notebook_sheets_are_compared_as_the_yaml_sheets_they_hold(tmp_path):
    """In a quiz batch a notebook is an answer sheet (its kind decided when it is found): the
    copiers handing in notebook sheets are found exactly as with YAML sheets."""
    planted = sheet_class(tmp_path / "sheets")
    as_yaml = compare_folder(planted.folder, "quiz", tmp_path / "out-yaml")
    for copier in {b for _, b in planted.copies}:
        path = planted.folder / f"{copier}.yaml"
        as_notebook(yaml.safe_load(path.read_text(encoding="utf-8")), path.with_suffix(".ipynb"))
        path.unlink()
    found = compare_folder(planted.folder, "quiz", tmp_path / "out-notebooks")
    assert set(found.students) == set(as_yaml.students) and not found.not_compared
    assert [(p.a, p.b, p.score) for p in found.pairs] == [(p.a, p.b, p.score) for p in as_yaml.pairs]


def test_renaming_reformatting_comments_and_numbers_leave_the_tokens_alike():
    original = "for i in range(10):\n    total = total + x[i] * 2  # sum\nprint('total', total)\n"
    disguised = '# my loop\nfor k in range( 12 ):\n\n    acc=acc+values[k]*3\nprint("total",acc)'
    assert [u.text for u in code_units(original, 0)] == [u.text for u in code_units(disguised, 0)]
    magic = code_units("%matplotlib inline\n!pip install keras\nx = 1\n", 0)
    assert [u.text for u in magic] == ["I", "=", "N"] and magic[0].position == 3
    broken = [u.text for u in code_units("def f(:\n    pass\ny = 2\n", 0)]
    assert broken[-3:] == ["I", "=", "N"], "a cell that does not parse is read line by line"


def test_split_merged_and_reordered_cells_keep_their_fingerprints(tmp_path):
    cells = [
        "import numpy as np\nx = np.arange(100).reshape(10, 10)\ny = x.T @ x\nprint(y.sum(), y.mean())",
        "def area(w, h):\n    return w * h if w > 0 and h > 0 else 0\nprint([area(i, i + 1) for i in range(5)])",
    ]
    write_notebook(tmp_path / "a.ipynb", cells)
    write_notebook(tmp_path / "b.ipynb", [cells[1], cells[0]])  # reordered
    write_notebook(tmp_path / "c.ipynb", ["\n".join(cells)])  # merged
    prints = [set(notebook_document(name, tmp_path / f"{name}.ipynb").prints) for name in "abc"]
    assert prints[0] == prints[1]
    assert prints[0] <= prints[2]


def test_a_passage_of_k_plus_w_minus_1_tokens_is_always_fingerprinted():
    shared = "model.add(layers.Conv2D(32, (3, 3), activation='relu', padding='same'))\n"
    a = code_units("a = [i ** 2 for i in range(3)]\n" + shared + "b = {1: 2}\n", 0)
    b = code_units("while True:\n    break\n" + shared, 0)
    assert len(code_units(shared, 0)) >= CODE.guaranteed
    assert set(fingerprint(a, CODE).prints) & set(fingerprint(b, CODE).prints)


def test_the_starter_template_counts_for_nothing(tmp_path):
    starter = ["import numpy as np\nfrom tensorflow import keras\n(x, y), (tx, ty) = keras.datasets.mnist.load_data()"]
    own = [
        "model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])",
        "for epoch in range(3):\n    model.fit(x, y, epochs=1)\n    print(model.evaluate(tx, ty))",
        "print(sorted({k: v for k, v in zip('abc', [3, 1, 2])}.items(), key=lambda t: t[1]))",
    ]
    for student, cell in zip(("ann", "bob", "cat"), own):
        (tmp_path / "class").mkdir(exist_ok=True)
        write_notebook(tmp_path / "class" / f"{student}.ipynb", [*starter, cell])
    write_notebook(tmp_path / "starter.ipynb", starter)
    without = compare_folder(tmp_path / "class", "mnist-cnn", tmp_path / "o1")
    assert without.pairs and max(p.score for p in without.pairs) > 0
    found = compare_folder(tmp_path / "class", "mnist-cnn", tmp_path / "o2", tmp_path / "starter.ipynb")
    assert not found.pairs, "only the starter's code is shared: nothing to show"
    assert found.template and "starter.ipynb" in found.template


def test_the_files_follow_the_schema_and_the_page_shows_student_text_as_text(tmp_path):
    planted = notebook_class(tmp_path / "class", honest=6, tutorial=0)
    for notebook in planted.folder.glob("c*/mnist.ipynb"):  # a copier's hostile string in shared code
        document = json.loads(notebook.read_text())
        document["cells"][2]["source"] += f"\nlabel = {HOSTILE!r}\n"
        notebook.write_text(json.dumps(document))
    (planted.folder / "zed.ipynb").write_text("{ not json", encoding="utf-8")
    found = compare_folder(planted.folder, "mnist-cnn", tmp_path / "out")
    json_path, html_path = write_similarity(found, tmp_path / "out")
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert schema_errors(document, "similarity") == []
    assert Similarity.from_document(document) == found
    assert any("zed" in n and "zed.ipynb" in n for n in document["not_compared"]), "the unreadable file is named"
    page = html_path.read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "<mark>" in page and "similar" in page and "share" in page
    assert not any(word in page.lower() for word in ("cheat", "plagiar", "guilty"))


def test_grader_similarity_reads_a_zip_and_names_what_it_cannot_read(tmp_path, grader):
    planted = sheet_class(tmp_path / "sheets")
    (planted.folder / "yan.yaml").write_text("- not\n- a mapping\n", encoding="utf-8")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(planted.folder.iterdir()):
            handle.write(path, path.name)
    result = grader("similarity", archive, "-a", "quiz", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert f"{len(NEAR_COPIES)} similar pairs flagged" in result.stdout
    assert "not compared: yan:" in result.stderr and "yan.yaml" in result.stderr
    assert (tmp_path / "out" / "similarity.html").is_file()
    refused = grader("similarity", planted.folder, "-a", "quiz", "--out", tmp_path / "o2", "--template", archive)
    assert refused.exit_code == 1 and "--template" in refused.stderr


def test_compare_submissions_leaves_out_refused_entries(tmp_path):
    planted = notebook_class(tmp_path / "class", honest=3, tutorial=0)
    key = assignment_key("mnist-cnn")
    submissions, _ = discover(
        planted.folder, refused=[("ivy/mnist.ipynb", "ivy/mnist.ipynb: too large")], assignment=key
    )
    assert "ivy" in {s.student for s in submissions}
    found = compare_submissions(submissions, key)
    assert "ivy" not in found.students and found.assignment == "mnist-cnn"


def test_a_batch_writes_its_similarity_and_the_class_report_shows_it(tmp_path):
    from grader.batch import Limits, run_batch

    planted = sheet_class(tmp_path / "all")
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("w0", "k0", "w1"):
        (subs / f"{student}.yaml").write_text((planted.folder / f"{student}.yaml").read_text())
    out = tmp_path / "out"
    run_batch(subs, "quiz", out, jobs=2, limits=Limits(120, 120))
    document = json.loads((out / "similarity.json").read_text())
    assert [(p["a"], p["b"], p["flagged"]) for p in document["pairs"][:1]] == [("k0", "w0", True)]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Similar submissions" in report and 'href="similarity.html"' in report
    assert Path(out / "similarity.html").is_file()
