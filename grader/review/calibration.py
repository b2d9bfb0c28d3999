"""How well suggestions agree with an instructor: labelled answers, agreement figures and the
threshold search, shared by ``benchmarks/suggestions.py`` and the tests so both measure alike."""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from grader.errors import InputFileError
from grader.quiz.kinds import is_written
from grader.review.suggest import Similarity, Suggester, Suggestion, Thresholds
from grader.yamlsource import read_yaml


class AnswerKind(StrEnum):
    """What a labelled answer is, as its set's rubric labels it."""

    CORRECT = "correct"
    PARTIAL = "partial"
    FLUENT_WRONG = "fluent_wrong"  # the right words, a wrong statement
    OFF_TOPIC = "off_topic"


@dataclass(frozen=True)
class Labelled:
    question: str
    text: str
    points: float
    kind: AnswerKind
    style: str = ""  # essay | paraphrase | bullets | terse (the student-style set)


def load_labelled(path: str | Path, catalog: Any) -> list[Labelled]:
    """Labelled answers: ``question id: [{kind, points, text}, ...]``, checked against the catalog."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise InputFileError(f"{doc.source}:1: expected a mapping from question id to labelled answers")
    answers = []
    for qid, items in doc.data.items():
        where = f"{doc.source}:{doc.line_of((qid,))}: {qid}"
        if qid not in catalog.by_id or not is_written(catalog.by_id[qid][1].type):
            raise InputFileError(f"{where}: not a written (free_text) question{catalog.suggest(qid)}")
        for i, item in enumerate(items or []):
            if not isinstance(item, dict) or not {"kind", "points", "text"} <= set(item):
                raise InputFileError(f"{doc.source}:{doc.line_of((qid, i))}: each answer needs kind, points and text")
            if item["kind"] not in set(AnswerKind):
                kinds = ", ".join(AnswerKind)
                raise InputFileError(f"{doc.source}:{doc.line_of((qid, i))}: kind {item['kind']!r} is none of {kinds}")
            text, style = str(item["text"]).strip(), str(item.get("style", ""))
            answers.append(Labelled(qid, text, float(item["points"]), AnswerKind(item["kind"]), style))
    return answers


class CachedSimilarity:
    """A similarity that computes each matrix once: the threshold search asks many times."""

    def __init__(self, inner: Similarity) -> None:
        self.inner, self.name, self.cache = inner, inner.name, {}

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        key = (tuple(left), tuple(right))
        if key not in self.cache:
            self.cache[key] = self.inner.matrix(left, right)
        return self.cache[key]


def cohen_kappa(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's kappa of two raters over the point values they gave (unweighted)."""
    n = len(a)
    if not n:
        return 0.0
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[v] * cb[v] for v in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson's correlation of two series (0 when either is constant)."""
    n = len(a)
    if n < 2:
        return 0.0
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va, vb = sum((x - ma) ** 2 for x in a), sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va and vb else 0.0


CREDITED = 1.5  # an answer labelled this much (of 2) or more must not be accused or given 0


@dataclass(frozen=True)
class Agreement:
    n: int
    exact: float
    within_half: float
    kappa: float
    fluent_wrong_full: int  # wrong-but-fluent answers suggested full marks
    fluent_wrong: int
    over_by_more_than_half: int  # answers suggested more than half a point above the label
    seconds_per_100: float
    correlation: float = 0.0  # Pearson, suggested points against the labels
    bias: float = 0.0  # mean of suggested minus label
    credited_accused: int = 0  # answers labelled CREDITED or more said to make a wrong statement
    credited_zero: int = 0  # answers labelled CREDITED or more suggested 0
    covering_zero: int = 0  # answers suggested 0 although some key point was found covered

    def line(self, name: str) -> str:
        return (
            f"{name:<28} n={self.n:<4} r {self.correlation:5.2f}  bias {self.bias:+.2f}  "
            f"within 0.5 {self.within_half:6.1%}  exact {self.exact:6.1%}  kappa {self.kappa:5.2f}  "
            f"credited accused {self.credited_accused}, given 0 {self.credited_zero}  "
            f"wrong-but-fluent at full marks {self.fluent_wrong_full}/{self.fluent_wrong}  "
            f"{self.seconds_per_100 * 1000:7.1f} ms/100 answers"
        )


