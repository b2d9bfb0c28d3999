"""Text made comparable: a notebook's code as normalised Python tokens, a written answer as
normalised characters. Each unit keeps where it came from (cell and line, or offset), so
shared passages can be shown in the original text.

Code (Python's ``tokenize``): every identifier becomes one placeholder and every number
another, so renamed variables and changed numbers compare equal; comments, blank lines,
indentation and line breaks are dropped, so reformatting and added or removed comments do
not count. Keywords, operators and short strings ('relu', "adam") are kept: they carry the
code's shape. IPython magics and shell lines (``%matplotlib``, ``!pip``) are left out. A
cell that does not tokenise (a syntax error) is read line by line, keeping what it can.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
import unicodedata
from dataclasses import dataclass

IDENTIFIER = "I"
NUMBER = "N"
LONG_STRING = "S"
SHORT_STRING_CHARS = 24  # longer strings (messages, paths) are one placeholder: their words are the student's
DROPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_FSTRING_PARTS = {getattr(tokenize, n) for n in ("FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Unit:
    """One comparable unit: its normalised text and where it stands in the original."""

    text: str
    part: int  # the code cell (0-based, among code cells); 0 for an answer
    position: int  # the 1-based line in that cell; in an answer, the character's offset


def _normalised(token: tokenize.TokenInfo) -> str | None:
    kind, text = token.type, token.string
    if kind in DROPPED or kind in _FSTRING_PARTS:
        return None
    if kind == tokenize.NAME:
        return text if keyword.iskeyword(text) else IDENTIFIER
    if kind == tokenize.NUMBER:
        return NUMBER
    if kind == tokenize.STRING:
        body = text.strip("rRbBuUfF").strip("'\"")
        return f"'{body.lower()}'" if len(body) <= SHORT_STRING_CHARS and "{" not in body else LONG_STRING
    if kind == _FSTRING_START:
        return LONG_STRING
    if kind == tokenize.ERRORTOKEN and not text.strip():
        return None
    return text


def _tokens(source: str, part: int, first_line: int = 1) -> list[Unit]:
    """The units of ``source``; raises tokenize.TokenError or SyntaxError when it does not tokenise."""
    units = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = _normalised(token)
        if text is not None:
            units.append(Unit(text, part, token.start[0] + first_line - 1))
    return units


def code_units(source: str, part: int) -> list[Unit]:
    """The normalised tokens of one code cell, magics and shell lines left out."""
    lines = ["" if MAGIC.match(line) else line for line in source.splitlines()]
    try:
        return _tokens("\n".join(lines) + "\n", part)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        units = []
        for number, line in enumerate(lines, 1):
            try:
                units += _tokens(line.strip() + "\n", part, number)
            except (tokenize.TokenError, SyntaxError, IndentationError):
                continue
        return units


def prose_units(text: str) -> list[Unit]:
    """A written answer as lower-case letters and digits with single spaces between words
    (accents, case and punctuation do not count); each keeps its offset in ``text``."""
    units: list[Unit] = []
    for match in re.finditer(r"\w+", unicodedata.normalize("NFKC", text)):
        if units:
            units.append(Unit(" ", 0, match.start() - 1))
        units += [Unit(c, 0, match.start() + i) for i, c in enumerate(match.group().casefold())]
    return units
