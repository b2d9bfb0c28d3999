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
MAX_ID_CHARS = 200
MAX_LISTED = 10  # keys that are no question id, listed one by one; the rest are counted


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


def _shown(key: Any, limit: int = 60) -> str:
    """A key or value from a sheet as messages show it: at most ``limit`` characters (it may be a page long)."""
    text = str(key)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_grades(path: str | Path, catalog: Catalog) -> dict[str, tuple[float, str]]:
    """An instructor's scores for free-text answers: ``id: points`` or ``id: {points, comment}``."""
    doc = _read_mapping(path, "a grades file")
    grades = {}
    for qid, value in doc.data.items():
        where = f"{doc.source}:{doc.line_of((qid,))}: {_shown(qid)}"
        if str(qid) not in catalog.by_id:
            raise AnswerSheetError(f"{where}: no such question{catalog.suggest(qid)}")
        question = catalog.by_id[str(qid)][1]
        comment = ""
        if isinstance(value, dict):
            comment = str(value.get("comment", ""))
            value = value.get("points")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= question.points:
            raise AnswerSheetError(
                f"{where}: points must be a number from 0 to {question.points}, got {_shown(repr(value))}"
            )
        grades[str(qid)] = (float(value), comment)
    for dup in doc.duplicates:
        what = (
            f"{dup.path[0]} is scored twice"
            if len(dup.path) == 1
            else f"{dup.path[0]}: {dup.path[-1]} is written twice"
        )
        raise AnswerSheetError(f"{doc.source}:{dup.line}: {what} (first at line {dup.first_line})")
    return grades


@dataclass(frozen=True)
class Sheet:
    source: str
    answers: dict[str, Answer]
    meta: dict[str, Answer]  # the reserved keys (seed, student), as text
    problems: tuple[str, ...]
    duplicated: dict[str, str]  # id -> message


def _variant_name(doc: YamlDocument, key: str, raw: Any) -> str:
    """A sheet's ``seed`` or ``student`` as written (``0123`` stays "0123", never octal 83):
    a word or number, never empty, a list or a mapping (whose printed form would silently
    pick some variant)."""
    where = f"{doc.source}:{doc.line_of((key,))}"
    if isinstance(raw, (dict, list)):
        kind = "a mapping" if isinstance(raw, dict) else "a list"
        raise AnswerSheetError(f"{where}: {key} must be a word or number (e.g. '{key}: alice'), not {kind}")
    text = doc.texts.get((key,), "")
    if raw is None or not text.strip():
        raise AnswerSheetError(f"{where}: {key} is empty: write it (e.g. '{key}: alice') or delete the line")
    if len(text) > MAX_ID_CHARS:
        raise AnswerSheetError(
            f"{where}: {key} has {len(text):,} characters; a seed or student id has at most {MAX_ID_CHARS}"
        )
    return text


def _unknown_keys(source: str, unknown: dict[str, list[int]], catalog: Catalog) -> list[str]:
    """One message per key that is no question id (with all its lines), the first few only:
    a sheet of thousands of such keys gets a count, not thousands of messages."""
    messages = []
    for key, lines in list(unknown.items())[:MAX_LISTED]:
        again = f" (also at line{'s' if len(lines) > 2 else ''} {', '.join(map(str, lines[1:]))})" if lines[1:] else ""
        messages.append(
            f"{source}:{lines[0]}: {_shown(key)!r} is not a question id{catalog.suggest(key)}{again}; ignored"
        )
    rest = list(unknown.values())[MAX_LISTED:]
    if rest:
        messages.append(
            f"{source}: and {len(rest):,} more keys that are not question ids (lines {rest[0][0]} "
            f"to {max(line for lines in rest for line in lines)}); ignored"
        )
    return messages


def _answered_again(source: str, qid: str, lines: list[int]) -> str:
    times, which = ("twice", "neither answer is") if len(lines) == 2 else (f"{len(lines)} times", "none is")
    return (
        f"{source}:{lines[1]}: {qid} is answered {times} (lines {', '.join(map(str, lines[:-1]))} and "
        f"{lines[-1]}); {which} graded"
    )


