"""YAML reading that remembers where each value came from.

Question banks and answer sheets are edited by hand, so every message about them has
to name a line. PyYAML composes a node tree that carries marks; this module builds
plain Python values from it while recording the line of every path, the text of every
scalar as written, and every duplicated key (which PyYAML would otherwise silently
overwrite).

Answer sheets come from students, so nothing is built from a file before it is known to be
small: its size is capped, then the parser's event stream (which builds nothing) is counted
for nesting depth, number of values and anchors, and the composed node graph for what its
aliases expand to. PyYAML's composer recurses (in C: a deeply nested file crashes the
interpreter) and aliases multiply (a few hundred bytes can stand for billions of values).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.errors import InputFileError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What a YAML file may hold before anything is built from it; ``what`` names the file in messages."""

    what: str
    max_bytes: int
    max_depth: int  # lists and mappings inside one another
    max_values: int  # keys, scalars, lists and mappings as written
    aliases: bool  # anchors (&) and aliases (*) allowed
    max_expanded: int  # values once aliases are followed


# Banks and assignments: the instructor's files, which use anchors and merge keys.
FILE_LIMITS = Limits("a YAML file", 10 * MB, 64, 200_000, True, 200_000)
# Answer sheets and grades files: a student's file needs no aliases and holds lists of lists at most.
SHEET_LIMITS = Limits("an answer sheet", 1 * MB, 10, 20_000, False, 20_000)


@dataclass(frozen=True)
class Duplicate:
    """A mapping key written twice; both lines are kept for the message."""

    path: tuple
    first_line: int
    line: int


@dataclass(frozen=True)
class UnreadableNumber:
    """An integer literal too long for Python to convert (thousands of digits)."""

    text: str


@dataclass
class YamlDocument:
    """Plain data plus the line of every path (1-based) and any duplicated keys."""

    data: Any
    source: str
    lines: dict[tuple, int] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    texts: dict[tuple, str] = field(default_factory=dict)  # each scalar as written: 0123 stays "0123"

    def line_of(self, path: tuple) -> int | None:
        """Line of ``path``, or of its closest recorded ancestor."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def _construct_int(loader: Any, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        return UnreadableNumber(node.value)


class _LineLoader(_Loader):  # type: ignore[misc, valid-type]
    """Safe loader whose integers never raise on absurd lengths."""


_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _build(loader: Any, node: yaml.Node, path: tuple, doc: YamlDocument) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)
        merged = len(node.value) - own  # merged (<<) pairs come first; own keys override them
        out: dict[Any, Any] = {}
        first_lines: dict[Any, int] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                key = str(key)
            line = key_node.start_mark.line + 1
            if key in first_lines and index >= merged:
                doc.duplicates.append(Duplicate(path + (key,), first_lines[key], line))
                continue
            if index >= merged:
                first_lines[key] = line
            doc.lines[path + (key,)] = line
            out[key] = _build(loader, value_node, path + (key,), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), doc) for i, item in enumerate(node.value)]
    doc.texts[path] = node.value
    return loader.construct_object(node, deep=True)


def _scan(text: str, source: str, limits: Limits) -> None:
    """Refuse nesting, size in values, and anchors beyond ``limits`` from the parser's events,
    which keep their own stack and build nothing (stops at the first problem)."""
    depth = values = 0
    loader = _LineLoader(text)
    try:
        while _next_event_within_depth(loader, source, limits):
            event = loader.get_event()
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if not isinstance(event, yaml.NodeEvent):
                continue
            where = f"{source}:{event.start_mark.line + 1}"
            values += 1
            if values > limits.max_values:
                raise InputFileError(
                    f"{where}: more than {limits.max_values:,} values (keys, answers, list items): "
                    f"far more than {limits.what} holds; refused"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    raise _too_deep(where, limits)
            if event.anchor is not None and not limits.aliases:
                sign = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
                raise InputFileError(
                    f"{where}: YAML {sign}{event.anchor}: {limits.what} may not use anchors (&) or "
                    "aliases (*); write each value out in full"
                )
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _check_expansion(root: yaml.Node, source: str, limits: Limits) -> None:
    """Refuse a node graph whose aliases expand past ``limits`` (values or depth) or refer to a
    value that contains them, before anything is built: each shared node is counted once."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        where = f"{source}:{node.start_mark.line + 1}"
        if children_done:
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            depth[key] = (
                1 + max((depth[id(child)] for child in children), default=0)
                if isinstance(node, yaml.CollectionNode)
                else 0
            )
            open_nodes.discard(key)
            if size[key] > limits.max_expanded:
                raise InputFileError(
                    f"{where}: its aliases (*) expand to more than {limits.max_expanded:,} values; refused"
                )
            if depth[key] > limits.max_depth:
                raise InputFileError(
                    f"{where}: its aliases (*) nest values more than {limits.max_depth} levels deep; refused"
                )
        elif key in open_nodes:
            raise InputFileError(f"{where}: an alias (*) refers to the value that contains it; refused")
        elif key not in size:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))


def _next_event_within_depth(loader: Any, source: str, limits: Limits) -> bool:
    """Whether another event follows. libyaml (PyYAML 6.0.4 and later) refuses collections
    nested past its own maximum while it scans ahead, before our count of the depth sees
    them: that refusal is the same refusal as ours (its maximum is far above ``max_depth``)."""
    try:
        return bool(loader.check_event())
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in str(exc.problem or ""):
            raise
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise _too_deep(f"{source}:{line}", limits) from None


def _too_deep(where: str, limits: Limits) -> InputFileError:
    return InputFileError(
        f"{where}: lists or mappings nested more than {limits.max_depth} levels deep: "
        f"far more than {limits.what} holds; refused"
    )


def parse_yaml(text: str, source: str, limits: Limits = FILE_LIMITS, *, trusted: bool = False) -> YamlDocument:
    """Parse one YAML document from ``text`` within ``limits``; ``source`` names it in messages.

    ``trusted`` (the grader's own files, such as its shipped banks) skips the checks against
    nesting, size and alias bombs, which take two thirds of the time and guard against
    a hostile file only."""
    doc = YamlDocument(data=None, source=source)
    loader = _LineLoader(text)
    try:
        if not trusted:
            _scan(text, source, limits)
        node = loader.get_single_node()
        if node is not None:
            if not trusted:
                _check_expansion(node, source, limits)
            doc.data = _build(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InputFileError(f"{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{source}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return doc


def read_yaml(path: str | Path, limits: Limits = FILE_LIMITS, *, trusted: bool = False) -> YamlDocument:
    """Read a YAML file within ``limits``, refusing missing, binary, empty and oversized files
    with a clear message (an oversized one is not read past its limit)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
            if len(raw) > limits.max_bytes:
                size = os.fstat(handle.fileno()).st_size
                raise InputFileError(
                    f"{path}: the file is {size / MB:,.1f} MB; {limits.what} is at most {limits.max_bytes / MB:g} MB"
                )
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not a text file (byte {exc.start} is not UTF-8); expected YAML") from None
    if "\x00" in text:
        raise InputFileError(f"{path}: not a text file (contains NUL bytes); expected YAML")
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty")
    doc = parse_yaml(text, str(path), limits, trusted=trusted)
    if doc.data is None:
        raise InputFileError(f"{path}: the file holds no YAML content (only comments?)")
    return doc
