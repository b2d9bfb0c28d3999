"""Handed-out sheets: each student's graded numbers written on the sheet, signed under the course secret.

``grader quiz handout`` (and ``grader quiz template --student``) writes into a sheet, below
its ``student:`` line, a ``handout:`` block: the feedback the instructor chose, the banks
and question ids on the sheet, each question's numbers (the values, in that student's
graded variant, of the varying parameters its prompt and setup use) and a signature: an
HMAC-SHA256, under a key derived from the course secret, of a canonical serialisation
(JSON, sorted keys, no spaces, UTF-8) of the student id (as ``variants.student_text``
sees it), the banks, the question ids, the numbers and the feedback.

What each side can know:

* With the secret (the instructor, a batch) the signature is recomputed: a sheet whose
  numbers, student line, question ids or feedback line were edited is refused, naming the
  file and the first question whose numbers are not those handed out. A sheet whose
  signature holds is graded on its signed numbers, the ones the student saw.
* Without the secret (the student) the signature cannot be recomputed, and neither can the
  numbers of any graded variant. A student's check therefore uses the sheet's own numbers
  and no others, refuses numbers that no variant of the bank holds (outside a range or a
  list of choices; a number shared by a bank's questions that differs between them), never
  shows the key, and says that the instructor grades on the signed numbers. An edit that
  stays within the bank's ranges is caught only at grading, where the sheet is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from grader.errors import AnswerSheetError, BankError
from grader.quiz import params
from grader.quiz.bank import Bank, Catalog
from grader.quiz.kinds import REGISTRY
from grader.quiz.questions import Question, QuestionInstance
from grader.quiz.variants import Variant, student_text
from grader.yamlsource import YamlDocument

KEY = "handout"  # the sheet's key of the block
FIELDS = ("feedback", "banks", "questions", "numbers", "signature")
FORMAT = 1  # of the signed serialisation
# The signing key is an HMAC of this label under the secret. Its capitals keep it apart from
# the HMAC of any student id (ids are casefolded first), which draws that student's numbers.
SIGNING_LABEL = b"Grader-Handout-Signature/v1"
_HEX = re.compile(r"^[0-9a-f]{64}$")
EDITED = "a sheet whose numbers or student line were edited is not graded"

Numbers = dict[str, dict[str, Any]]  # question id -> parameter -> value


class Feedback(StrEnum):
    """What ``grader quiz check`` tells a student about a handed-out sheet before grading."""

    IMMEDIATE = "immediate"  # verdicts and slip feedback, on the sheet's own numbers
    AFTER_GRADING = "after-grading"  # only whether each answer can be read (format and units)


@dataclass(frozen=True)
class Handout:
    """A sheet's hand-out block: what was handed out to ``student``, and its signature."""

    student: str  # as written on the sheet's student line
    banks: tuple[str, ...]
    questions: tuple[str, ...]
    numbers: Numbers
    feedback: Feedback
    signature: str
    line: int | None = None  # of the block on the sheet (None: not read from a sheet)
    lines: dict[str, int | None] = field(default_factory=dict, compare=False)  # question id -> line of its numbers

    def where(self, source: str, qid: str | None = None) -> str:
        line = self.lines.get(qid) if qid else None
        line = line or self.line
        return f"{source}:{line}" if line else source

    def payload(self) -> bytes:
        return payload(self.student, self.banks, self.questions, self.numbers, self.feedback)

    def block(self) -> dict[str, Any]:
        """The block's fields as plain values (a notebook sheet writes them in its header cell)."""
        return {
            "feedback": str(self.feedback),
            "banks": list(self.banks),
            "questions": list(self.questions),
            "numbers": dict(self.numbers),
            "signature": self.signature,
        }


