"""What each question of a bank becomes in a learning platform, said once for every format.

A bank becomes a ``BankExport``: its gradable questions as ``Item``s in bank order (default
numbers), the questions no platform grades as ``LeftOut`` entries that say why, and with
``--variants N`` a ``VariantGroup`` of practice variants per numeric question. An item's
``body`` is typed by what a platform needs to grade it:

- ``Numerical`` (integer and number questions): the key with the bank's tolerance and unit,
  then every known slip of those numbers as a wrong answer whose feedback is the slip's
  message -- the same recomputed slips ``grader quiz check`` names (``quiz.slips``);
- ``Fields`` (grid and shape questions): one numeric field per cell or dimension, so that
  credit is given per cell; a shape's dimensions also carry the single slips that change them;
- ``Choices`` (choice and multi-select): fractions such that a platform's sum of the picked
  options' fractions, kept between 0 and 1, is ``grader quiz check``'s score;
- ``Essay`` (free text): key points and model answer for whoever grades it.

Every number is computed by the calculators (``QuestionInstance.key``), never typed; the
writers (``moodle``, ``qti``, ``gift``) only lay this description out in their format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any, Literal, TypeVar

from grader.errors import GraderError
from grader.quiz import quantities
from grader.quiz.bank import Bank
from grader.quiz.kinds import REGISTRY
from grader.quiz.question_type import QuestionType
from grader.quiz.questions import Question, QuestionInstance
from grader.quiz.slips import describe, slipped_answers
from grader.quiz.variants import Variant

VARIANT_SEED = "lms-{}"  # practice seeds of exported variants: grader quiz key BANK --seed lms-3
DRAWS_PER_VARIANT = 20  # seeds tried per variant asked for, before settling for fewer distinct ones
GRID_TOLERANCE = {"absolute": 1e-6}  # what grader quiz check allows a grid cell without a bank tolerance


class LmsExportError(GraderError):
    """A bank that a platform's format cannot carry as it is; the message names the question."""


@dataclass(frozen=True)
class Block:
    """A piece of a prompt: a paragraph, or preformatted lines (a grid of numbers)."""

    text: str
    preformatted: bool = False  # kept line by line (a grid of numbers), not a paragraph


@dataclass(frozen=True)
class Answer:
    """A value a numeric field recognises: the key (fraction 1) or a known slip (fraction 0)."""

    value: int | float
    tolerance: float  # absolute, in the value's unit
    fraction: float
    feedback: str = ""


@dataclass(frozen=True)
class Unit:
    """A unit an answer may be given in: ``multiplier`` of it make one of the values' unit
    (Moodle's convention: with values in MB, GB has 0.001 and kB 1000)."""

    name: str
    multiplier: float


@dataclass(frozen=True)
class Slip:
    value: int | float  # the number the slip gives, in the question's unit
    message: str


@dataclass(frozen=True)
class Numerical:
    """The key, then the answers that name a slip: a slip's own number (integers), or the
    range of numbers for which ``grader quiz check`` names that slip (numbers with a
    tolerance: most are the slip's number with the bank's tolerance; where two slips'
    tolerances overlap, each keeps its side). ``slips`` lists each slip's own number."""

    answers: tuple[Answer, ...]
    slips: tuple[Slip, ...] = ()
    unit: str | None = None  # the unit the values are in (None: a plain number)
    units: tuple[Unit, ...] = ()  # the units accepted, the values' own first

    @property
    def key(self) -> Answer:
        return self.answers[0]


@dataclass(frozen=True)
class Field:
    """One cell of a grid or one dimension of a shape."""

    name: str  # an identifier: r1c2, height
    label: str  # for people: row 1, column 2
    answers: tuple[Answer, ...]  # the key first

    @property
    def key(self) -> Answer:
        return self.answers[0]


@dataclass(frozen=True)
class Fields:
    rows: tuple[tuple[Field, ...], ...]
    layout: Literal["grid", "shape"]

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(field for row in self.rows for field in row)


@dataclass(frozen=True)
class Option:
    letter: str
    text: str
    correct: bool
    fraction: float  # of the question's points, added when the option is picked
    feedback: str = ""


@dataclass(frozen=True)
class Choices:
    options: tuple[Option, ...]
    multiple: bool


@dataclass(frozen=True)
class Essay:
    key_points: tuple[str, ...]
    model_answer: str


Body = Numerical | Fields | Choices | Essay
T = TypeVar("T")


def handler_for(body: Body, numerical: T, fields: T, choices: T, essay: T) -> T:
    """What a writer does with ``body``, picked by its kind: the one place the kinds are listed."""
    handlers: dict[type, T] = {Numerical: numerical, Fields: fields, Choices: choices, Essay: essay}
    return handlers[type(body)]


