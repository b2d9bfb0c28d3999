"""Suggested points for written answers: which key points an answer seems to cover, which
known wrong statements it seems to make, and the points that follow. Only a suggestion:
the instructor decides, and nothing here is ever written into a grade by itself.

An answer is cut into clauses; a key point is covered when some clause is similar enough
to it (``cover`` threshold) and does not negate what the key point says (a negation word on
one side only: such a clause is flagged "says the opposite?" instead). Each known wrong statement the answer makes (a clause
at least ``wrong`` similar to it, ``margin`` closer to it than to any key point, and using two
thirds of its content words) takes half a point off, so that an answer with the right words that states something wrong is
not suggested full marks (one key point's worth, however many it makes). Points are the
covered share of the question's points, to the nearest half point.

Two similarity models, compared by ``benchmarks/suggestions.py`` on labelled answers:

- ``lexical``: TF-IDF cosine of crudely stemmed words plus character 4-grams, pure Python;
- ``wordllama``: WordLlama's static embeddings (the ``review`` extra; its wheel carries the
  weights, loaded offline), cosine of mean-pooled token vectors;
- ``hybrid`` (the default): the mean of the two, since static embeddings blur the few words
  that make a statement wrong ("added" or "concatenated") and the lexical model misses paraphrase.

Thresholds were calibrated on ``tests/data/written_answers.yaml`` by that benchmark.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml

from grader.errors import GraderError
from grader.quiz.kinds import is_written
from grader.review.reading import assertions, opposite, passages, words


class SuggestionError(GraderError):
    """A model cannot be used here (its extra is not installed), or a wrong model name."""


STOPWORDS = frozenset(
    "a an the of to in on for and or is are be been it its this that these those with as by at from so "
    "which what when how why can could would will into than then there their they them we our you your "
    "each every also only more most much many very just do does did has have had was were one".split()
)


def normalise(text: str) -> str:
    """Lower case, compatibility characters folded (× → x), punctuation and spacing collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("×", "x")
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


def clauses(text: str) -> list[str]:
    """The answer's passages (see :func:`grader.review.reading.passages`)."""
    return passages(text)


