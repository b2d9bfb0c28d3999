"""Reading YAML with line numbers, duplicates and unreadable input."""

import pytest

from grader.errors import InputFileError
from grader.yamlsource import UnreadableNumber, parse_yaml, read_yaml


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
