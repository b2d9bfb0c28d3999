"""Reading a written answer as its passages say it: where it splits (headings, bullets,
sentences, clauses) and which way a passage points (a negation, or a word such as "reduces"
against "more"), so that a passage is only taken to state a key point or a wrong statement
when it says the same thing, not the opposite with the same words.

Pure Python and no model: used by :mod:`grader.review.suggest` for every similarity model.
"""

from __future__ import annotations

import re
import unicodedata

NEGATIONS = frozenset({"not", "no", "never", "without", "cannot", "neither", "nor", "none", "nothing", "instead"})
# Words that say which way a quantity or an effect goes; a passage pointing one way does not
# state a sentence pointing the other ("greatly reduces the number of parameters" is not
# "has more parameters"). Only the last such word of a passage counts (the one that governs it).
UP = frozenset(
    "more increase increases increased increasing larger bigger grow grows growing higher high "
    "amplify amplified amplifies ascent expand expands enlarge enlarges deeper".split()
)
DOWN = frozenset(
    "fewer less reduce reduces reduced reducing decrease decreases decreased smaller shrink shrinks "
    "shrinking lower low inhibit inhibits inhibited suppress suppresses suppressed descent "
    "downsample downsamples downsampled halve halved shallower".split()
)
# "only" against "too": "augmentation is only applied to the training data" does not say it is
# "applied to the test set too".
ONLY = frozenset({"only", "solely", "just", "exclusively"})
ALSO = frozenset({"too", "also", "both"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_BULLET = re.compile(r"^\s*(?:[-*•+>]+|\d+[.)]|[a-z][.)])\s+")
_HEADING = re.compile(r"^\s*#+\s*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\s+->\s+|\s+=>\s+")
_CLAUSE = re.compile(r",?\s+(?:and|but|so|because|whereas|while|since|then)\s+|,\s+|\s+-+\s+|:\s+")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("×", "x"))


def negated(text: str) -> bool:
    return any(w in NEGATIONS or w.endswith("n't") for w in words(text))


def direction(text: str) -> int:
    """+1 when the passage's last direction word says "up", -1 "down", 0 without one; a
    negation in the passage turns it round ("does not reduce" points up)."""
    found = 0
    for w in words(text):
        if w in UP:
            found = 1
        elif w in DOWN:
            found = -1
    return -found if negated(text) else found


def opposite(passage: str, statement: str) -> bool:
    """Whether ``passage`` says the opposite of ``statement`` rather than the same: their
    directions disagree, or (when either has none) one of them is negated and the other not."""
    a, b = direction(passage), direction(statement)
    if a and b:
        return a != b
    if _says(passage, ONLY) and _says(statement, ALSO) or _says(passage, ALSO) and _says(statement, ONLY):
        return True
    return negated(passage) != negated(statement)


def _says(text: str, cue: frozenset[str]) -> bool:
    return any(w in cue for w in words(text))


def _is_heading(line: str) -> bool:
    """A heading: ``# Title``, or a short line without a full stop that is not a bullet."""
    if _HEADING.match(line):
        return True
    bare = line.strip()
    return bool(bare) and len(words(bare)) <= 4 and not bare.endswith((".", "!", "?")) and not _BULLET.match(line)


def _units(text: str) -> list[str]:
    """The answer's lines as statements: headings dropped, bullet markers stripped, wrapped
    lines of one paragraph joined again."""
    units: list[str] = []
    paragraph: list[str] = []
    for line in text.splitlines() + [""]:
        if not line.strip() or _BULLET.match(line) or _is_heading(line):
            if paragraph:
                units.append(" ".join(paragraph))
                paragraph = []
            if line.strip() and not _is_heading(line):
                paragraph = [_BULLET.sub("", line).strip()]
            continue
        paragraph.append(line.strip())
    return units


def _split_sentences(text: str) -> list[str]:
    sentences = [s.strip(" .;") for unit in _units(text) for s in _SENTENCE.split(unit)]
    return [s for s in sentences if len(words(s)) >= 2]


def assertions(text: str) -> dict[str, str]:
    """The passages that can assert something on their own, sentences and their clauses,
    each with the sentence it is part of (whose negation or direction governs it too)."""
    found: dict[str, str] = {}
    for sentence in _split_sentences(text):
        found.setdefault(sentence, sentence)
        for part in _CLAUSE.split(sentence):
            if len(words(part)) >= 2:
                found.setdefault(part.strip(" .;"), sentence)
    return found


def passages(text: str) -> list[str]:
    """What an answer says, as passages: its statements (paragraphs and bullets, without
    headings), their sentences, their clauses, and each pair of adjacent sentences (a key
    point may span two); never the whole of a long answer at once."""
    sentences = _split_sentences(text)
    pairs = [f"{a}. {b}" for a, b in zip(sentences, sentences[1:])]
    return list(dict.fromkeys([*assertions(text), *pairs]))
