"""Code in a notebook that reaches into the grader, found by reading its source outside the kernel.

Whatever runs in the kernel can, with enough effort, change what the grader's hidden code
records there: reach its functions through ``__globals__``, find its objects with ``gc``,
write to the record pipe through ``/proc/self/fd``, or hide all of that in an ``exec`` of an
encoded string. The grader reads the notebook's source itself, before trusting a record,
and looks for the handful of means such code needs. Homework that trains a CNN needs none
of them (``gc.collect()`` and ``model.compile`` are not among them), so a finding is rare,
and it only holds points for the instructor's review: it never takes them for good.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Reach(StrEnum):
    """A means of reaching into the grader's code from the kernel."""

    FUNCTION_INTERNALS = "function internals"  # __globals__, __closure__, __code__, frames
    MODULE_TABLE = "the module table"  # sys.modules
    OBJECT_GRAPH = "the garbage collector's object lists"  # gc.get_objects, get_referrers
    FILE_DESCRIPTORS = "the process's file descriptors"  # /proc/self/fd, os.write, os.dup
    HIDDEN_CODE = "code run from a string"  # exec, eval, compile, __import__


ATTRIBUTES = {
    "__globals__": Reach.FUNCTION_INTERNALS,
    "__closure__": Reach.FUNCTION_INTERNALS,
    "__code__": Reach.FUNCTION_INTERNALS,
    "__builtins__": Reach.FUNCTION_INTERNALS,
    "f_globals": Reach.FUNCTION_INTERNALS,
    "f_back": Reach.FUNCTION_INTERNALS,
    "f_locals": Reach.FUNCTION_INTERNALS,
    "tb_frame": Reach.FUNCTION_INTERNALS,
    "_getframe": Reach.FUNCTION_INTERNALS,
    "currentframe": Reach.FUNCTION_INTERNALS,
    "modules": Reach.MODULE_TABLE,  # only as sys.modules (see _attribute)
    "get_objects": Reach.OBJECT_GRAPH,
    "get_referrers": Reach.OBJECT_GRAPH,
    "get_referents": Reach.OBJECT_GRAPH,
    "write": Reach.FILE_DESCRIPTORS,  # only as os.write
    "dup": Reach.FILE_DESCRIPTORS,
    "dup2": Reach.FILE_DESCRIPTORS,
    "fdopen": Reach.FILE_DESCRIPTORS,
    "import_module": Reach.HIDDEN_CODE,
}
OWNERS = {"modules": "sys", "write": "os", "dup": "os", "dup2": "os", "fdopen": "os"}
BUILTINS = {"exec": Reach.HIDDEN_CODE, "eval": Reach.HIDDEN_CODE, "compile": Reach.HIDDEN_CODE}
BUILTINS["__import__"] = Reach.HIDDEN_CODE
TEXTS = {  # inside any string: a name built for getattr, a path for open or a shell command
    "__globals__": Reach.FUNCTION_INTERNALS,
    "__closure__": Reach.FUNCTION_INTERNALS,
    "f_globals": Reach.FUNCTION_INTERNALS,
    "kernel_trace": Reach.FUNCTION_INTERNALS,
    "record_fd": Reach.FILE_DESCRIPTORS,
    "/proc/self": Reach.FILE_DESCRIPTORS,
    "/dev/fd": Reach.FILE_DESCRIPTORS,
}


@dataclass(frozen=True)
class Finding:
    cell: int  # 1-based among all the notebook's cells, as the feedback counts cells
    line: int
    reach: Reach
    means: str  # the grader's own name for what was used (never the student's text: it is untrusted)

    def describe(self) -> str:
        return f"cell {self.cell}, line {self.line} uses {self.reach} ({self.means})"


def scan(nb: Any) -> list[Finding]:
    """Every use in the notebook's code cells of a means to reach into the grader."""
    findings: list[Finding] = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = _python(cell.get("source") or "")
        try:
            tree = ast.parse(source)
        except SyntaxError:  # the kernel refuses it too
            continue
        for node in ast.walk(tree):
            found = _reach(node)
            if found is not None:
                findings.append(Finding(number, getattr(node, "lineno", 1), *found))
    return _one_per_line(findings)


def _python(source: str) -> str:
    """IPython's magics and shell lines as the Python they run (``!cat x`` is a call with the
    string "cat x"), so that they are read too."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _reach(node: ast.AST) -> tuple[Reach, str] | None:
    """(what kind of reach, the grader's name for the means) for one syntax node, or None."""
    if isinstance(node, ast.Attribute):
        return _attribute(node)
    if isinstance(node, ast.Name) and node.id in BUILTINS and isinstance(node.ctx, ast.Load):
        return BUILTINS[node.id], f"{node.id}()"
    text = _joined(node)  # a string, or strings added together: "__glo" + "bals__"
    if text is not None and (isinstance(node, ast.Constant) or isinstance(node, ast.BinOp)):
        return next(((reach, f"the text {name!r}") for name, reach in TEXTS.items() if name in text), None)
    return None


def _attribute(node: ast.Attribute) -> tuple[Reach, str] | None:
    reach = ATTRIBUTES.get(node.attr)
    owner = OWNERS.get(node.attr)
    if reach is None:
        return None
    if owner is None:
        return reach, f".{node.attr}"
    return (reach, f"{owner}.{node.attr}") if isinstance(node.value, ast.Name) and node.value.id == owner else None


def _joined(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _joined(node.left), _joined(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _one_per_line(findings: list[Finding]) -> list[Finding]:
    seen, kept = set(), []
    for finding in findings:
        if (finding.cell, finding.line) not in seen:
            seen.add((finding.cell, finding.line))
            kept.append(finding)
    return kept