def read_sheet(path: str | Path, catalog: Catalog) -> Sheet:
    """The sheet's answers, its seed and student, and its problems, each reported once with its lines."""
    doc = _read_mapping(path, "an answer sheet")
    answers: dict[str, Answer] = {}
    meta: dict[str, Answer] = {}
    unknown: dict[str, list[int]] = {}
    for key, raw in doc.data.items():
        line = doc.line_of((key,))
        if key in RESERVED:
            meta[key] = Answer(_variant_name(doc, key, raw), line)
        elif str(key) in catalog.by_id:
            answers[str(key)] = Answer(raw, line)
        else:
            unknown.setdefault(str(key), []).append(line)
    repeated: dict[str, list[int]] = {}
    for dup in (d for d in doc.duplicates if len(d.path) == 1):  # nested ones are in answers no reader takes
        key = dup.path[0]
        if key in RESERVED:
            raise AnswerSheetError(
                f"{doc.source}:{dup.line}: {key} is written twice (lines {dup.first_line} and "
                f"{dup.line}), so the variant the sheet answers is unclear; keep one"
            )
        lines = unknown[str(key)] if str(key) in unknown else repeated.setdefault(str(key), [dup.first_line])
        lines.append(dup.line)
    duplicated = {qid: _answered_again(doc.source, qid, lines) for qid, lines in repeated.items()}
    problems = _unknown_keys(doc.source, unknown, catalog) + list(duplicated.values())
    return Sheet(doc.source, answers, meta, tuple(problems), duplicated)


def _practice_check_note(sheet: Sheet, student: str, variant: Variant) -> str:
    line = sheet.meta["student"].line
    return (
        f"{sheet.source}:{line}: PRACTICE CHECK, not your graded variant. This sheet is for student "
        f"{student!r}, whose graded numbers need the course secret that only the instructor has; it was "
        f"checked on the {variant.describe()}, whose numbers differ from those on your sheet, so numeric "
        "answers to your graded questions may show as wrong here. Your instructor's grading uses your "
        f"graded numbers. To practise, check a sheet from: grader quiz template BANK --seed {student}"
    )


def sheet_variant(
    sheet: Sheet, seed: str | None = None, student: str | None = None, secret: bytes | None = None
) -> tuple[Variant, tuple[str, ...], bool]:
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
            notes.append(
                f"{sheet.source}: the sheet says student {written['student']!r}; "
                f"graded on the {variant.describe()} (--student)"
            )
    elif seed is not None:
        variant = Variant.practice(seed)
        said = next(((k, written[k]) for k in RESERVED if k in written), None)
        if said and said[1] != seed:
            notes.append(f"{sheet.source}: the sheet says {said[0]} {said[1]!r}; grading with --seed {seed!r}")
    elif "student" in written and secret is not None:
        variant = Variant.graded(written["student"], secret)
        if "seed" in written:
            notes.append(
                f"{sheet.source}:{sheet.meta['seed'].line}: the sheet's seed {written['seed']!r} is "
                f"ignored: a sheet naming a student is graded on the {variant.describe()}"
            )
    elif "student" in written:
        variant = Variant.practice(written.get("seed", written["student"]))
        notes.append(_practice_check_note(sheet, written["student"], variant))
        practice_check = True
    else:
        variant = Variant.practice(written["seed"]) if "seed" in written else DEFAULT_VARIANT
        if secret is not None:
            notes.append(
                f"{sheet.source}: the sheet names no student (no 'student:' line), so it was graded on "
                f"the {variant.describe()}, not on a graded variant"
            )
    return variant, tuple(notes), practice_check


def grade_sheet(
    catalog: Catalog,
    path: str | Path,
    seed: str | None = None,
    grades: dict[str, tuple[float, str]] | None = None,
    *,
    student: str | None = None,
    secret: bytes | None = None,
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
    return SheetResult(sheet.source, variant, tuple(bank_names), tuple(results), notes + sheet.problems, practice_check)
