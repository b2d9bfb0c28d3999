"""JSON Schemas for the grader's file formats, and one way to check a document against them."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from typing import Any


class DocumentKind(StrEnum):
    """The ``kind`` a result document names itself by: which schema it follows, and which typed
    result reads it back (:func:`grader.results.result_from_document`)."""

    QUIZ_RESULT = "quiz-result"
    NOTEBOOK_RESULT = "notebook-result"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``NAME.schema.json`` shipped in this package."""
    from importlib import resources  # here: the quiz check, which loads no schema, does not pay for it

    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> Any:
    import jsonschema  # imported here: only paths that validate pay for it

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(document: Any, name: str) -> list[Any]:
    """All violations of schema ``name``, in document order, the most specific first.

    A wrong option inside a question also makes the question's own check fail; the
    deeper error is the one that tells the author what to fix.
    """
    errors = _validator(name).iter_errors(document)
    return sorted(errors, key=lambda e: (_order(e.absolute_path), -len(e.absolute_path)))


def _order(path: Any) -> list[tuple[int, Any]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in list(path)[:2]]


def describe_path(path: Any) -> str:
    """``['tolerance', 'relative']`` -> ``tolerance.relative``; list indices as ``[3]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