@dataclass(frozen=True)
class Item:
    """One question, in one variant, as every platform receives it."""

    question_id: str  # cnn-exercises/q2a
    ident: str  # unique in the export and safe as an XML identifier
    name: str  # cnn-exercises/q2a: Parameters of a three-layer CNN (practice variant lms-3)
    points: float
    prompt: tuple[Block, ...]
    body: Body
    seed: str | None = None  # the practice seed of a variant; None for the default numbers


@dataclass(frozen=True)
class VariantGroup:
    """The practice variants of one question: a platform gives each student one of them."""

    question_id: str
    ident: str
    name: str
    points: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class LeftOut:
    question_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class BankExport:
    bank: str
    title: str
    description: str
    entries: tuple[Item | LeftOut, ...]  # every question of the bank, in its order, default numbers
    groups: tuple[VariantGroup, ...] = ()  # with --variants: one per numeric question that has variants
    variants_asked: int = 0

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(e for e in self.entries if isinstance(e, Item))

    @property
    def left_out(self) -> tuple[LeftOut, ...]:
        return tuple(e for e in self.entries if isinstance(e, LeftOut))

    def group_of(self, question_id: str) -> VariantGroup | None:
        return next((g for g in self.groups if g.question_id == question_id), None)


# --- numbers ---------------------------------------------------------------------------


def tidy(value: float) -> int | float:
    """A computed number as it is written: whole numbers as integers, others to 12 digits."""
    if isinstance(value, int):
        return value
    if value.is_integer():
        return int(value)
    return float(f"{value:.12g}")


def number_text(value: int | float) -> str:
    """A number in plain decimal notation (no exponent, which some importers cannot read)."""
    value = tidy(value)
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def allowed_error(tolerance: dict[str, float], value: float) -> float:
    """The absolute error ``grader quiz check`` accepts around ``value`` (``answers._close``)."""
    return tidy(max(tolerance.get("absolute", 0.0), tolerance.get("relative", 0.0) * abs(value)))


MOODLE_FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25)
MOODLE_FRACTIONS += (0.2, 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05, 0.0)  # Moodle's grade list


def moodle_percent(fraction: float, where: str) -> str:
    """A fraction as Moodle writes it (``33.33333``), refused when Moodle's importer would
    refuse it: it only takes the grades of its list (and their negatives)."""
    if not any(abs(abs(fraction) - allowed) < 1e-6 for allowed in MOODLE_FRACTIONS):
        raise LmsExportError(
            f"{where}: a share of {fraction:.4%} is not one of Moodle's grades (1/n for n up to 10); "
            "Moodle and GIFT cannot carry this question as grader quiz check scores it"
        )
    return number_text(round(fraction * 100, 5))


# --- prompts ---------------------------------------------------------------------------


def prompt_blocks(text: str) -> tuple[Block, ...]:
    """A prompt as paragraphs and preformatted blocks: indented lines (the grids the prompt
    shows) keep their layout; other lines are wrapped text, joined; a line just before a grid
    ("I =") is the grid's caption and stands alone."""
    blocks: list[Block] = []
    para: list[str] = []
    pre: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(Block(" ".join(para)))
            para.clear()

    def flush_pre() -> None:
        if pre:
            blocks.append(Block("\n".join(pre), preformatted=True))
            pre.clear()

    for line in text.splitlines():
        if not line.strip():
            flush_para()
            flush_pre()
        elif line[:1].isspace():
            if para:
                caption = para.pop()
                flush_para()
                blocks.append(Block(caption))
            pre.append(line.rstrip())
        else:
            flush_pre()
            para.append(line.strip())
    flush_para()
    flush_pre()
    return tuple(blocks)


# --- what each type becomes ------------------------------------------------------------


def _slips(inst: QuestionInstance) -> Iterator[tuple[Any, str, int]]:
    """(value, message, number of slips) for every known slip of this instance's numbers."""
    for combo, value in slipped_answers(inst.question.spec["compute"], inst.arguments, inst.key):
        yield value, describe(combo), len(combo)


@dataclass(frozen=True)
class _Known:
    """A known slip of a numeric question: its number, how far off ``grader quiz check`` still
    names it, its message, and how many slips it takes (one-slip answers are named first)."""

    value: int | float
    error: float
    message: str
    slips: int

    def holds(self, response: float) -> bool:
        return abs(response - self.value) <= self.error

    def distance(self, response: float) -> float:
        return abs(response - self.value) / max(abs(self.value), 1e-12)  # as answers._slip_feedback ranks


