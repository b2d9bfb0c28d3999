"""Learning from the instructor within the class: once a few answers of a question are graded,
suggest the rest from their similarity to the graded answers, blended with key-point coverage,
and say how sure each suggestion is, so the least sure are shown first.

For one question: the coverage suggestion is shifted by how far the instructor's grades sit
from it on the graded answers (their mean difference, shrunk towards 0 while few are graded);
the graded answers most similar to an answer then pull it towards their grades, more strongly
the more similar they are and the more answers are graded. Sureness is low where the graded
neighbours disagree with each other or with the shifted coverage, or where no graded answer is
close. Pure Python; the similarity is the suggester's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from grader.review.suggest import Similarity, Suggestion

PRIOR = 2.0  # graded answers' worth of trust in coverage alone, for the shift and the blend
SHARPNESS = 8.0  # how much more a closer graded answer counts than a farther one
BORDER = 0.1  # a key point's similarity this close to the cover threshold is a coin toss


@dataclass(frozen=True)
class Learned:
    points: float  # the blended suggestion, to a half point
    sure: float  # 0 (least sure: show first) to 1
    nearest: float  # similarity of the closest graded answer


def _to_half(value: float, possible: float) -> float:
    return min(possible, max(0.0, math.floor(value * 2 + 0.5) / 2))


def learn(
    similarity: Similarity,
    texts: Sequence[str],
    suggestions: Sequence[Suggestion],
    graded: Mapping[int, float],
    cover: float,
) -> dict[int, Learned]:
    """Suggestions for the ungraded answers (by index into ``texts``), given the coverage
    suggestion of every answer, the instructor's grades of some (index -> points) and the
    suggester's cover threshold."""
    coverage = [s.points for s in suggestions]
    ungraded = [i for i in range(len(texts)) if i not in graded]
    if not graded or not ungraded:
        return {}
    possible = suggestions[0].points_possible
    keys = list(graded)
    k = len(keys)
    shift = sum(graded[j] - coverage[j] for j in keys) / (k + PRIOR)
    rows = similarity.matrix([texts[i] for i in ungraded], [texts[j] for j in keys])
    found = {}
    for i, row in zip(ungraded, rows):
        weights = [math.exp(SHARPNESS * s) for s in row]
        neighbours = sum(w * graded[j] for w, j in zip(weights, keys)) / sum(weights)
        nearest = max(row)
        trust = k / (k + PRIOR) * max(0.0, nearest) ** 4
        base = coverage[i] + shift
        spread = math.sqrt(sum(w * (graded[j] - neighbours) ** 2 for w, j in zip(weights, keys)) / sum(weights))
        doubt = (abs(neighbours - base) + spread) / possible * trust + borderline(suggestions[i], cover)
        found[i] = Learned(_to_half(trust * neighbours + (1 - trust) * base, possible), max(0.0, 1 - doubt), nearest)
    return found


def borderline(suggestion: Suggestion, cover: float) -> float:
    """0 to 1: how many of the answer's key points were decided by a hair (similarity within
    BORDER of the threshold). A wrong statement found adds no doubt: it is only found where the
    answer uses two thirds of its words (:class:`grader.review.suggest.WrongStatement`)."""
    close = sum(abs(c.similarity - cover) < BORDER for c in suggestion.coverage)
    return close / max(1, len(suggestion.coverage))


def least_sure_first(found: Mapping[int, Learned]) -> list[int]:
    """The ungraded answers in the order to show them: least sure first (ties: by index)."""
    return sorted(found, key=lambda i: (found[i].sure, i))


def learned_suggestions(
    similarity: Similarity,
    cover: float,
    texts: Mapping[str, str],
    suggestions: Mapping[str, Suggestion],
    grades: Mapping[str, float],
) -> tuple[dict[str, Suggestion], dict[str, float]]:
    """For the review workspace, by student: each suggestion, its points learned from the
    instructor's grades (``grades``: student -> points) once there are any, and how sure it is
    (ungraded students only)."""
    students = list(texts)
    graded = {i: grades[s] for i, s in enumerate(students) if s in grades}
    found = learn(similarity, [texts[s] for s in students], [suggestions[s] for s in students], graded, cover)
    updated = dict(suggestions)
    for i, learned in found.items():
        updated[students[i]] = replace(suggestions[students[i]], points=learned.points)
    return updated, {students[i]: learned.sure for i, learned in found.items()}
