"""Answer sheets and instructors' grades files: reading them and grading a whole sheet.

An answer sheet is a YAML mapping from question id to answer, with two optional
reserved keys: ``seed`` (a practice variant) and ``student`` (whose graded variant the
sheet answers; see ``variants``). A sheet that
cannot be read at all raises ``AnswerSheetError``; everything else -- unknown ids,
duplicated ids, unreadable answers -- is reported per question and the rest is graded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import AnswerSheetError, InputFileError
from grader.quiz import checking
from grader.quiz.bank import Catalog
from grader.quiz.results import SheetResult
from grader.quiz.variants import DEFAULT_VARIANT, Variant, student_text
from grader.yamlsource import SHEET_LIMITS, YamlDocument, read_yaml

RESERVED = ("seed", "student")


@dataclass(frozen=True)
class Answer:
    raw: Any
    line: int | None


def _read_mapping(path: str | Path, what: str) -> YamlDocument:
    try:
        doc = read_yaml(path, replace(SHEET_LIMITS, what=what))
    except InputFileError as exc:
        raise AnswerSheetError(str(exc)) from None
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "nothing"
        raise AnswerSheetError(
            f"{doc.source}:1: {what} must be a mapping from question id to answer "
            f"(e.g. 'cnn-exercises/q2a: 903400'), but it holds a {kind}"
        )
    return doc


def read_grades(path: str | Path, catalog: Catalog) -> dict[str, tuple[float, str]]:
    """An instructor's scores for free-text answers: ``id: points`` or ``id: {points, comment}``."""
    doc = _read_mapping(path, "a grades file")
    grades = {}
    for qid, value in doc.data.items():
        where = f"{doc.source}:{doc.line_of((qid,))}: {qid}"
        if str(qid) not in catalog.by_id:
            raise AnswerSheetError(f"{where}: no such question{catalog.suggest(qid)}")
        question = catalog.by_id[str(qid)][1]
        comment = ""
        if isinstance(value, dict):
            comment = str(value.get("comment", ""))
            value = value.get("points")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= question.points:
            raise AnswerSheetError(f"{where}: points must be a number from 0 to {question.points}, got {value!r}")
        grades[str(qid)] = (float(value), comment)
    for dup in doc.duplicates:
        raise AnswerSheetError(f"{doc.source}:{dup.line}: {dup.path[0]} is scored twice (first at line {dup.first_line})")
    return grades


@dataclass(frozen=True)
class Sheet:
    source: str
    answers: dict[str, Answer]
    meta: dict[str, Answer]  # the reserved keys (seed, student), as text
    problems: tuple[str, ...]
    duplicated: dict[str, str]  # id -> message


def _variant_name(doc: YamlDocument, key: str, raw: Any) -> str:
    """A sheet's ``seed`` or ``student``: a word or number, never a list or mapping (whose
    printed form would silently pick some variant)."""
    if isinstance(raw, (dict, list)):
        kind = "a mapping" if isinstance(raw, dict) else "a list"
        raise AnswerSheetError(f"{doc.source}:{doc.line_of((key,))}: {key} must be a word or number "
                               f"(e.g. '{key}: alice'), not {kind}")
    return str(raw)


def read_sheet(path: str | Path, catalog: Catalog) -> Sheet:
    doc = _read_mapping(path, "an answer sheet")
    answers: dict[str, Answer] = {}
    meta: dict[str, Answer] = {}
    problems = []
    for key, raw in doc.data.items():
        line = doc.line_of((key,))
        if key in RESERVED:
            meta[key] = Answer(_variant_name(doc, key, raw), line)
            continue
        qid = str(key)
        if qid not in catalog.by_id:
            problems.append(f"{doc.source}:{line}: {qid!r} is not a question id{catalog.suggest(qid)}; ignored")
            continue
        answers[qid] = Answer(raw, line)
    duplicated = {}
    for dup in doc.duplicates:
        qid = str(dup.path[0])
        message = (f"{doc.source}:{dup.line}: {qid} is answered twice (lines {dup.first_line} "
                   f"and {dup.line}); neither answer is graded")
        problems.append(message)
        duplicated[qid] = message
    return Sheet(doc.source, answers, meta, tuple(problems), duplicated)