def _named(response: float, key: _Known, known: list[_Known]) -> int | None:
    """Which known slip ``grader quiz check`` names for ``response``: none within the key's
    tolerance; else the closest one-slip answer that holds it, else the closest pair."""
    if key.holds(response):
        return None
    for slips in (1, 2):
        holding = [(k.distance(response), i) for i, k in enumerate(known) if k.slips == slips and k.holds(response)]
        if holding:
            return min(holding)[1]
    return None


def _ranges(key: _Known, known: list[_Known]) -> list[tuple[float, float, int]]:
    """The ranges of responses for which each slip is named: (low, high, index of the slip).

    Where two slips' tolerances overlap, a platform that takes the first matching answer
    would name whichever is listed first; cut at the points where the naming changes (the
    tolerances' ends and the points equally far from two slips), every range names one slip."""
    cuts = {key.value - key.error, key.value + key.error}
    for k in known:
        cuts |= {k.value - k.error, k.value + k.error}
    for a, b in combinations(known, 2):
        if abs(a.value - b.value) <= a.error + b.error and a.value and b.value:
            cuts.add((a.value * abs(b.value) + b.value * abs(a.value)) / (abs(a.value) + abs(b.value)))
    points = sorted(cuts)
    ranges: list[tuple[float, float, int]] = []
    for low, high in zip(points, points[1:]):
        named = _named((low + high) / 2, key, known)
        if named is None:
            continue
        if ranges and ranges[-1][2] == named and ranges[-1][1] == low:
            ranges[-1] = (ranges[-1][0], high, named)
        else:
            ranges.append((low, high, named))
    return sorted(ranges, key=lambda r: (r[2], r[0]))


def _numerical(inst: QuestionInstance) -> Numerical:
    spec = inst.question.spec
    if inst.question.type == QuestionType.INTEGER:
        tolerance: dict[str, float] = {}
        unit, scale = None, 1
    else:
        tolerance = spec["tolerance"]
        unit = spec.get("unit", "B") if spec.get("quantity") == "bytes" else None
        scale = quantities.BYTE_UNITS[unit.lower()] if unit else 1
    key = _Known(inst.key, allowed_error(tolerance, inst.key), "", 0)
    known: list[_Known] = []
    for value, message, count in _slips(inst):
        if all(k.value != value for k in known):  # the first slip that gives a number is the one named
            known.append(_Known(value, allowed_error(tolerance, value), message, count))
    answers = [Answer(_scaled(key.value, scale), _scaled(key.error, scale), 1.0)]
    if any(k.error for k in known):
        for low, high, index in _ranges(key, known):
            middle, half = (low + high) / 2, (high - low) / 2
            answers.append(Answer(_scaled(middle, scale), _scaled(half, scale), 0.0, known[index].message))
    else:  # exact answers: each slip's own number
        answers += [Answer(_scaled(k.value, scale), 0, 0.0, k.message) for k in known]
    slips = tuple(Slip(_scaled(k.value, scale), k.message) for k in known if not key.holds(k.value))
    return Numerical(tuple(answers), slips, unit, _units(unit) if unit else ())


def _scaled(value: int | float, scale: int) -> int | float:
    """``value`` (bytes, or a plain number with scale 1) in the question's unit."""
    return value if scale == 1 else tidy(value / scale)


def _units(unit: str) -> tuple[Unit, ...]:
    """The byte units ``grader quiz check`` reads, as Moodle units of a value in ``unit``."""
    base = quantities.BYTE_UNITS[unit.lower()]
    names = [unit] + [quantities.UNIT_NAMES.get(key, key) for key in quantities.BYTE_UNITS]
    return tuple(Unit(name, _exact(base / quantities.BYTE_UNITS[name.lower()])) for name in dict.fromkeys(names))