def payload(student: str, banks: Sequence[str], questions: Sequence[str], numbers: Numbers, feedback: str) -> bytes:
    """What the signature covers, serialised one way only. A value no JSON holds (NaN, a
    number of a thousand digits typed on the sheet) is serialised as its text: its signature
    then holds for no hand-out."""
    document = {
        "format": FORMAT,
        "student": student_text(student),
        "banks": list(banks),
        "questions": list(questions),
        "numbers": numbers,
        "feedback": str(feedback),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return text.encode("utf-8")


def sign(secret: bytes, signed: bytes) -> str:
    key = hmac.new(secret, SIGNING_LABEL, hashlib.sha256).digest()
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def verified(handout: Handout, secret: bytes) -> bool:
    return hmac.compare_digest(handout.signature, sign(secret, handout.payload()))


# --- which numbers a question has -----------------------------------------------------


def varying(bank: Bank, question: Question) -> list[str]:
    """The parameters of ``question`` that a variant draws and that it uses: its numbers."""
    drawn = set(bank.variants) | set(question.spec.get("variants", {}))
    return sorted(params.names_used(question.spec) & drawn)


def numbers_of(inst: QuestionInstance, bank: Bank) -> dict[str, Any]:
    return {name: inst.values[name] for name in varying(bank, inst.question)}


def instance(bank: Bank, question: Question, variant: Variant, numbers: dict[str, Any]) -> QuestionInstance:
    """``question`` on given numbers: the bank's and the question's defaults, then ``numbers``."""
    return QuestionInstance(question, variant, {**bank.params, **question.spec.get("params", {}), **numbers})


def sheet_instance(handout: Handout, bank: Bank, question: Question, variant: Variant, source: str) -> QuestionInstance:
    """``question`` on the numbers written on the sheet; refused when one it needs is not there."""
    given = handout.numbers.get(question.id, {})
    missing = [name for name in varying(bank, question) if name not in given]
    if missing:
        raise AnswerSheetError(
            f"{handout.where(source, question.id)}: {question.id}: the sheet has no number for "
            f"{', '.join(missing)} in its hand-out block (the block was edited, or the bank changed since "
            "the hand-out); the question cannot be checked on the sheet's numbers"
        )
    return instance(bank, question, variant, given)


def on_sheet(banks: Sequence[Bank]) -> list[tuple[Bank, Question]]:
    return [(bank, q) for bank in banks for q in bank.questions if REGISTRY[q.type].on_sheet]


# --- handing out ------------------------------------------------------------------------


def make(banks: Sequence[Bank], student: str, secret: bytes, feedback: Feedback) -> Handout:
    """The signed hand-out block of ``student``'s sheet for ``banks``."""
    variant = Variant.graded(student, secret)
    numbers: Numbers = {}
    for bank, question in on_sheet(banks):
        inst = bank.instance(question, variant)
        own = numbers_of(inst, bank)
        _same_question(inst, instance(bank, question, variant, own))
        if own:
            numbers[question.id] = own
    names, questions = tuple(b.name for b in banks), tuple(q.id for _, q in on_sheet(banks))
    signature = sign(secret, payload(student, names, questions, numbers, feedback))
    return Handout(student, names, questions, numbers, feedback, signature)


def _same_question(drawn: QuestionInstance, written: QuestionInstance) -> None:
    """The numbers a sheet carries make the question the student sees: same prompt, same key."""
    same = drawn.prompt == written.prompt and (not REGISTRY[drawn.question.type].computed or drawn.key == written.key)
    if not same:
        raise BankError(
            f"{drawn.question.where}: its numbers on a handed-out sheet would not make the question the "
            "student sees: it uses a parameter outside its prompt ({name}) and setup ($name)"
        )


def block_lines(handout: Handout) -> list[str]:
    """The hand-out block as the sheet carries it (YAML; every value written as JSON)."""
    lines = [
        f"{KEY}:",
        f"  feedback: {handout.feedback}",
        f"  banks: {json.dumps(list(handout.banks))}",
        f"  questions: {json.dumps(list(handout.questions))}",
        "  numbers:" + ("" if handout.numbers else " {}"),
    ]
    lines += [f"    {qid}: {json.dumps(values)}" for qid, values in handout.numbers.items()]
    return lines + [f"  signature: {json.dumps(handout.signature)}"]


# --- reading a sheet's block -------------------------------------------------------------


def read(doc: YamlDocument, student: str | None) -> Handout | None:
    """The sheet's hand-out block, or None when it has none; refused when it is not one."""
    if KEY not in doc.data:
        return None
    block, line = doc.data[KEY], doc.line_of((KEY,))
    where = f"{doc.source}:{line}: {KEY}"
    if student is None:
        raise AnswerSheetError(
            f"{where}: the sheet has a hand-out block but no student line (student: ...); hand in the "
            f"sheet with both as they were handed out ({EDITED})"
        )
    if not isinstance(block, dict):
        raise AnswerSheetError(f"{where}: must be a mapping of {', '.join(FIELDS)}, as handed out")
    missing = [name for name in FIELDS if name not in block]
    unknown = [str(name) for name in block if name not in FIELDS]
    if missing or unknown:
        what = f"has no {', '.join(missing)}" if missing else f"has no field {', '.join(unknown)}"
        raise AnswerSheetError(f"{where}: {what} ({', '.join(FIELDS)}, as handed out; {EDITED})")
    lines = {str(qid): doc.line_of((KEY, "numbers", qid)) for qid in _mapping(doc, "numbers", block["numbers"])}
    return Handout(
        student,
        _names(doc, "banks", block["banks"]),
        _names(doc, "questions", block["questions"]),
        _numbers(doc, block["numbers"]),
        _feedback(doc, block["feedback"]),
        _signature(doc, block["signature"]),
        line,
        lines,
    )


def _where(doc: YamlDocument, name: str) -> str:
    return f"{doc.source}:{doc.line_of((KEY, name))}: {KEY}: {name}"


def _feedback(doc: YamlDocument, raw: Any) -> Feedback:
    try:
        return Feedback(raw)
    except ValueError:
        raise AnswerSheetError(
            f"{_where(doc, 'feedback')}: {raw!r} is not {' or '.join(f.value for f in Feedback)}"
        ) from None


def _names(doc: YamlDocument, name: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        raise AnswerSheetError(f"{_where(doc, name)}: must be a list of names, as handed out")
    return tuple(raw)


def _mapping(doc: YamlDocument, name: str, raw: Any) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        raise AnswerSheetError(f"{_where(doc, name)}: must be a mapping, as handed out")
    return raw


def _numbers(doc: YamlDocument, raw: Any) -> Numbers:
    numbers: Numbers = {}
    for qid, values in _mapping(doc, "numbers", raw).items():
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            raise AnswerSheetError(
                f"{doc.source}:{doc.line_of((KEY, 'numbers', qid))}: {KEY}: numbers: {qid}: must be a mapping "
                "from parameter to number, as handed out"
            )
        numbers[str(qid)] = dict(values)
    return numbers


def _signature(doc: YamlDocument, raw: Any) -> str:
    if not isinstance(raw, str) or not _HEX.match(raw):
        raise AnswerSheetError(
            f"{_where(doc, 'signature')}: not the signature written at hand-out (64 hexadecimal digits); {EDITED}"
        )
    return raw


# --- checking a sheet's block --------------------------------------------------------------


def banks_of(handout: Handout, catalog: Catalog, source: str) -> list[Bank]:
    """The banks handed out, as the catalog has them."""
    names = {bank.name for bank in catalog.banks}
    for name in handout.banks:
        if name not in names:
            raise AnswerSheetError(
                f"{handout.where(source)}: {KEY}: banks: no bank named {name!r} here "
                f"(banks: {', '.join(sorted(names))}); check it with the banks it was handed out from"
            )
    return [catalog.bank(name) for name in handout.banks]


def refuse_if_edited(handout: Handout, secret: bytes, catalog: Catalog, source: str) -> None:
    """With the course secret: refuse a sheet whose signature does not hold, naming the first
    question whose numbers are not those the secret gives its student."""
    if verified(handout, secret):
        return
    variant = Variant.graded(handout.student, secret)
    for bank, question in on_sheet(banks_of(handout, catalog, source)):
        handed = numbers_of(bank.instance(question, variant), bank)
        written = handout.numbers.get(question.id, {})
        for name in handed:
            if written.get(name) != handed[name]:
                raise AnswerSheetError(
                    f"{handout.where(source, question.id)}: {question.id}: the number {name} on the sheet "
                    f"({json.dumps(written.get(name), default=repr)}) is not the one handed out to student "
                    f"{handout.student!r} ({json.dumps(handed[name])}), and the sheet's signature does not hold: "
                    f"its numbers or its student line were edited ({EDITED}), or it was handed out under "
                    "another course secret"
                )
    raise AnswerSheetError(
        f"{handout.where(source)}: {KEY}: the signature does not hold for the sheet's student line, banks, "
        "questions, numbers and feedback line: the sheet was edited after it was handed out "
        f"({EDITED}), or it was handed out under another course secret"
    )


def changed_since(handout: Handout, secret: bytes, catalog: Catalog, source: str) -> list[str]:
    """Questions whose numbers the banks now draw otherwise than the sheet's (signed) ones."""
    variant = Variant.graded(handout.student, secret)
    return [
        question.id
        for bank, question in on_sheet(banks_of(handout, catalog, source))
        if question.id in handout.numbers
        and numbers_of(bank.instance(question, variant), bank) != handout.numbers[question.id]
    ]


def refuse_if_impossible(handout: Handout, catalog: Catalog, source: str) -> None:
    """Without the secret: refuse numbers that no variant of their bank holds, and a number
    that one draw serves to several questions of a bank but that differs between them."""
    shared: dict[tuple[str, str], tuple[str, Any]] = {}
    for qid, values in handout.numbers.items():
        if qid not in catalog.by_id:
            raise AnswerSheetError(
                f"{handout.where(source, qid)}: {KEY}: numbers: {qid!r} is no question of the banks here{catalog.suggest(qid)}"
            )
        bank, question = catalog.by_id[qid]
        own = question.spec.get("variants", {})
        for name, value in values.items():
            spec = own.get(name) or bank.variants.get(name)
            if spec is not None and not params.drawable(spec, value):
                raise AnswerSheetError(
                    f"{handout.where(source, qid)}: {qid}: {name} = {json.dumps(value, default=repr)} is not "
                    f"a number this bank hands out, so the sheet's numbers were edited ({EDITED}); check "
                    "the sheet as it was handed out"
                )
            if name in bank.variants and name not in own:
                first = shared.setdefault((bank.name, name), (qid, value))
                if first[1] != value:
                    raise AnswerSheetError(
                        f"{handout.where(source, qid)}: {qid}: {name} = {json.dumps(value, default=repr)}, but "
                        f"{first[0]} has {json.dumps(first[1], default=repr)}: one number of the bank serves "
                        f"both, so the sheet's numbers were edited ({EDITED})"
                    )