def _practice_check_note(sheet: Sheet, student: str, variant: Variant) -> str:
    line = sheet.meta["student"].line
    return (f"{sheet.source}:{line}: PRACTICE CHECK, not your graded variant. This sheet is for student "
            f"{student!r}, whose graded numbers need the course secret that only the instructor has; it was "
            f"checked on the {variant.describe()}, whose numbers differ from those on your sheet, so numeric "
            "answers to your graded questions may show as wrong here. Your instructor's grading uses your "
            f"graded numbers. To practise, check a sheet from: grader quiz template BANK --seed {student}")


def sheet_variant(sheet: Sheet, seed: str | None = None, student: str | None = None,
                  secret: bytes | None = None) -> tuple[Variant, tuple[str, ...], bool]:
    """The variant to grade with, notes on the choice, and whether it is a practice check.

    ``--student`` (graded) or ``--seed`` (practice) first; then the sheet's ``student``: its
    graded variant with the secret, and without it a practice check (a student checking the
    sheet they will hand in); then the sheet's ``seed`` (practice); else the default variant."""
    written = {key: value.raw for key, value in sheet.meta.items()}
    notes: list[str] = []
    practice_check = False
    if student is not None:
        variant = Variant.graded(student, secret)
        if "student" in written and student_text(written["student"]) != student_text(student):
            notes.append(f"{sheet.source}: the sheet says student {written['student']!r}; "
                         f"graded on the {variant.describe()} (--student)")
    elif seed is not None:
        variant = Variant.practice(seed)
        said = next(((k, written[k]) for k in RESERVED if k in written), None)
        if said and said[1] != seed:
            notes.append(f"{sheet.source}: the sheet says {said[0]} {said[1]!r}; grading with --seed {seed!r}")
    elif "student" in written and secret is not None:
        variant = Variant.graded(written["student"], secret)
        if "seed" in written:
            notes.append(f"{sheet.source}:{sheet.meta['seed'].line}: the sheet's seed {written['seed']!r} is "
                         f"ignored: a sheet naming a student is graded on the {variant.describe()}")
    elif "student" in written:
        variant = Variant.practice(written.get("seed", written["student"]))
        notes.append(_practice_check_note(sheet, written["student"], variant))
        practice_check = True
    else:
        variant = Variant.practice(written["seed"]) if "seed" in written else DEFAULT_VARIANT
        if secret is not None:
            notes.append(f"{sheet.source}: the sheet names no student (no 'student:' line), so it was graded on "
                         f"the {variant.describe()}, not on a graded variant")
    return variant, tuple(notes), practice_check


def grade_sheet(
    catalog: Catalog, path: str | Path, seed: str | None = None,
    grades: dict[str, tuple[float, str]] | None = None, *,
    student: str | None = None, secret: bytes | None = None,
) -> SheetResult:
    """Grade every question of every bank the sheet answers; unanswered ones score 0."""
    sheet = read_sheet(path, catalog)
    variant, notes, practice_check = sheet_variant(sheet, seed, student, secret)
    bank_names = sorted({catalog.by_id[qid][0].name for qid in list(sheet.answers) + list(sheet.duplicated)})
    if not bank_names:
        raise AnswerSheetError(
            f"{sheet.source}: none of its keys is a question id, so nothing can be graded"
            + ("".join("\n  " + p for p in sheet.problems))
        )
    results = []
    for name in bank_names:
        bank = catalog.bank(name)
        for question in bank.questions:
            inst = bank.instance(question, variant)
            if question.id in sheet.duplicated:
                result = checking.invalid(inst, sheet.duplicated[question.id])
            else:
                answer = sheet.answers.get(question.id, Answer(None, None))
                result = checking.check(inst, answer.raw, answer.line, (grades or {}).get(question.id))
            results.append(result)
    return SheetResult(sheet.source, variant, tuple(bank_names), tuple(results), notes + sheet.problems,
                       practice_check)