def predict(suggester: Suggester, catalog: Any, answers: Sequence[Labelled]) -> list[Suggestion]:
    """A suggestion for every labelled answer (one call per question, as the workspace does)."""
    suggested: dict[int, Suggestion] = {}
    by_question: dict[str, list[int]] = {}
    for i, answer in enumerate(answers):
        by_question.setdefault(answer.question, []).append(i)
    for qid, indices in by_question.items():
        spec = catalog.by_id[qid][1].spec
        for i, suggestion in zip(indices, suggester.suggest(spec, qid, [answers[i].text for i in indices])):
            suggested[i] = suggestion
    return [suggested[i] for i in range(len(answers))]


def agreement(
    catalog: Any, answers: Sequence[Labelled], suggestions: Sequence[Suggestion], seconds: float = 0.0
) -> Agreement:
    """How suggestions (one per labelled answer, in order) agree with the labels."""
    labels = [a.points for a in answers]
    points = [s.points for s in suggestions]
    full = [catalog.by_id[a.question][1].points for a in answers]
    fluent = [i for i, a in enumerate(answers) if a.kind is AnswerKind.FLUENT_WRONG]
    credited = [i for i, a in enumerate(answers) if a.points >= CREDITED]
    n = len(answers) or 1
    return Agreement(
        n=len(answers),
        exact=sum(p == q for p, q in zip(points, labels)) / n,
        within_half=sum(abs(p - q) <= 0.5 for p, q in zip(points, labels)) / n,
        kappa=cohen_kappa(labels, points),
        fluent_wrong_full=sum(points[i] >= full[i] for i in fluent),
        fluent_wrong=len(fluent),
        over_by_more_than_half=sum(p - q > 0.5 for p, q in zip(points, labels)),
        seconds_per_100=100 * seconds / n,
        correlation=pearson(points, labels),
        bias=sum(p - q for p, q in zip(points, labels)) / n,
        credited_accused=sum(bool(suggestions[i].wrong) for i in credited),
        credited_zero=sum(points[i] == 0 for i in credited),
        covering_zero=sum(s.points == 0 and bool(s.covered) for s in suggestions),
    )


def evaluate(suggester: Suggester, catalog: Any, answers: Sequence[Labelled]) -> Agreement:
    """Suggest points for every labelled answer and measure the agreement."""
    started = time.perf_counter()
    suggestions = predict(suggester, catalog, answers)
    return agreement(catalog, answers, suggestions, time.perf_counter() - started)


def _score(found: Agreement) -> tuple[float, ...]:
    """What calibration maximises: never accuse a credited answer, then correlation less bias."""
    return (-found.credited_accused - found.credited_zero, found.correlation - abs(found.bias), found.within_half)


def calibrate(
    similarity: Similarity, catalog: Any, answers: Sequence[Labelled], use_wrong: bool = True
) -> tuple[Thresholds, Agreement]:
    """The thresholds with the best :func:`_score` on ``answers``."""
    cached = CachedSimilarity(similarity)
    best = None
    covers = [round(0.1 + 0.025 * i, 3) for i in range(21)]
    wrongs = [round(0.4 + 0.05 * i, 3) for i in range(10)] if use_wrong else [1.0]
    margins = (0.0, 0.1) if use_wrong else (0.0,)
    for cover, wrong, margin in itertools.product(covers, wrongs, margins):
        thresholds = Thresholds(cover, wrong, margin)
        found = evaluate(Suggester(cached, thresholds, use_wrong), catalog, answers)
        if best is None or _score(found) > best[0]:
            best = (_score(found), thresholds, found)
    assert best is not None
    return best[1], best[2]


