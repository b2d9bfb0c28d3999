"""How well suggestions agree with an instructor: labelled answers, agreement figures and the
threshold search, shared by ``benchmarks/suggestions.py`` and the tests so both measure alike."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import InputFileError
from grader.review.suggest import Similarity, Suggester, Thresholds
from grader.yamlsource import read_yaml


@dataclass(frozen=True)
class Labelled:
    question: str
    text: str
    points: float
    kind: str  # correct | partial | fluent_wrong | off_topic


def load_labelled(path: str | Path, catalog: Any) -> list[Labelled]:
    """Labelled answers: ``question id: [{kind, points, text}, ...]``, checked against the catalog."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise InputFileError(f"{doc.source}:1: expected a mapping from question id to labelled answers")
    answers = []
    for qid, items in doc.data.items():
        where = f"{doc.source}:{doc.line_of((qid,))}: {qid}"
        if qid not in catalog.by_id or catalog.by_id[qid][1].type != "free_text":
            raise InputFileError(f"{where}: not a written (free_text) question{catalog.suggest(qid)}")
        for i, item in enumerate(items or []):
            if not isinstance(item, dict) or not {"kind", "points", "text"} <= set(item):
                raise InputFileError(f"{doc.source}:{doc.line_of((qid, i))}: each answer needs kind, points and text")
            answers.append(Labelled(qid, str(item["text"]).strip(), float(item["points"]), str(item["kind"])))
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

    def line(self, name: str) -> str:
        return (
            f"{name:<28} n={self.n:<4} exact {self.exact:6.1%}  within 0.5 {self.within_half:6.1%}  "
            f"kappa {self.kappa:5.2f}  wrong-but-fluent at full marks {self.fluent_wrong_full}/{self.fluent_wrong}  "
            f"over by >0.5: {self.over_by_more_than_half}  {self.seconds_per_100 * 1000:7.1f} ms/100 answers"
        )


def evaluate(suggester: Suggester, catalog: Any, answers: Sequence[Labelled]) -> Agreement:
    """Suggest points for every labelled answer (one call per question, as the workspace does)."""
    suggested: dict[int, float] = {}
    started = time.perf_counter()
    by_question: dict[str, list[int]] = {}
    for i, answer in enumerate(answers):
        by_question.setdefault(answer.question, []).append(i)
    for qid, indices in by_question.items():
        spec = catalog.by_id[qid][1].spec
        for i, suggestion in zip(indices, suggester.suggest(spec, qid, [answers[i].text for i in indices])):
            suggested[i] = suggestion.points
    seconds = time.perf_counter() - started
    labels = [a.points for a in answers]
    points = [suggested[i] for i in range(len(answers))]
    full = {a.question: catalog.by_id[a.question][1].points for a in answers}
    fluent = [i for i, a in enumerate(answers) if a.kind == "fluent_wrong"]
    n = len(answers) or 1
    return Agreement(
        n=len(answers),
        exact=sum(p == q for p, q in zip(points, labels)) / n,
        within_half=sum(abs(p - q) <= 0.5 for p, q in zip(points, labels)) / n,
        kappa=cohen_kappa(labels, points),
        fluent_wrong_full=sum(points[i] >= full[answers[i].question] for i in fluent),
        fluent_wrong=len(fluent),
        over_by_more_than_half=sum(p - q > 0.5 for p, q in zip(points, labels)),
        seconds_per_100=100 * seconds / n,
    )


def calibrate(
    similarity: Similarity, catalog: Any, answers: Sequence[Labelled], use_wrong: bool = True
) -> tuple[Thresholds, Agreement]:
    """The thresholds with the best kappa (ties: more within half a point) on ``answers``."""
    cached = CachedSimilarity(similarity)
    best = None
    covers = [round(0.05 + 0.025 * i, 3) for i in range(33)]
    wrongs = [round(0.3 + 0.05 * i, 3) for i in range(14)] if use_wrong else [1.0]
    margins = (0.0, 0.05, 0.1, 0.15) if use_wrong else (0.0,)
    for cover, wrong, margin in itertools.product(covers, wrongs, margins):
        thresholds = Thresholds(cover, wrong, margin)
        agreement = evaluate(Suggester(cached, thresholds, use_wrong), catalog, answers)
        score = (agreement.kappa, agreement.within_half, -agreement.fluent_wrong_full)
        if best is None or score > best[0]:
            best = (score, thresholds, agreement)
    assert best is not None
    return best[1], best[2]
