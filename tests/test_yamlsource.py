"""Reading YAML with line numbers, duplicates, unreadable input and hostile input (aliases)."""

import re

import pytest

from grader.errors import InputFileError
from grader.yamlsource import SHEET_LIMITS, UnreadableNumber, parse_yaml, read_yaml


def test_lines_and_duplicates_are_recorded():
    doc = parse_yaml("a: 1\nb:\n  - 2\n  - 3\na: 4\n", "x.yaml")
    assert doc.data == {"a": 1, "b": [2, 3]}
    assert doc.line_of(("b", 1)) == 4
    assert [(d.path, d.first_line, d.line) for d in doc.duplicates] == [(("a",), 1, 5)]


def test_merge_keys_are_followed():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", "x.yaml")
    assert doc.data["derived"] == {"x": 1, "y": 3}


def test_integer_with_thousands_of_digits_does_not_crash():
    doc = parse_yaml("a: 1" + "0" * 6000 + "\n", "x.yaml")
    assert isinstance(doc.data["a"], UnreadableNumber)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"# only a comment\n", "holds no YAML content"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
        (b"a: [1, 2\nb: 3\n", "not valid YAML"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        read_yaml(path)
    assert str(path) in str(info.value)


def test_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(InputFileError, match=r"bad.yaml:\d+: not valid YAML"):
        read_yaml(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_yaml(tmp_path / "nope.yaml")


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic attack: each anchor a list of aliases to the previous one (9**9 values in 436 bytes)."""
    lines = ["a: &a [" + ", ".join(['"lol"'] * width) + "]"]
    for previous, name in zip("abcdefghijklmnop", "bcdefghijklmnop"[: levels - 1]):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * width)}]")
    return "\n".join(lines) + f"\ncnn-exercises/q2a: *{lines[-1].split('&')[1].split()[0]}\n"


def test_aliases_that_multiply_are_refused_before_anything_is_built():
    with pytest.raises(InputFileError, match=r"x.yaml:\d+: its aliases \(\*\) expand to more than 200,000 values"):
        parse_yaml(billion_laughs(), "x.yaml")


def test_aliases_that_nest_deeper_than_the_limit_are_refused():
    lines = ["a0: &a0 [1]\n"] + [f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 80)]
    with pytest.raises(InputFileError, match=r"x.yaml:65: its aliases \(\*\) nest values more than 64 levels deep"):
        parse_yaml("".join(lines), "x.yaml")
    value, depth = parse_yaml("".join(lines[:60]), "x.yaml").data["a59"], 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert (value, depth) == (1, 60)


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: [1, *a]}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(text):
    with pytest.raises(InputFileError, match=r"x.yaml:1: an alias \(\*\) refers to the value that contains it"):
        parse_yaml(text, "x.yaml")


@pytest.mark.parametrize("text, line, sign", [("x: 1\ny: &a 2\n", 2, "anchor &a"), ("x: [1,\n  *b]\n", 2, "alias *b")])
def test_sheets_may_not_use_anchors_or_aliases(text, line, sign):
    with pytest.raises(InputFileError, match=rf"s.yaml:{line}: YAML {re.escape(sign)}: an answer sheet may not use"):
        parse_yaml(text, "s.yaml", SHEET_LIMITS)