def question_folds(answers: Sequence[Labelled], folds: int) -> list[list[str]]:
    """The labelled questions dealt into ``folds`` groups (sorted ids, every ``folds``-th)."""
    questions = sorted({a.question for a in answers})
    return [questions[i::folds] for i in range(folds)]


def cross_validate(
    similarity: Similarity, catalog: Any, answers: Sequence[Labelled], folds: int = 4
) -> tuple[Agreement, list[Thresholds]]:
    """Calibrate on the other folds' questions, suggest for each fold's: the held-out agreement
    over all answers, and the thresholds each fold was measured with."""
    cached = CachedSimilarity(similarity)
    held: list[Labelled] = []
    suggestions: list[Suggestion] = []
    fitted = []
    for test in question_folds(answers, folds):
        thresholds, _ = calibrate(cached, catalog, [a for a in answers if a.question not in test])
        out = [a for a in answers if a.question in test]
        held += out
        suggestions += predict(Suggester(cached, thresholds), catalog, out)
        fitted.append(thresholds)
    return agreement(catalog, held, suggestions), fitted


@dataclass(frozen=True)
class Learning:
    """Suggestions for the ungraded answers once ``graded`` answers per question are graded."""

    graded: int
    n: int
    correlation: float
    bias: float
    within_half: float
    coverage_correlation: float  # the coverage suggestion alone, on the same answers
    error_least_sure: float  # mean |error| of the less sure half of each question's ungraded answers
    error_surer: float

    def line(self) -> str:
        return (
            f"  {self.graded} graded: n={self.n:<5} r {self.correlation:5.2f} (coverage alone {self.coverage_correlation:5.2f})  "
            f"bias {self.bias:+.2f}  within 0.5 {self.within_half:6.1%}  "
            f"|error| least sure half {self.error_least_sure:.2f}, surer half {self.error_surer:.2f}"
        )


def simulate_learning(suggester: Suggester, catalog: Any, answers: Sequence[Labelled], graded: int) -> Learning:
    """Grade ``graded`` answers of each question (every run of consecutive answers, in turn),
    suggest the rest with :func:`grader.review.learn.learn`, and pool the figures."""
    from grader.review.learn import learn, least_sure_first

    suggestions = predict(suggester, catalog, answers)
    by_question: dict[str, list[int]] = {}
    for i, answer in enumerate(answers):
        by_question.setdefault(answer.question, []).append(i)
    rows: list[tuple[float, float, float, bool]] = []  # learned, coverage, label, among the less sure
    for indices in by_question.values():
        texts, found = [answers[i].text for i in indices], [suggestions[i] for i in indices]
        for start in range(len(indices)):
            chosen = {(start + t) % len(indices) for t in range(graded)}
            given = {j: answers[indices[j]].points for j in chosen}
            learned = learn(suggester.similarity, texts, found, given, suggester.thresholds.cover)
            order = least_sure_first(learned)
            for rank, j in enumerate(order):
                rows.append((learned[j].points, found[j].points, answers[indices[j]].points, rank < len(order) // 2))
    n = len(rows) or 1
    unsure = [abs(p - q) for p, _, q, u in rows if u] or [0.0]
    surer = [abs(p - q) for p, _, q, u in rows if not u] or [0.0]
    return Learning(
        graded=graded,
        n=len(rows),
        correlation=pearson([r[0] for r in rows], [r[2] for r in rows]),
        bias=sum(r[0] - r[2] for r in rows) / n,
        within_half=sum(abs(r[0] - r[2]) <= 0.5 for r in rows) / n,
        coverage_correlation=pearson([r[1] for r in rows], [r[2] for r in rows]),
        error_least_sure=sum(unsure) / len(unsure),
        error_surer=sum(surer) / len(surer),
    )
