"""Answer sheets written as notebooks: a cell per question calling ``answer("ID", VALUE)``.

The grader reads such a notebook without running it: each code cell is parsed (``ast``), and
only literal values are taken (numbers, text, lists, None), so nothing a student wrote is ever
executed to grade it. The first cell's ``sheet(...)`` call carries what a YAML sheet's header
carries (``seed``, ``student`` and a hand-out's ``handout`` block). The result is the same
:class:`~grader.yamlsource.YamlDocument` a YAML sheet gives, with cell numbers for lines, so
that a notebook sheet is graded exactly as the equivalent YAML sheet.
"""

from __future__ import annotations

import ast
from pathlib import Path
from pprint import pformat
from typing import Any

import nbformat

from grader.errors import AnswerSheetError
from grader.quiz.bank import Bank
from grader.quiz.handout import Handout
from grader.quiz.kinds import REGISTRY
from grader.quiz.render import answer_format
from grader.quiz.variants import Variant, VariantKind
from grader.yamlsource import Duplicate, YamlDocument

HEADER_KEYS = ("seed", "student", "handout")
UNREADABLE = "an expression the grader does not run"


def read_notebook_sheet(path: str | Path) -> YamlDocument:
    """The notebook's answers and header as a sheet document (lines are cell numbers)."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a file that is no notebook
        raise AnswerSheetError(f"{path}: not a notebook answer sheet ({type(exc).__name__}: {exc})") from None
    doc = YamlDocument(data={}, source=str(path))
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell.get("source") or "")
        except SyntaxError:
            continue  # not Python (a magic, a typo): no answer in it
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
            if call.func.id == "answer" and len(call.args) == 2:
                _take_answer(doc, call, number)
            elif call.func.id == "sheet":
                _take_header(doc, call, number)
    return doc


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return f"({UNREADABLE}: {ast.unparse(node)[:60]})"


def _put(doc: YamlDocument, key: str, value: Any, cell: int) -> None:
    if key in doc.data:
        doc.duplicates.append(Duplicate((key,), doc.lines[(key,)], cell))
    else:
        doc.lines[(key,)] = cell
    doc.data[key] = value


def _take_answer(doc: YamlDocument, call: ast.Call, cell: int) -> None:
    qid = _literal(call.args[0])
    if isinstance(qid, str):
        _put(doc, qid, _literal(call.args[1]), cell)


def _take_header(doc: YamlDocument, call: ast.Call, cell: int) -> None:
    for keyword in call.keywords:
        if keyword.arg in HEADER_KEYS:
            value = _literal(keyword.value)
            if value is None:
                continue
            _put(doc, keyword.arg, value, cell)
            if keyword.arg != "handout":
                doc.texts[(keyword.arg,)] = str(value)


def notebook_text(banks: list[Bank], variant: Variant, signed: Handout | None) -> str:
    """A notebook sheet as a file's text: a practice seed or a hand-out's student and signed
    numbers in its first cell, as a YAML sheet's header carries them."""
    if signed is not None:
        header: dict[str, Any] = {"student": signed.student, "handout": signed.block()}
    else:
        header = {"seed": variant.name} if variant.kind is VariantKind.PRACTICE else {}
    return nbformat.writes(template_notebook(banks, variant, header))


def template_notebook(banks: list[Bank], variant: Variant, header: dict[str, Any]) -> nbformat.NotebookNode:
    """A notebook sheet: the header cell, then each question's text and its answer cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    arguments = ", ".join(f"{key}={pformat(value, width=88, sort_dicts=False)}" for key, value in header.items())
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "# Answer sheet\n\nWrite each answer in its cell and run it: `answer(...)` gives feedback at once. "
            "The grader reads the values written in the `answer(...)` calls (numbers, text, lists), without "
            "running the notebook; keep the first cell as it is."
        )
    )
    nb.cells.append(nbformat.v4.new_code_cell(f"from grader.quiz.notebook import answer, sheet\n\nsheet({arguments})"))
    for bank in banks:
        for question in bank.questions:
            kind = REGISTRY[question.type]
            if not kind.on_sheet:
                continue
            inst = bank.instance(question, variant)
            options = "".join(f"\n- **{o['key']}**) {o['text']}" for o in question.spec.get("options", []))
            nb.cells.append(
                nbformat.v4.new_markdown_cell(
                    f"### {question.id}: {question.spec.get('title', '')} ({question.points:g} points)\n\n{inst.prompt}{options}\n\n"
                    f"*Answer: {_in_a_cell(answer_format(inst))}*"
                )
            )
            nb.cells.append(nbformat.v4.new_code_cell(f'answer("{question.id}", {_python_blank(kind.blank_answer)})'))
    return nb


def _in_a_cell(text: str) -> str:
    """A YAML sheet's answer format, said for an answer cell."""
    return text.replace("as a YAML block (see the template)", "between the triple quotes")


def _python_blank(blank: str) -> str:
    """A YAML sheet's blank answer as Python: None, or an empty text block for a written answer."""
    return "None" if blank.strip() == "~" else '"""\n"""'
