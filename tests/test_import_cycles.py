"""No import cycle in grader/: a cycle makes what a module sees depend on which module was
imported first, and a function-level import only hides it until that function runs.

The graph is read from the source (no module is imported): every ``import`` and ``from ...
import`` anywhere in a file, module level or inside a function, that names a grader module.
``from grader.x import y`` where ``y`` is a submodule imports ``grader.x.y``; a package's
``__init__.py`` is the package's own module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "grader"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def grader_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` stands for: itself, or the longest grader module it starts with
    (``grader.x.f`` for a function f of grader.x)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module a ``from`` import reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The grader modules ``name`` imports, each with the line of its first import."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, name, path.name == "__init__.py")
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names
            ]
        for target in targets:
            module = _known(target, modules) if target.split(".")[0] == PACKAGE else None
            if module and module != name:
                found.setdefault(module, node.lineno)
    return found


def import_graph() -> tuple[dict[str, dict[str, int]], dict[str, Path]]:
    modules = grader_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}, modules


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle (its first module repeated at the end), or None: a depth-first search that
    meets a module still on its path."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once all below it is searched
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, {})):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    return next((cycle for module in sorted(graph) if module not in state and (cycle := visit(module))), None)


def describe(cycle: list[str], graph: dict[str, dict[str, int]], modules: dict[str, Path]) -> str:
    steps = [f"  {a} imports {b} ({modules[a].relative_to(ROOT)}:{graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
    return "import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_the_graph_sees_every_kind_of_import():
    """The reader itself: function-level, submodule and relative imports are edges."""
    graph, _ = import_graph()
    assert "grader.notebooks.mnist_data" in graph["grader.batch.isolation"]  # inside a function
    assert "grader.notebooks.mnist_data" in graph["grader.notebooks.data_cache"]  # from grader.notebooks import
    assert "grader.errors" in graph["grader.notebooks.assignment"]
    assert find_cycle({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 1, "b": 1}}) is None


def test_no_import_cycle_in_the_grader():
    graph, modules = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, describe(cycle, graph, modules)
