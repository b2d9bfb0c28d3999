"""``grader quiz export``: every export is read back as its platform would read it (an XML
parser; the QTI zip unpacked; GIFT and Cloze fields by Moodle's own rules, ported below) and
each key, cell and dimension is compared with ``grader quiz key`` for the default numbers
and for every exported practice variant."""

from __future__ import annotations

import html
import io
import itertools
import re
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import main
from grader.lms import FORMATS, markup
from grader.lms.export import WRITERS
from grader.lms.model import BODIES, Answer, Field, describe_bank
from grader.lms.moodle import cloze_field
from grader.quiz import checking, quantities
from grader.quiz.bank import Catalog, load_bank
from grader.quiz.kinds import REGISTRY
from grader.quiz.question_type import QuestionType
from tests.quiz.test_quiz_stays_light import run_probe

BANKS = ("cnn-exercises", "conv-arithmetic")
VARIANTS = 3
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
NAME = re.compile(r"^(?P<id>[\w-]+/\w+)(?:: .*?)?(?: \(practice variant (?P<seed>[\w-]+)\))?$")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Each shipped bank in each format, with practice variants, through the command."""
    folder = tmp_path_factory.mktemp("exports")
    paths = {}
    for bank, fmt in itertools.product(BANKS, FORMATS):
        path = folder / f"{bank}.{fmt}"
        result = run("quiz", "export", bank, "--format", fmt, "--out", path, "--variants", VARIANTS)
        assert result.exit_code == 0, result.output
        paths[bank, fmt] = path
    return paths


_keys: dict[tuple[str, str | None], dict] = {}


def quiz_key(bank: str, seed: str | None) -> dict:
    """``grader quiz key BANK [--seed SEED]``, read as the YAML sheet it is."""
    if (bank, seed) not in _keys:
        result = run("quiz", "key", bank, *(["--seed", seed] if seed else []))
        assert result.exit_code == 0, result.output
        _keys[bank, seed] = yaml.safe_load(result.stdout)
    return _keys[bank, seed]


def expected(bank: str, question_id: str, seed: str | None):
    key = quiz_key(bank, seed)[question_id]
    if isinstance(key, str) and key.endswith(" B"):  # a size: bytes on the key sheet
        return float(key.removesuffix(" B"))
    return key


def identify(name: str) -> tuple[str, str | None]:
    match = NAME.match(name)
    assert match, name
    return match["id"], match["seed"]


def text_of(fragment: str) -> str:
    """The text a browser shows for an HTML fragment (entities decoded, tags dropped)."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


# --- Moodle XML, read as Moodle's importer reads it ------------------------------------

# qtype_multianswer's regular expressions (Python wants its look-behinds split up).
CLOZE_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
CLOZE_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
CLOZE_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
CLOZE_ALTERNATIVE = f"({CLOZE_FRACTION})?({CLOZE_ANSWER})(#({CLOZE_FEEDBACK}))?"
CLOZE_FIELD = re.compile(r"\{([0-9]*):(NUMERICAL|NM):(" + CLOZE_ALTERNATIVE + f"(~{CLOZE_ALTERNATIVE})*)" + r"\}", re.S)


