"""A stored result document read back as the typed result it was written from: an answer
sheet's :class:`~grader.quiz.results.SheetResult` or a notebook's
:class:`~grader.notebooks.results.NotebookResult`, told apart by the document's own kind.
Every reader of a batch's documents (exports, class report, review) goes through here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError
from grader.quiz.results import SheetResult
from grader.schemas import DocumentKind

if TYPE_CHECKING:
    from grader.notebooks.results import NotebookResult

    Result = SheetResult | NotebookResult


class ResultDocumentError(GraderError):
    """A file that is not a readable result document."""


def result_from_document(document: Any, where: str = "result") -> Result:
    """The typed result of a stored document; the notebook code is imported only for a
    notebook's (a batch of answer sheets never loads it)."""
    if not isinstance(document, dict):
        raise ResultDocumentError(f"{where}: not a result document (a JSON object)")
    try:
        kind = DocumentKind(document.get("kind"))
        if kind is DocumentKind.QUIZ_RESULT:
            return SheetResult.from_document(document)
        from grader.notebooks.results import NotebookResult

        return NotebookResult.from_document(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultDocumentError(f"{where}: not a result document ({exc.__class__.__name__}: {exc})") from None


def load_result(path: Path) -> Result:
    """The typed result stored in ``path`` (``result.json`` or ``reviewed.json``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultDocumentError(f"{path}: not a readable result document ({exc})") from None
    return result_from_document(document, str(path))


def load_notebook_result(path: Path) -> NotebookResult:
    """The notebook result stored in ``path``; any other document is refused."""
    from grader.notebooks.results import NotebookResult

    result = load_result(path)
    if not isinstance(result, NotebookResult):
        raise ResultDocumentError(f"{path}: an answer sheet's result where a notebook's was expected")
    return result
