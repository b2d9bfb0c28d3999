"""YAML reading that remembers where each value came from.

Question banks and answer sheets are edited by hand, so every message about them has
to name a line. PyYAML composes a node tree that carries marks; this module builds
plain Python values from it while recording the line of every path and every
duplicated key (which PyYAML would otherwise silently overwrite).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.errors import InputFileError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)



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
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document from ``text``; ``source`` names it in messages."""
    doc = YamlDocument(data=None, source=source)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
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


def read_yaml(path: str | Path) -> YamlDocument:
    """Read a YAML file, refusing missing, binary and empty files with a clear message."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not a text file (byte {exc.start} is not UTF-8); expected YAML"
        ) from None
    if "\x00" in text:
        raise InputFileError(f"{path}: not a text file (contains NUL bytes); expected YAML")
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty")
    doc = parse_yaml(text, str(path))
    if doc.data is None:
        raise InputFileError(f"{path}: the file holds no YAML content (only comments?)")
    return doc