def cloze_fields(text: str) -> list[list[tuple[float, float, float, str]]]:
    """Each NUMERICAL field of a Cloze question text: (fraction, value, tolerance, feedback)."""
    fields = []
    for match in CLOZE_FIELD.finditer(text):
        answers, rest = [], match.group(3)
        while rest:
            alt = re.match("~?" + CLOZE_ALTERNATIVE, rest, re.S)
            fraction = 1.0 if alt.group(1) == "=" else float(alt.group(2) or 0) / 100
            value, _, tolerance = alt.group(3).partition(":")
            feedback = html.unescape(alt.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            answers.append((fraction, float(value), float(tolerance or 0), feedback))
            rest = rest[alt.end() :]
        fields.append(answers)
    return fields


def moodle_questions(path: Path) -> list[dict]:
    """Every question of a Moodle XML file with the category it is imported into."""
    category, questions = None, []
    for node in ET.parse(path).getroot().iter("question"):
        if node.get("type") == "category":
            category = node.findtext("category/text")
            continue
        question = {
            "type": node.get("type"),
            "name": node.findtext("name/text"),
            "text": node.findtext("questiontext/text") or "",
            "category": category,
            "answers": [
                {
                    "fraction": float(a.get("fraction")) / 100,
                    "text": a.findtext("text"),
                    "tolerance": float(a.findtext("tolerance") or 0),
                    "feedback": text_of(a.findtext("feedback/text") or ""),
                }
                for a in node.findall("answer")
            ],
            "units": {u.findtext("unit_name"): float(u.findtext("multiplier")) for u in node.findall("units/unit")},
            "graderinfo": text_of(node.findtext("graderinfo/text") or ""),
            "node": node,
        }
        question["id"], question["seed"] = identify(question["name"])
        questions.append(question)
    return questions


# --- GIFT, read as Moodle's GIFT importer reads it ---------------------------------------

_GIFT_PRE = {"\\:": "&&058;", "\\#": "&&035;", "\\=": "&&061;", "\\{": "&&123;", "\\}": "&&125;", "\\~": "&&126;"}
_GIFT_POST = {"&&058;": ":", "&&035;": "#", "&&061;": "=", "&&123;": "{", "&&125;": "}", "&&126;": "~", "&&010": "\n"}


def _gift_pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _GIFT_PRE.items():
        text = text.replace(escaped, placeholder)
    return text.replace("\\n", "&&010").replace("&&092;", "\\")


def _gift_post(text: str) -> str:
    for placeholder, char in _GIFT_POST.items():
        text = text.replace(placeholder, char)
    return text.strip().removeprefix("[html]")


def gift_questions(text: str) -> tuple[list[dict], list[str]]:
    """The questions of a GIFT file and its comment lines."""
    questions, comments, category = [], [], None
    for block in re.split(r"\n\s*\n", text):
        lines = block.splitlines()
        comments += [line for line in lines if line.strip().startswith("//")]
        body = _gift_pre("\n".join(line for line in lines if not line.strip().startswith("//")).strip())
        if not body:
            continue
        if body.startswith("$CATEGORY:"):
            category = body[10:].strip()
            continue
        assert body.startswith("::"), body[:80]
        end = body.index("::", 2)
        name, rest = _gift_post(body[2:end]), body[end + 2 :]
        start, finish = rest.index("{"), rest.index("}")
        answer = rest[start + 1 : finish].strip()
        question = {"name": name, "text": _gift_post(rest[:start]), "category": category, "answers": []}
        question["id"], question["seed"] = identify(name)
        if "####" in answer:
            answer, general = answer.rsplit("####", 1)
            question["general"] = _gift_post(general)
            answer = answer.strip()
        if answer == "":
            question["type"] = "essay"
        elif answer.startswith("#"):
            question["type"] = "numerical"
            for part in [p.strip() for p in answer[1:].split("=") if p.strip()]:
                weight = re.match(r"^%(-?[0-9.]+)%", part)
                fraction = float(weight.group(1)) / 100 if weight else 1.0
                part = part[weight.end() :] if weight else part
                value, _, feedback = part.partition("#")
                number, _, tolerance = value.partition(":")
                question["answers"].append(
                    {"fraction": fraction, "text": number.strip(), "tolerance": float(tolerance or 0)}
                    | {"feedback": text_of(_gift_post(feedback))}
                )
        else:
            question["type"] = "multichoice"
            question["single"] = "=" in answer
            for part in [p.strip() for p in answer.replace("=", "~=").split("~") if p.strip()]:
                weight = re.match(r"^%(-?[0-9.]+)%", part)
                fraction = 1.0 if part.startswith("=") else (float(weight.group(1)) / 100 if weight else 0.0)
                part = part[1:] if part.startswith("=") else (part[weight.end() :] if weight else part)
                option, _, feedback = part.partition("#")
                question["answers"].append(
                    {
                        "fraction": fraction,
                        "text": text_of(_gift_post(option)),
                        "feedback": text_of(_gift_post(feedback)),
                    }
                )
        questions.append(question)
    return questions, comments


# --- Canvas QTI, unzipped and checked against the structure Canvas imports ---------------


def qti_files(path: Path) -> dict[str, ET.Element]:
    with zipfile.ZipFile(path) as archive:
        return {name: ET.fromstring(archive.read(name)) for name in archive.namelist()}


def qti_items(path: Path) -> tuple[list[dict], list[ET.Element]]:
    """Every item of the assessment (with the group holding it, if any) and the groups."""
    files = qti_files(path)
    manifest = files["imsmanifest.xml"]
    cp = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
    resources = manifest.findall(f"{cp}resources/{cp}resource")
    test_resource = next(r for r in resources if r.get("type") == "imsqti_xmlv1p2")
    for resource in resources:
        for file in resource.findall(f"{cp}file"):
            assert file.get("href") in files, f"the manifest names {file.get('href')}, which the zip lacks"
    meta_ref = test_resource.find(f"{cp}dependency").get("identifierref")
    assert any(r.get("identifier") == meta_ref for r in resources)
    root = files[test_resource.find(f"{cp}file").get("href")]
    assert root.tag == f"{QTI}questestinterop"
    section = root.find(f"{QTI}assessment/{QTI}section")
    assert section.get("ident") == "root_section"
    items, groups = [], []
    for child in section:
        if child.tag == f"{QTI}section":
            groups.append(child)
            items += [(item, child) for item in child.findall(f"{QTI}item")]
        elif child.tag == f"{QTI}item":
            items.append((child, None))
    return [qti_item(item, group) for item, group in items], groups


def qti_item(node: ET.Element, group: ET.Element | None) -> dict:
    meta = {
        f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
        for f in node.iterfind(f"{QTI}itemmetadata/{QTI}qtimetadata/{QTI}qtimetadatafield")
    }
    text = node.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")
    assert text is not None and node.find(f"{QTI}resprocessing/{QTI}outcomes/{QTI}decvar") is not None
    item = {"node": node, "meta": meta, "type": meta["question_type"], "text": text, "group": group}
    item["id"], item["seed"] = identify(node.get("title"))
    feedback = {
        f.get("ident"): f.findtext(f"{QTI}flow_mat/{QTI}material/{QTI}mattext")
        for f in node.findall(f"{QTI}itemfeedback")
    }
    item["feedback"] = {k: text_of(v) for k, v in feedback.items()}
    return item


def qti_numerical_key(item: dict) -> tuple[float, float]:
    condition = next(
        c
        for c in item["node"].iter(f"{QTI}respcondition")
        if c.findtext(f"{QTI}setvar") == "100" and c.find(f"{QTI}conditionvar/{QTI}or") is not None
    )
    either = condition.find(f"{QTI}conditionvar/{QTI}or")
    key = float(either.findtext(f"{QTI}varequal"))
    high = float(either.findtext(f"{QTI}and/{QTI}varlte"))
    assert float(either.findtext(f"{QTI}and/{QTI}vargte")) == pytest.approx(2 * key - high)
    return key, high - key


def qti_blanks(item: dict) -> dict[str, str]:
    """Each blank's name and the answer text Canvas accepts for it."""
    blanks = {}
    for lid in item["node"].iterfind(f"{QTI}presentation/{QTI}response_lid"):
        name = lid.findtext(f"{QTI}material/{QTI}mattext")
        assert lid.get("ident") == f"response_{name}" and f"[{name}]" in item["text"]
        (label,) = lid.iterfind(f"{QTI}render_choice/{QTI}response_label")
        blanks[name] = label.findtext(f"{QTI}material/{QTI}mattext")
    return blanks


# --- the keys ----------------------------------------------------------------------------


def question_of(catalog: Catalog, question_id: str):
    return catalog.find(question_id)[1]


def unit_scale(question) -> int:
    spec = question.spec
    return quantities.BYTE_UNITS[spec.get("unit", "B").lower()] if spec.get("quantity") == "bytes" else 1


def check_key(catalog: Catalog, bank: str, question_id: str, seed: str | None, value) -> None:
    """``value`` (a number, a grid as rows, a shape) equals ``grader quiz key``'s."""
    question = question_of(catalog, question_id)
    key = expected(bank, question_id, seed)
    if question.type == QuestionType.NUMBER:
        assert value * unit_scale(question) == pytest.approx(key, rel=1e-12), (question_id, seed)
    else:
        assert value == key, (question_id, seed)


def numeric_ids(catalog: Catalog, bank: str) -> set[str]:
    return {q.id for q in catalog.bank(bank).questions if REGISTRY[q.type].computed}


def varied_ids(catalog: Catalog, bank: str) -> set[str]:
    b = catalog.bank(bank)
    return {q.id for q in b.questions if REGISTRY[q.type].computed and b.has_variants(q)}


def gradable_ids(catalog: Catalog, bank: str) -> set[str]:
    return {q.id for q in catalog.bank(bank).questions if REGISTRY[q.type].on_sheet}


@pytest.mark.parametrize("bank", BANKS)
def test_moodle_keys_cells_and_dimensions_equal_grader_quiz_key(exports, catalog, bank):
    questions = moodle_questions(exports[bank, "moodle"])
    checked = set()
    for q in questions:
        if q["id"] not in numeric_ids(catalog, bank):
            continue
        checked.add((q["id"], q["seed"]))
        if q["type"] == "numerical":
            key = q["answers"][0]
            assert key["fraction"] == 1 and all(a["fraction"] == 0 for a in q["answers"][1:])
            check_key(catalog, bank, q["id"], q["seed"], float(key["text"]))
        else:
            assert q["type"] == "cloze"
            fields = cloze_fields(q["text"])
            keys = [answers[0] for answers in fields]
            assert all(fraction == 1 for fraction, *_ in keys)
            values = [value for _, value, *_ in keys]
            if question_of(catalog, q["id"]).type == QuestionType.SHAPE:
                check_key(catalog, bank, q["id"], q["seed"], values)
            else:
                width = len(expected(bank, q["id"], q["seed"])[0])
                check_key(
                    catalog, bank, q["id"], q["seed"], [values[i : i + width] for i in range(0, len(values), width)]
                )
    seeds = {seed for _, seed in checked} - {None}
    assert seeds and all(re.fullmatch(r"lms-[0-9]+", seed) for seed in seeds)  # seeds whose numbers repeat are passed
    assert {qid for qid, seed in checked if seed is None} == numeric_ids(catalog, bank)
    for qid in varied_ids(catalog, bank):
        variants = [q for q in questions if q["id"] == qid and q["seed"]]
        assert len(variants) == VARIANTS
        assert {q["category"] for q in variants} == {f"$course$/top/{bank} practice variants/{qid.split('/')[1]}"}
    assert {q["category"] for q in questions if q["seed"] is None} == {f"$course$/top/{bank}"}


@pytest.mark.parametrize("bank", BANKS)
def test_qti_keys_cells_and_dimensions_equal_grader_quiz_key(exports, catalog, bank):
    items, groups = qti_items(exports[bank, "qti"])
    seen = set()
    for item in items:
        if item["id"] not in numeric_ids(catalog, bank):
            continue
        seen.add((item["id"], item["seed"]))
        if item["type"] == "numerical_question":
            check_key(catalog, bank, item["id"], item["seed"], qti_numerical_key(item)[0])
        else:
            assert item["type"] == "fill_in_multiple_blanks_question"
            blanks = qti_blanks(item)
            key = expected(bank, item["id"], item["seed"])
            if question_of(catalog, item["id"]).type == QuestionType.SHAPE:
                assert list(blanks) == ["height", "width", "channels"]
                assert [int(v) for v in blanks.values()] == key
            else:
                cells = {f"r{r}c{c}": str(v) for r, row in enumerate(key, 1) for c, v in enumerate(row, 1)}
                assert blanks == cells
    # Canvas quizzes take one practice variant per student: a question with variants is a pick-1 group of them.
    assert {qid for qid, seed in seen if seed is None} == numeric_ids(catalog, bank) - varied_ids(catalog, bank)
    assert len(groups) == len(varied_ids(catalog, bank))
    for group in groups:
        assert group.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number") == "1"
        members = [i for i in items if i["group"] is group]
        assert len(members) == VARIANTS and len({i["id"] for i in members}) == 1
        points = group.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_extension/{QTI}points_per_item")
        assert float(points) == question_of(catalog, members[0]["id"]).points


@pytest.mark.parametrize("bank", BANKS)
def test_gift_keys_equal_grader_quiz_key_and_fields_are_left_out_with_a_line(exports, catalog, bank):
    questions, comments = gift_questions(exports[bank, "gift"].read_text(encoding="utf-8"))
    carried = {q.id for q in catalog.bank(bank).questions if q.type in (QuestionType.INTEGER, QuestionType.NUMBER)}
    for q in questions:
        if q["type"] == "numerical":
            check_key(catalog, bank, q["id"], q["seed"], float(q["answers"][0]["text"]))
    assert {q["id"] for q in questions if q["type"] == "numerical" and not q["seed"]} == carried
    for qid in gradable_ids(catalog, bank) - {q["id"] for q in questions}:
        assert any(line.startswith(f"// {qid} left out: GIFT has no question") for line in comments)


def test_the_reversed_layers_slip_is_a_wrong_answer_with_its_feedback(exports, tmp_path):
    message = "Your answer is what you get if the layers were taken in reverse order."
    moodle = moodle_questions(exports["cnn-exercises", "moodle"])
    (q2a,) = [q for q in moodle if q["id"] == "cnn-exercises/q2a" and not q["seed"]]
    answer = next(a for a in q2a["answers"] if a["text"] == "911500")
    assert answer["fraction"] == 0 and answer["tolerance"] == 0 and answer["feedback"] == message
    questions, _ = gift_questions(exports["cnn-exercises", "gift"].read_text(encoding="utf-8"))
    (q2a,) = [q for q in questions if q["id"] == "cnn-exercises/q2a" and not q["seed"]]
    assert {"fraction": 0.0, "text": "911500", "tolerance": 0.0, "feedback": message} in q2a["answers"]
    # Canvas counts every answer of a numerical question as right: the slips are in the wrong answer's feedback.
    # (With practice variants a Canvas quiz has only those: the default numbers are exported without.)
    assert run("quiz", "export", "cnn-exercises", "--format", "qti", "--out", tmp_path / "q.zip").exit_code == 0
    items, groups = qti_items(tmp_path / "q.zip")
    assert not groups
    (q2a,) = [i for i in items if i["id"] == "cnn-exercises/q2a"]
    assert f"911500: {message}" in q2a["feedback"]["general_incorrect_fb"]


def moodle_match(answers: list[dict], value: float) -> dict | None:
    """The answer Moodle's numerical question matches: the first whose tolerance holds ``value``."""
    return next((a for a in answers if abs(value - float(a["text"])) <= a["tolerance"] + 1e-9), None)


@pytest.mark.parametrize("bank", BANKS)
def test_the_feedback_moodle_gives_a_wrong_number_is_what_grader_quiz_check_gives(exports, catalog, bank):
    """Inside and around every answer's range, Moodle's first matching answer names the slip
    that grader quiz check names (or, like it, none): overlapping tolerances are split."""
    for q in moodle_questions(exports[bank, "moodle"]):
        if q["type"] != "numerical":
            continue
        b, question = catalog.find(q["id"])
        inst = b.instance(question, q["seed"])  # a practice seed, or None: the default numbers
        unit = question.spec.get("unit", "") if question.spec.get("quantity") == "bytes" else ""
        for answer in q["answers"]:
            centre, error = float(answer["text"]), answer["tolerance"]
            for response in {
                centre,
                centre - 0.9 * error,
                centre + 0.9 * error,
                centre - 1.1 * error,
                centre + 1.1 * error,
            }:
                raw = f"{response!r} {unit}" if unit else int(response)
                result = checking.check(inst, raw, 1)
                shown = moodle_match(q["answers"], response)
                where = (q["name"], response, result.feedback)
                if shown is None:  # (a unit mislabelled, MB for MiB, is no slip: Moodle converts units first)
                    assert result.fraction == 0 and set(result.misconceptions) <= {"prefix_mixed_up"}, where
                elif shown["fraction"] == 1:
                    assert result.fraction == 1, where
                else:
                    assert result.fraction == 0 and shown["feedback"] in result.feedback, where


@pytest.mark.parametrize("bank", BANKS)
def test_every_gradable_question_is_exported_and_the_rest_said_to_be_left_out(exports, catalog, bank):
    gradable = gradable_ids(catalog, bank)
    left = {q.id for q in catalog.bank(bank).questions} - gradable
    moodle = exports[bank, "moodle"]
    assert {q["id"] for q in moodle_questions(moodle) if not q["seed"]} == gradable
    items, _ = qti_items(exports[bank, "qti"])
    assert {i["id"] for i in items} == gradable
    text = moodle.read_text(encoding="utf-8")
    gift = exports[bank, "gift"].read_text(encoding="utf-8")
    for qid in left:
        assert f"<!-- {qid} left out: " in text and f"\n// {qid} left out: " in gift
    assert left, "each shipped bank has a notebook question"


@pytest.mark.parametrize("bank", BANKS)
def test_written_questions_are_essays_with_key_points_and_model_answer(exports, catalog, bank):
    written = {q.id: q for q in catalog.bank(bank).questions if q.type == QuestionType.FREE_TEXT}
    assert written
    for q in moodle_questions(exports[bank, "moodle"]):
        if q["id"] in written:
            spec = written[q["id"]].spec
            assert q["type"] == "essay"
            assert all(point in q["graderinfo"] for point in spec["key_points"])
            assert " ".join(spec["model_answer"].split()) in q["graderinfo"]
    items, _ = qti_items(exports[bank, "qti"])
    assert {i["id"] for i in items if i["type"] == "essay_question"} == set(written)
    questions, _ = gift_questions(exports[bank, "gift"].read_text(encoding="utf-8"))
    assert {q["id"] for q in questions if q["type"] == "essay"} == set(written)


def moodle_score(fractions: list[float], picked: set[int]) -> float:
    """Moodle's multichoice with several answers: the picked fractions added, kept in [0, 1]."""
    return min(1.0, max(0.0, sum(fractions[i] for i in picked)))


@pytest.mark.parametrize("bank", BANKS)
def test_multi_select_fractions_give_grader_quiz_checks_points_for_every_pick(exports, catalog, bank):
    found = 0
    gift, _ = gift_questions(exports[bank, "gift"].read_text(encoding="utf-8"))
    gift_fractions = {q["id"]: [a["fraction"] for a in q["answers"]] for q in gift if q["type"] == "multichoice"}
    for q in moodle_questions(exports[bank, "moodle"]):
        b, question = catalog.find(q["id"])
        if question.type != QuestionType.MULTI_SELECT:
            continue
        found += 1
        assert q["node"].findtext("single") == "false"
        fractions = [a["fraction"] for a in q["answers"]]
        assert gift_fractions[q["id"]] == fractions
        letters = [o["key"] for o in question.spec["options"]]
        inst = b.instance(question)
        for size in range(1, len(letters) + 1):
            for picked in itertools.combinations(range(len(letters)), size):
                grader = checking.check(inst, [letters[i] for i in picked], 1).fraction
                assert moodle_score(fractions, set(picked)) == pytest.approx(grader, abs=1e-6), (q["id"], picked)
    assert found or bank == "conv-arithmetic"


TRICKY = r"<b>bold</b> & {1:NUMERICAL:=5} ~x =y #z a:b \n [r1c1] 50% ####"

TRICKY_BANK = """\
bank: tricky
title: "Tricky <text> & {braces}"
questions:
  - id: q1
    type: integer
    points: 2
    title: "Title with {braces}: ~ = # and <b>tags</b>"
    prompt: 'Count the parameters. TRICKY'
    compute: parameter_count
    setup: {input_shape: [8, 8, 1], layers: [{type: conv2d, filters: 2, kernel_size: 3}]}
  - id: q2
    type: grid
    points: 4
    title: A grid
    prompt: 'Convolve. TRICKY'
    compute: convolution
    setup: {image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel: [[1, 0], [0, 1]]}
  - id: q3
    type: multi_select
    points: 1
    title: Pick
    prompt: 'Which? TRICKY'
    options:
      - {key: A, correct: true, text: 'right TRICKY', feedback: 'yes TRICKY'}
      - {key: B, correct: false, text: 'wrong TRICKY', feedback: 'no TRICKY'}
  - id: q4
    type: free_text
    points: 2
    title: Say
    prompt: 'Why? TRICKY'
    model_answer: 'Because TRICKY'
    key_points: ['a point TRICKY']
  - id: q5
    type: shape
    points: 2
    title: A shape
    prompt: 'Shape? TRICKY'
    compute: output_shape
    setup: {input_shape: [8, 8, 1], layers: [{type: conv2d, filters: 2, kernel_size: 3, strides: 2}]}
""".replace("TRICKY", TRICKY.replace("'", "''"))


@pytest.fixture(scope="module")
def tricky(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tricky")
    (folder / "banks").mkdir()
    (folder / "banks" / "tricky.yaml").write_text(TRICKY_BANK, encoding="utf-8")
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = folder / f"tricky.{fmt}"
        result = run("quiz", "--banks", folder / "banks", "export", "tricky", "--format", fmt, "--out", paths[fmt])
        assert result.exit_code == 0, result.output
    return paths


def test_moodle_escapes_html_and_cloze_syntax_in_the_banks_text(tricky):
    questions = {q["id"]: q for q in moodle_questions(tricky["moodle"])}
    assert questions["tricky/q1"]["name"] == "tricky/q1: Title with {braces}: ~ = # and <b>tags</b>"
    for qid in ("tricky/q1", "tricky/q3", "tricky/q4"):
        assert TRICKY in text_of(questions[qid]["text"]), qid
    assert {text_of(a["text"]) for a in questions["tricky/q3"]["answers"]} == {f"right {TRICKY}", f"wrong {TRICKY}"}
    assert {a["feedback"] for a in questions["tricky/q3"]["answers"]} == {f"yes {TRICKY}", f"no {TRICKY}"}
    assert f"a point {TRICKY}" in questions["tricky/q4"]["graderinfo"]
    assert f"Because {TRICKY}" in questions["tricky/q4"]["graderinfo"]
    grid = questions["tricky/q2"]
    assert TRICKY in text_of(grid["text"])
    assert [[a[1] for a in field] for field in cloze_fields(grid["text"])] == [[6], [8], [12], [14]], (
        "the bank's own {1:NUMERICAL:=5} is text, not a field"
    )
    shape = questions["tricky/q5"]
    assert [field[0][1] for field in cloze_fields(shape["text"])] == [3, 3, 2]


def test_a_cloze_feedback_keeps_every_special_character():
    special = "a ~ b } c { d # e \\ f < g & h %0% i"
    field = Field("height", "height", (Answer(3, 0, 1.0), Answer(-7, 0, 0.0, special), Answer(5, 0, 0.0, "plain")))
    (answers,) = cloze_fields(markup.html(markup.element("td", cloze_field(field, "x"))))  # as in a question's HTML
    assert [(f, v) for f, v, _, _ in answers] == [(1.0, 3.0), (0.0, -7.0), (0.0, 5.0)]
    assert [text_of(fb) for *_, fb in answers] == ["", special, "plain"]


def test_gift_escapes_its_syntax_in_the_banks_text(tricky):
    questions, _ = gift_questions(tricky["gift"].read_text(encoding="utf-8"))
    by_id = {q["id"]: q for q in questions}
    assert by_id["tricky/q1"]["name"] == "tricky/q1: Title with {braces}: ~ = # and <b>tags</b>"
    assert TRICKY in text_of(by_id["tricky/q1"]["text"])
    assert by_id["tricky/q1"]["type"] == "numerical" and by_id["tricky/q1"]["answers"][0]["text"] == "20"
    pick = by_id["tricky/q3"]
    assert [(a["fraction"], a["text"], a["feedback"]) for a in pick["answers"]] == [
        (1.0, f"right {TRICKY}", f"yes {TRICKY}"),
        (-1.0, f"wrong {TRICKY}", f"no {TRICKY}"),
    ]
    essay = by_id["tricky/q4"]
    assert essay["type"] == "essay" and f"Because {TRICKY}" in text_of(essay["general"])
    assert "tricky/q2" not in by_id and "tricky/q5" not in by_id


def test_qti_escapes_html_and_keeps_the_banks_brackets_out_of_the_blanks(tricky):
    items, _ = qti_items(tricky["qti"])
    by_id = {i["id"]: i for i in items}
    assert by_id["tricky/q1"]["node"].get("title") == "tricky/q1: Title with {braces}: ~ = # and <b>tags</b>"
    for item in items:
        assert TRICKY in text_of(item["text"])
    grid = by_id["tricky/q2"]
    assert qti_blanks(grid) == {"r1c1": "6", "r1c2": "8", "r2c1": "12", "r2c2": "14"}
    assert grid["text"].count("[r1c1]") == 1, "the bank's own [r1c1] is no blank"
    assert by_id["tricky/q3"]["type"] == "multiple_answers_question"
    assert f"Because {TRICKY}" in by_id["tricky/q4"]["feedback"]["general_fb"]


def test_a_share_moodle_has_no_grade_for_is_refused_with_the_question(tmp_path):
    options = ", ".join(f"{{key: {chr(65 + i)}, correct: true, text: o{i}}}" for i in range(11))
    (tmp_path / "many.yaml").write_text(
        f"bank: many\ntitle: Many\nquestions:\n  - {{id: q1, type: multi_select, points: 1, prompt: Pick, "
        f"options: [{options}, {{key: L, correct: false, text: wrong}}]}}\n",
        encoding="utf-8",
    )
    result = run("quiz", "--banks", tmp_path, "export", "many", "--format", "moodle", "--out", tmp_path / "m.xml")
    assert result.exit_code == 1 and "many/q1" in result.stderr and "Moodle's grades" in result.stderr
    assert (
        run("quiz", "--banks", tmp_path, "export", "many", "--format", "qti", "--out", tmp_path / "m.zip").exit_code
        == 0
    )


def test_the_command_refuses_what_it_cannot_use(tmp_path):
    assert run("quiz", "export", "nope", "--format", "moodle", "--out", tmp_path / "x.xml").exit_code == 1
    assert run("quiz", "export", "cnn-exercises", "--format", "word", "--out", tmp_path / "x").exit_code == 2
    assert run("quiz", "export", "cnn-exercises", "--format", "qti").exit_code == 2


def test_the_same_bank_gives_the_same_file(tmp_path, catalog):
    bank = catalog.bank("conv-arithmetic")
    for fmt, (_, write) in WRITERS.items():
        assert write(describe_bank(bank, 2)) == write(describe_bank(bank, 2)), fmt


def test_every_type_a_sheet_answers_has_a_body_and_every_format_a_writer():
    assert set(BODIES) == {qtype for qtype, kind in REGISTRY.items() if kind.on_sheet}
    assert tuple(WRITERS) == FORMATS


def test_every_type_exports_from_the_one_question_per_type_bank(tmp_path):
    from tests.quiz.test_question_types import EVERY_TYPE

    (tmp_path / "kinds.yaml").write_text(EVERY_TYPE, encoding="utf-8")
    export = describe_bank(load_bank(tmp_path / "kinds.yaml"))
    assert {i.question_id.split("/")[1] for i in export.items} == {t.value for t in BODIES}
    for fmt, (_, write) in WRITERS.items():
        data = write(export)
        if fmt == "qti":
            assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 3
        else:
            assert data


def test_quiz_export_imports_no_heavy_library(tmp_path):
    result = run_probe("quiz", "export", "cnn-exercises", "--format", "qti", "--out", str(tmp_path / "x.zip"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("HEAVY:"), result.stdout[-200:]
