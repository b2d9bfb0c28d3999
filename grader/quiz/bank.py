"""Question banks: reading, validating and instantiating them for a seed.

A bank is a YAML file checked against ``schemas/bank.schema.json``, then against what its
question types' entries in ``kinds`` check; anything wrong is refused with the file, line,
question id and field. A question becomes a ``QuestionInstance`` (``questions``) for a
variant (``variants.Variant``): parameters drawn, prompt filled in and, for numeric
questions, the key computed by the calculators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from grader.errors import BankError, InputFileError
from grader.quiz import keys, params
from grader.quiz.kinds import REGISTRY
from grader.quiz.questions import Question, QuestionInstance
from grader.quiz.variants import Variant, as_variant
from grader.schemas import describe_path, schema_errors
from grader.yamlsource import YamlDocument, read_yaml

NUMERIC_TYPES = frozenset(qtype for qtype, kind in REGISTRY.items() if kind.computed)


@dataclass(frozen=True)
class Bank:
    name: str
    title: str
    source: str
    questions: tuple[Question, ...]
    params: dict[str, Any] = field(default_factory=dict)
    variants: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def instance(self, question: Question, variant: Variant | str | None = None) -> QuestionInstance:
        """``question`` in ``variant`` (a plain string is a practice seed; None the default variant)."""
        variant = as_variant(variant)
        shared = params.choose(self.params, self.variants, variant.stream, self.name)
        own = params.choose(
            question.spec.get("params", {}),
            question.spec.get("variants", {}),
            variant.stream,
            self.name,
            question.local_id,
        )
        return QuestionInstance(question, variant, {**shared, **own})

    def has_variants(self, question: Question) -> bool:
        return bool(self.variants or question.spec.get("variants"))


def _schema_message(doc: YamlDocument, error: Any) -> str:
    path = tuple(error.absolute_path)
    line = doc.line_of(path)
    where = f"{doc.source}:{line}" if line else doc.source
    data = doc.data
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        question = data["questions"][path[1]]
        qid = question.get("id") if isinstance(question, dict) else None
        who = f"question {qid}" if qid else f"question #{path[1] + 1}"
        field_path = describe_path(path[2:]) if len(path) > 2 else "(the question itself)"
        return f"{where}: {who}: field {field_path}: {error.message}"
    return f"{where}: field {describe_path(path)}: {error.message}"


def _check_types(bank: Bank) -> None:
    """Cross-field checks a schema cannot express: ids unique, compute fits the type, and
    what the question's type checks (``QuestionKind.check_spec``)."""
    seen: dict[str, Question] = {}
    for question in bank.questions:
        if question.local_id in seen:
            first = seen[question.local_id]
            raise BankError(f"{question.where}: id {question.local_id!r} is used twice (first at line {first.line})")
        seen[question.local_id] = question
        compute = question.spec.get("compute")
        if compute and keys.COMPUTES[compute].answer_type != question.type:
            raise BankError(
                f"{question.where}: field compute: {compute!r} gives a "
                f"{keys.COMPUTES[compute].answer_type} answer, but the question type is {question.type!r}"
            )
        REGISTRY[question.type].check_spec(question)


def load_bank(path: str | Path, *, shipped: bool = False) -> Bank:
    """Read and validate one bank file; every numeric key of the default variant is computed
    once here so that a broken setup is reported when the bank is loaded, not mid-grading.

    ``shipped`` is for the banks shipped with the grader: the test suite checks them against
    the schema (as it checks the code), and they are read as the grader's own files (no
    guard against hostile YAML), so that a student's quiz check does not load a JSON Schema
    validator, the larger part of its time."""
    try:
        doc = read_yaml(path, trusted=shipped)
    except InputFileError as exc:
        raise BankError(str(exc)) from None
    if doc.duplicates:
        dup = doc.duplicates[0]
        raise BankError(
            f"{doc.source}:{dup.line}: field {describe_path(dup.path)} is written twice "
            f"(first at line {dup.first_line})"
        )
    errors = [] if shipped else schema_errors(doc.data, "bank")
    if errors:
        raise BankError(_schema_message(doc, errors[0]))
    data = doc.data
    questions = tuple(
        Question(data["bank"], spec, doc.source, doc.line_of(("questions", i)) or 0)
        for i, spec in enumerate(data["questions"])
    )
    bank = Bank(
        name=data["bank"],
        title=data["title"],
        source=doc.source,
        questions=questions,
        params=data.get("params", {}),
        variants=data.get("variants", {}),
        description=data.get("description", ""),
    )
    _check_types(bank)
    for question in questions:
        if REGISTRY[question.type].computed:
            bank.instance(question).key  # noqa: B018 - computing it is the check
    return bank


def packaged_bank_dir() -> Path:
    """Folder of the banks shipped with the package (``questions/`` in the source tree)."""
    import grader.banks  # a folder of package data; importlib.resources would cost a quiz check its time

    return Path(grader.banks.__file__).parent


@dataclass(frozen=True)
class Catalog:
    """All banks in a folder, and lookup of questions by full id."""

    banks: tuple[Bank, ...]

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Catalog:
        """The banks in FOLDER, each checked against the schema; without one, the banks
        shipped with the grader (checked by the test suite instead)."""
        shipped = not folder
        folder = Path(folder) if folder else packaged_bank_dir()
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise BankError(f"{folder}: no question banks (*.yaml) found")
        banks = tuple(load_bank(f, shipped=shipped) for f in files)
        names = [b.name for b in banks]
        for name in set(names):
            if names.count(name) > 1:
                raise BankError(f"{folder}: two files declare the bank {name!r}")
        return cls(banks)

    def bank(self, name: str) -> Bank:
        for bank in self.banks:
            if bank.name == name:
                return bank
        raise BankError(f"no bank named {name!r}; banks: {', '.join(b.name for b in self.banks)}")

    @cached_property
    def by_id(self) -> dict[str, tuple[Bank, Question]]:
        return {q.id: (b, q) for b in self.banks for q in b.questions}

    def find(self, question_id: str) -> tuple[Bank, Question]:
        try:
            return self.by_id[question_id]
        except KeyError:
            raise BankError(f"no question {question_id!r}{self.suggest(question_id)}") from None

    def suggest(self, question_id: str) -> str:
        """`` (did you mean ...?)`` for a mistyped id, or nothing."""
        import difflib

        close = difflib.get_close_matches(str(question_id), list(self.by_id), n=2, cutoff=0.6)
        if not close and "/" not in str(question_id):
            close = [qid for qid in self.by_id if qid.endswith("/" + str(question_id))]
        return f" (did you mean {' or '.join(close)}?)" if close else ""
