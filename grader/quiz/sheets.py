"""Answer sheets and instructors' grades files: reading them and grading a whole sheet.

An answer sheet is a YAML mapping from question id to answer, with optional reserved
keys: ``seed`` (a practice variant), ``student`` (whose graded variant the sheet answers;
see ``variants``) and ``handout`` (a handed-out sheet's signed numbers; see ``handout``). A sheet that
cannot be read at all raises ``AnswerSheetError``; everything else -- unknown ids,
duplicated ids, unreadable answers -- is reported per question and the rest is graded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import AnswerSheetError, InputFileError
from grader.quiz import checking, handout
from grader.quiz.answers import Grade
from grader.quiz.bank import Catalog
from grader.quiz.handout import Handout
from grader.quiz.kinds import REGISTRY, is_written
from grader.quiz.results import HandoutCheck, QuestionResult, QuestionStatus, SheetResult
from grader.quiz.variants import DEFAULT_VARIANT, Variant, VariantKind, student_text
from grader.yamlsource import SHEET_LIMITS, YamlDocument, read_yaml

RESERVED = ("seed", "student")
MAX_ID_CHARS = 200
MAX_LISTED = 10  # keys that are no question id, listed one by one; the rest are counted


@dataclass(frozen=True)
class Answer:
    raw: Any
    line: int | None


SHEET_WHAT = "an answer sheet"


def _read_mapping(path: str | Path, what: str) -> YamlDocument:
    if str(path).endswith(".ipynb") and what == SHEET_WHAT:
        from grader.quiz.notebook_sheet import read_notebook_sheet

        return read_notebook_sheet(path)
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


def read_grades(path: str | Path, catalog: Catalog) -> dict[str, Grade]:
    """An instructor's scores for free-text answers: ``id: points`` or ``id: {points, comment}``."""
    doc = _read_mapping(path, "a grades file")
    grades = {}
    for qid, value in doc.data.items():
        where = f"{doc.source}:{doc.line_of((qid,))}: {_shown(qid)}"
        if str(qid) not in catalog.by_id:
            raise AnswerSheetError(f"{where}: no such question{catalog.suggest(qid)}")
        question = catalog.by_id[str(qid)][1]
        try:
            grades[str(qid)] = Grade.from_entry(value, most=question.points)
        except ValueError as exc:
            raise AnswerSheetError(
                f"{where}: points must be a number from 0 to {question.points}, got {_shown(str(exc))}"
            ) from None
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
    handout: Handout | None = None  # the numbers written on a handed-out sheet, with their signature

    def written_answers(self, catalog: Catalog) -> dict[str, str]:
        """The written answers a person scores, by question id, as the review, the suggestions
        and the similarity read them: blank ones and answers given twice left out, as grading
        leaves them."""
        return {
            qid: answer.raw.strip()
            for qid, answer in self.answers.items()
            if is_written(catalog.by_id[qid][1].type)
            and qid not in self.duplicated
            and isinstance(answer.raw, str)
            and answer.raw.strip()
        }


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
    doc = _read_mapping(path, SHEET_WHAT)
    answers: dict[str, Answer] = {}
    meta: dict[str, Answer] = {}
    unknown: dict[str, list[int]] = {}
    for key, raw in doc.data.items():
        line = doc.line_of((key,))
        if key in RESERVED:
            meta[key] = Answer(_variant_name(doc, key, raw), line)
        elif key == handout.KEY:
            continue  # read below, once the student line is known
        elif str(key) in catalog.by_id:
            answers[str(key)] = Answer(raw, line)
        else:
            unknown.setdefault(str(key), []).append(line)
    repeated: dict[str, list[int]] = {}
    for dup in (d for d in doc.duplicates if len(d.path) == 1):  # nested ones are in answers no reader takes
        key = dup.path[0]
        if key in RESERVED or key == handout.KEY:
            raise AnswerSheetError(
                f"{doc.source}:{dup.line}: {key} is written twice (lines {dup.first_line} and "
                f"{dup.line}), so the variant the sheet answers is unclear; keep one"
            )
        lines = unknown[str(key)] if str(key) in unknown else repeated.setdefault(str(key), [dup.first_line])
        lines.append(dup.line)
    for dup in (d for d in doc.duplicates if len(d.path) > 1 and d.path[0] == handout.KEY):
        raise AnswerSheetError(
            f"{doc.source}:{dup.line}: {handout.KEY}: {dup.path[-1]} is written twice (first at line "
            f"{dup.first_line}); {handout.EDITED}"
        )
    duplicated = {qid: _answered_again(doc.source, qid, lines) for qid, lines in repeated.items()}
    problems = _unknown_keys(doc.source, unknown, catalog) + list(duplicated.values())
    block = handout.read(doc, meta["student"].raw if "student" in meta else None)
    return Sheet(doc.source, answers, meta, tuple(problems), duplicated, block)


def names_student(path: str | Path) -> bool:
    """Whether the sheet has a ``student:`` line, whose graded variant needs the course secret.
    A sheet that cannot be read names none here: grading it says what is wrong."""
    try:
        return "student" in _read_mapping(path, SHEET_WHAT).data
    except AnswerSheetError:
        return False


def _practice_check_note(sheet: Sheet, student: str, variant: Variant) -> str:
    line = sheet.meta["student"].line
    return (
        f"{sheet.source}:{line}: PRACTICE CHECK, not your graded variant. This sheet is for student "
        f"{student!r}, whose graded numbers need the course secret that only the instructor has; it was "
        f"checked on the {variant.describe()}, whose numbers differ from those on your sheet, so numeric "
        "answers to your graded questions may show as wrong here. Your instructor's grading uses your "
        f"graded numbers. To practise, check a sheet from: grader quiz template BANK --seed {student}"
    )