def _content(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ities", "ity", "ness", "ies", "ers", "er", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class Similarity(Protocol):
    name: str

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        """Similarity of every text on the left with every text on the right, from -1 to 1."""


class Lexical:
    """TF-IDF over stems and character 4-grams; IDF from the banks' key points and model answers."""

    name = "lexical"

    def __init__(self, corpus: Sequence[str]) -> None:
        documents = [set(self._features(text)) for text in corpus]
        counts = Counter(f for doc in documents for f in doc)
        self.idf = {f: math.log((1 + len(documents)) / (1 + n)) + 1 for f, n in counts.items()}
        self.unseen = math.log(1 + len(documents)) + 1

    @staticmethod
    def _features(text: str) -> list[str]:
        stems = [_stem(w) for w in words(text) if w not in STOPWORDS]
        grams = [f"#{s[i : i + 4]}" for s in stems for i in range(max(1, len(s) - 3))]
        return stems + grams

    def _vector(self, text: str) -> dict[str, float]:
        counts = Counter(self._features(text))
        vector = {f: (1 + math.log(n)) * self.idf.get(f, self.unseen) for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {f: v / norm for f, v in vector.items()}

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        right_vectors = [self._vector(t) for t in right]
        rows = []
        for text in left:
            vector = self._vector(text)
            rows.append([sum(w * other.get(f, 0.0) for f, w in vector.items()) for other in right_vectors])
        return rows


class WordLlamaSimilarity:
    """WordLlama's 256-dimension static embeddings: its wheel ships the weights and tokenizer."""

    name = "wordllama"

    def __init__(self) -> None:
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError:
            raise SuggestionError("the wordllama model needs the review extra: pip install -e '.[review]'") from None
        # The package's own folder is the cache: weights/ and tokenizers/ are in the wheel.
        self.model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        if not left or not right:
            return [[] for _ in left]
        a = self.model.embed(list(left), norm=True)
        b = self.model.embed(list(right), norm=True)
        return (a @ b.T).tolist()


class Hybrid:
    """The mean of the lexical and the WordLlama similarities: words that must be there, and meaning."""

    name = "hybrid"

    def __init__(self, corpus: Sequence[str]) -> None:
        self.parts = (Lexical(corpus), WordLlamaSimilarity())

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        a, b = (part.matrix(left, right) for part in self.parts)
        return [[(x + y) / 2 for x, y in zip(row_a, row_b)] for row_a, row_b in zip(a, b)]


@dataclass(frozen=True)
class Thresholds:
    cover: float  # a clause this similar to a key point covers it
    wrong: float  # a clause this similar to a known wrong statement makes it...
    margin: float = 0.05  # ...if it is also this much closer to it than to every key point


# Calibrated by ``python benchmarks/suggestions.py --calibrate`` on tests/data/written_answers.yaml;
# lexical keeps cover 0.225 (the search's 0.2 takes "smaller" for "small translations" in a
# one-sentence answer, for r 0.85 against 0.84 on that set).
THRESHOLDS = {
    "lexical": Thresholds(cover=0.225, wrong=0.4, margin=0.0),
    "wordllama": Thresholds(cover=0.425, wrong=0.7, margin=0.0),
    "hybrid": Thresholds(cover=0.3, wrong=0.4, margin=0.0),
}
MODELS = tuple(THRESHOLDS)
DEFAULT_MODEL = "hybrid"  # best kappa with no wrong-but-fluent answer at full marks (README)


@dataclass(frozen=True)
class Coverage:
    key_point: str
    similarity: float
    covered: bool
    evidence: str  # the answer's clause closest to the key point
    negated: bool = False  # the closest clause says the opposite (a negation on one side only)


@dataclass(frozen=True)
class Suggestion:
    """What the model thinks of one answer; ``points`` is a suggestion, never a grade."""

    points: float
    points_possible: float
    coverage: tuple[Coverage, ...]
    wrong: tuple[str, ...]  # known wrong statements the answer seems to make
    model: str

    @property
    def covered(self) -> list[str]:
        return [c.key_point for c in self.coverage if c.covered]

    @property
    def missed(self) -> list[str]:
        return [c.key_point for c in self.coverage if not c.covered]

    def document(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "points_possible": self.points_possible,
            "model": self.model,
            "covered": self.covered,
            "missed": self.missed,
            "wrong_statements": list(self.wrong),
            "key_points": [
                {
                    "key_point": c.key_point,
                    "covered": c.covered,
                    "similarity": round(c.similarity, 3),
                    "evidence": c.evidence,
                    "negated": c.negated,
                }
                for c in self.coverage
            ],
        }


@lru_cache(maxsize=1)
def wrong_statements() -> dict[str, tuple[str, ...]]:
    """Known wrong statements per question id (``wrong_statements.yaml`` beside this module)."""
    text = resources.files(__package__).joinpath("wrong_statements.yaml").read_text("utf-8")
    return {qid: tuple(items) for qid, items in (yaml.safe_load(text) or {}).items()}


def _stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _content(text))


@dataclass(frozen=True)
class WrongStatement:
    """A known wrong statement, with the words a passage must use to state it: two thirds of its
    content words. A passage that reads close to it with other words ("in template matching you
    slide a template over the image" against "template matching means the filter is learned
    from a fixed template image") states no wrong statement: a missed wrong statement costs the
    instructor a look, a false one would cost a correct answer points."""

    text: str
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> WrongStatement:
        return cls(text, _stems(text))

    def worded_in(self, passage: str) -> bool:
        """Whether ``passage`` uses two thirds of this statement's content words."""
        return 3 * len(self.words & _stems(passage)) >= 2 * len(self.words)


def _to_half(value: float) -> float:
    """To the nearest half point (halves up), as the labelling rubric rounds."""
    return math.floor(value * 2 + 0.5 + 1e-9) / 2


def points_for(points: float, covered: int, key_points: int, wrong: bool) -> float:
    """The rubric's points: the covered share to the nearest half point, half a point off for a
    wrong statement, and never 0 while a key point is covered."""
    share = _to_half(points * covered / key_points) if key_points else 0.0
    share = max(0.0, share - 0.5) if wrong else share
    return max(share, 0.5) if covered else share


class Suggester:
    """Suggestions for the answers to one catalog's written questions, with one similarity model."""

    def __init__(self, similarity: Similarity, thresholds: Thresholds | None = None, use_wrong: bool = True) -> None:
        self.similarity = similarity
        self.thresholds = thresholds or THRESHOLDS[similarity.name]
        self.use_wrong = use_wrong

    def suggest(self, spec: dict[str, Any], question_id: str, texts: Sequence[str]) -> list[Suggestion]:
        """One suggestion per answer text, for the free-text question ``spec``."""
        key_points = list(spec["key_points"])
        found = wrong_statements().get(question_id, ()) if self.use_wrong else ()
        wrong = [WrongStatement.of(w) for w in found]
        chunks_per_answer = [clauses(t) for t in texts]
        flat = [c for chunks in chunks_per_answer for c in chunks]
        scores = self.similarity.matrix(flat, key_points + [w.text for w in wrong]) if flat else []
        suggestions, row = [], 0
        for text, chunks in zip(texts, chunks_per_answer):
            block = scores[row : row + len(chunks)]
            row += len(chunks)
            asserting = assertions(text)
            suggestions.append(self._one(spec["points"], key_points, wrong, chunks, block, asserting))
        return suggestions

    def _one(
        self,
        points: float,
        key_points: list[str],
        wrong: list[WrongStatement],
        chunks: list[str],
        scores: list[list[float]],
        asserting: dict[str, str],
    ) -> Suggestion:
        made: dict[str, None] = {}
        tainted: set[str] = set()  # passages that assert a wrong statement state no key point
        for w, statement in enumerate(wrong, start=len(key_points)):
            for c, row in enumerate(scores):
                if self._asserts(chunks[c], asserting, statement, row, w, len(key_points)):
                    made.setdefault(statement.text, None)
                    tainted.add(chunks[c])
        usable = [not any(t in chunk for t in tainted) for chunk in chunks]
        coverage = [self._coverage(k, kp, chunks, scores, usable) for k, kp in enumerate(key_points)]
        covered = sum(c.covered for c in coverage)
        suggested = points_for(points, covered, len(key_points), bool(made))
        return Suggestion(suggested, points, tuple(coverage), tuple(made), self.similarity.name)

    def _asserts(
        self, chunk: str, asserting: dict[str, str], statement: WrongStatement, row: list[float], w: int, keys: int
    ) -> bool:
        """Whether a passage (a sentence or clause) states a known wrong statement: close to it,
        closer to it than to any key point, at least half as long (in content words: "the filter
        is a small template" says too little to state "the filter is learned from a fixed
        template image"), worded as it (:class:`WrongStatement`), and neither it nor its
        sentence says the opposite."""
        return (
            chunk in asserting
            and 2 * len(_content(chunk)) >= len(_content(statement.text))
            and row[w] >= self.thresholds.wrong
            and row[w] - max(row[:keys], default=0) >= self.thresholds.margin
            and statement.worded_in(chunk)
            and not opposite(chunk, statement.text)
            and not opposite(asserting[chunk], statement.text)
        )

    def _coverage(
        self, k: int, key_point: str, chunks: list[str], scores: list[list[float]], usable: list[bool]
    ) -> Coverage:
        """Whether a passage states the key point: similar enough, and not saying the opposite
        (a passage that does is flagged instead)."""
        agree = [c for c in range(len(chunks)) if usable[c] and not opposite(chunks[c], key_point)]
        best = max(agree, key=lambda c: scores[c][k], default=None)
        closest = max(range(len(chunks)), key=lambda c: scores[c][k], default=None)
        if closest is None:
            return Coverage(key_point, 0.0, False, "")
        covered = best is not None and scores[best][k] >= self.thresholds.cover
        shown = best if covered else closest
        flagged = not covered and closest not in agree and scores[closest][k] >= self.thresholds.cover
        return Coverage(key_point, scores[shown][k], covered, chunks[shown], flagged)


def bank_corpus(catalog: Any) -> list[str]:
    """Every key point, model answer sentence and wrong statement: the lexical model's IDF."""
    corpus = []
    for bank in catalog.banks:
        for question in bank.questions:
            if is_written(question.type):
                corpus += list(question.spec["key_points"])
                corpus += [s for s in re.split(r"[.;]\s+", question.spec["model_answer"]) if s.strip()]
                corpus += list(wrong_statements().get(question.id, ()))
    return corpus


def make_similarity(name: str, catalog: Any) -> Similarity:
    if name == "lexical":
        return Lexical(bank_corpus(catalog))
    if name == "wordllama":
        return WordLlamaSimilarity()
    if name == "hybrid":
        return Hybrid(bank_corpus(catalog))
    raise SuggestionError(f"no suggestion model {name!r}; models: {', '.join(MODELS)}")


def default_suggester(catalog: Any, model: str | None = None) -> tuple[Suggester, str]:
    """The calibrated default model; without the review extra, the lexical one and a note saying so."""
    try:
        return Suggester(make_similarity(model or DEFAULT_MODEL, catalog)), ""
    except SuggestionError as exc:
        if model:
            raise
        return Suggester(make_similarity("lexical", catalog)), f"{exc}; using the lexical model instead"


@dataclass(frozen=True)
class SheetSuggestion:
    question: str
    answer: str
    suggestion: Suggestion


def suggest_sheet(catalog: Any, path: str | Path, model: str | None = None) -> tuple[list[SheetSuggestion], str]:
    """Suggestions for every written answer on an answer sheet (and a note if the default
    model could not be used); the sheet's other answers are left to ``grader quiz check``."""
    from grader.quiz.sheets import read_sheet

    sheet = read_sheet(path, catalog)
    suggester, note = default_suggester(catalog, model)
    found = []
    for qid, answer in sheet.written_answers(catalog).items():
        suggestion = suggester.suggest(catalog.by_id[qid][1].spec, qid, [answer])[0]
        found.append(SheetSuggestion(qid, answer, suggestion))
    return found, note


def sheet_text(found: Sequence[SheetSuggestion]) -> str:
    """The terminal report of ``grader quiz suggest``."""
    if not found:
        return "No written answers on this sheet."
    lines = []
    for item in found:
        s = item.suggestion
        lines.append(f"{item.question:<26} suggested {s.points:g}/{s.points_possible:g}  ({s.model} model)")
        lines += [
            f"    {'✓' if c.covered else '✗'} {c.key_point}"
            + ("  (your answer seems to say the opposite)" if c.negated else "")
            for c in s.coverage
        ]
        lines += [f"    ! seems to state something wrong: {w}" for w in s.wrong]
    total = sum(i.suggestion.points for i in found)
    possible = sum(i.suggestion.points_possible for i in found)
    lines.append(f"Suggested for written answers: {total:g} / {possible:g} (a suggestion: your instructor grades them)")
    return "\n".join(lines)