def _exact(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _shape(inst: QuestionInstance) -> Fields:
    key = list(inst.key)
    names = ("height", "width", "channels") if len(key) == 3 else tuple(f"axis{i + 1}" for i in range(len(key)))
    per_dim: list[list[Answer]] = [[Answer(k, 0, 1.0)] for k in key]
    for value, message, count in _slips(inst):
        if count != 1 or len(value) != len(key):
            continue  # a dimension's feedback names one slip: pairs say too much about a single number
        for answers, slipped in zip(per_dim, value):
            if all(a.value != slipped for a in answers):
                answers.append(Answer(slipped, 0, 0.0, message))
    fields = tuple(Field(n, n, tuple(a)) for n, a in zip(names, per_dim))
    return Fields((fields,), "shape")


def _grid(inst: QuestionInstance) -> Fields:
    """One field per cell, without slips: a cell's few small values coincide with a slip's by
    chance too often for its feedback to be right (``grader quiz check`` names a grid's slip
    from the whole grid)."""
    tolerance = inst.question.spec.get("tolerance", GRID_TOLERANCE)
    rows = tuple(
        tuple(
            Field(f"r{r}c{c}", f"row {r}, column {c}", (Answer(tidy(v), allowed_error(tolerance, v), 1.0),))
            for c, v in enumerate(row, start=1)
        )
        for r, row in enumerate(inst.key, start=1)
    )
    return Fields(rows, "grid")


def _choices(inst: QuestionInstance) -> Choices:
    """Multi-select: each right pick earns 1/(number of right options), each wrong pick takes
    as much back, as ``answers.check_multi_select`` scores; choice: the right option is all."""
    options = inst.question.spec["options"]
    multiple = inst.question.type == QuestionType.MULTI_SELECT
    share = 1 / sum(o["correct"] for o in options)
    return Choices(
        tuple(
            Option(
                o["key"],
                o["text"],
                o["correct"],
                (share if o["correct"] else -share) if multiple else float(o["correct"]),
                o.get("feedback", ""),
            )
            for o in options
        ),
        multiple,
    )


def _essay(inst: QuestionInstance) -> Essay:
    spec = inst.question.spec
    return Essay(tuple(spec["key_points"]), " ".join(spec["model_answer"].split()))


BODIES: dict[QuestionType, Callable[[QuestionInstance], Body]] = {
    QuestionType.INTEGER: _numerical,
    QuestionType.NUMBER: _numerical,
    QuestionType.SHAPE: _shape,
    QuestionType.GRID: _grid,
    QuestionType.CHOICE: _choices,
    QuestionType.MULTI_SELECT: _choices,
    QuestionType.FREE_TEXT: _essay,
}  # every type a sheet answers (``QuestionKind.on_sheet``); the others are left out


# --- a bank ----------------------------------------------------------------------------


def question_name(question: Question) -> str:
    title = question.spec.get("title", "").strip()
    return f"{question.id}: {title}" if title else question.id


def _ident(question: Question, seed: str | None = None) -> str:
    text = question.id + (f"-{seed}" if seed else "")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def item(inst: QuestionInstance, seed: str | None = None) -> Item:
    question = inst.question
    name = question_name(question) + (f" (practice variant {seed})" if seed else "")
    return Item(
        question.id,
        _ident(question, seed),
        name,
        question.points,
        prompt_blocks(inst.prompt),
        BODIES[question.type](inst),
        seed,
    )


def left_out(question: Question) -> LeftOut:
    kind = REGISTRY[question.type]
    elsewhere = kind.graded_elsewhere(question.spec) if kind.graded_elsewhere else ""
    reason = f"a {question.type} question: {elsewhere}" if elsewhere else f"a {question.type} question"
    return LeftOut(question.id, question_name(question), reason)


def practice_variants(bank: Bank, question: Question, count: int) -> list[tuple[str, QuestionInstance]]:
    """Up to ``count`` practice variants of ``question`` with numbers unlike the default's and
    each other's: seeds lms-1, lms-2, ... (a seed whose numbers repeat is passed over)."""
    default = bank.instance(question)
    seen = {(default.prompt, repr(default.key))}
    found: list[tuple[str, QuestionInstance]] = []
    for n in range(1, count * DRAWS_PER_VARIANT + 1):
        if len(found) == count:
            break
        seed = VARIANT_SEED.format(n)
        inst = bank.instance(question, Variant.practice(seed))
        mark = (inst.prompt, repr(inst.key))
        if mark not in seen:
            seen.add(mark)
            found.append((seed, inst))
    return found


def describe_bank(bank: Bank, variants: int = 0) -> BankExport:
    """What ``bank`` becomes: every question (default numbers) and, with ``variants``, that
    many practice variants of each numeric question whose numbers can change."""
    entries: list[Item | LeftOut] = []
    groups: list[VariantGroup] = []
    for question in bank.questions:
        kind = REGISTRY[question.type]
        if not kind.on_sheet:
            entries.append(left_out(question))
            continue
        entries.append(item(bank.instance(question)))
        if variants and kind.computed and bank.has_variants(question):
            items = tuple(item(inst, seed) for seed, inst in practice_variants(bank, question, variants))
            name = f"{question_name(question)} (one of {len(items)} practice variants)"
            groups.append(VariantGroup(question.id, _ident(question) + "-variants", name, question.points, items))
    return BankExport(bank.name, bank.title, bank.description.strip(), tuple(entries), tuple(groups), variants)