def _sheet_check_note(sheet: Sheet, student: str) -> str:
    line = sheet.meta["student"].line
    return (
        f"{sheet.source}:{line}: checked on the numbers written on this sheet (its hand-out block) for student "
        f"{student!r}, without the course secret: your instructor grades it on these numbers once their "
        "signature is verified, and a sheet whose numbers or student line were edited is refused at grading"
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
    elif "student" in written and sheet.handout is not None:
        variant = Variant.on_sheet(written["student"])
        notes.append(_sheet_check_note(sheet, written["student"]))
        practice_check = True
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
    grades: dict[str, Grade] | None = None,
    *,
    student: str | None = None,
    secret: bytes | None = None,
) -> SheetResult:
    """Grade every question of every bank the sheet answers (a handed-out sheet: every bank
    handed out); unanswered ones score 0."""
    sheet = read_sheet(path, catalog)
    variant, notes, practice_check = sheet_variant(sheet, seed, student, secret)
    block = _handout_used(sheet, variant)
    check, handout_notes = _check_handout(block, sheet, variant, secret, catalog) if block else (None, [])
    answered = sorted({catalog.by_id[qid][0].name for qid in list(sheet.answers) + list(sheet.duplicated)})
    bank_names = list(block.banks) if block else answered
    if block and (others := [name for name in answered if name not in block.banks]):
        handout_notes.append(
            f"{sheet.source}: the answers to questions of {', '.join(others)} are ignored: the sheet was handed "
            f"out for {', '.join(block.banks)}"
        )
    if not bank_names:
        raise AnswerSheetError(
            f"{sheet.source}: none of its keys is a question id, so nothing can be graded"
            + ("".join("\n  " + p for p in sheet.problems))
        )
    results = []
    for name in bank_names:
        bank = catalog.bank(name)
        for question in bank.questions:
            if block and REGISTRY[question.type].on_sheet:
                inst = handout.sheet_instance(block, bank, question, variant, sheet.source)
            else:
                inst = bank.instance(question, variant)
            if question.id in sheet.duplicated:
                result = checking.invalid(inst, sheet.duplicated[question.id])
            else:
                answer = sheet.answers.get(question.id, Answer(None, None))
                result = checking.check(inst, answer.raw, answer.line, (grades or {}).get(question.id))
            results.append(_without_key(result) if variant.kind is VariantKind.SHEET else result)
    problems = notes + tuple(handout_notes) + sheet.problems
    return SheetResult(sheet.source, variant, tuple(bank_names), tuple(results), problems, practice_check, check)


def _handout_used(sheet: Sheet, variant: Variant) -> Handout | None:
    """The sheet's hand-out block when the sheet is graded as its own student's: on its signed
    numbers (with the secret) or checked on them (without); None for another variant."""
    block = sheet.handout
    if block is None or variant.kind not in (VariantKind.GRADED, VariantKind.SHEET):
        return None
    return block if student_text(str(variant.name)) == student_text(block.student) else None


def _check_handout(
    block: Handout, sheet: Sheet, variant: Variant, secret: bytes | None, catalog: Catalog
) -> tuple[HandoutCheck, list[str]]:
    """With the secret, a sheet whose signature does not hold is refused; without it, one whose
    numbers no variant holds. Notes when the banks now draw other numbers than those handed out."""
    if variant.kind is VariantKind.SHEET or secret is None:
        handout.refuse_if_impossible(block, catalog, sheet.source)
        return HandoutCheck(block.feedback, verified=False), []
    handout.refuse_if_edited(block, secret, catalog, sheet.source)
    changed = handout.changed_since(block, secret, catalog, sheet.source)
    note = (
        f"{sheet.source}: graded on the numbers handed out (signed); the banks now draw other numbers for "
        f"{', '.join(changed)}: they changed since the hand-out"
    )
    return HandoutCheck(block.feedback, verified=True), [note] if changed else []


def _without_key(result: QuestionResult) -> QuestionResult:
    """A question checked without the secret on a handed-out sheet's numbers: verdict and slip
    feedback, but neither the expected answer nor a model answer."""
    return replace(
        result, expected=None, feedback=tuple(f for f in result.feedback if not f.startswith("Model answer"))
    )


READ_ONLY = (
    "Read: this sheet was handed out without immediate feedback, so it is judged when your instructor grades it."
)


def as_handed_out(result: SheetResult) -> SheetResult:
    """What a student's check shows: for a sheet handed out with feedback after grading (and
    checked without the secret), whether each answer can be read (its format and units) and
    nothing more: no verdict, no points, no key. Any other result as it is."""
    if result.handout is None or result.handout.verified or result.handout.feedback != handout.Feedback.AFTER_GRADING:
        return result
    judged = (QuestionStatus.CORRECT, QuestionStatus.PARTIAL, QuestionStatus.INCORRECT, QuestionStatus.NEEDS_REVIEW)
    results = tuple(
        replace(
            r, status=QuestionStatus.ANSWERED, fraction=0.0, feedback=(READ_ONLY,), misconceptions=(), expected=None
        )
        if r.status in judged
        else r
        for r in result.results
    )
    return replace(result, results=results, handout=replace(result.handout, verdicts=False))
