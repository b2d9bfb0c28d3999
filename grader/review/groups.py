"""Identical and near-identical written answers, grouped so that each group is graded once.

Answers are first grouped by their normalised text (case, punctuation and spacing ignored);
then a group joins a larger one when its text is at least ``threshold`` similar to that
group's first answer (Dice coefficient of character trigrams): typos and small edits, not
paraphrases, since a paraphrase may say something different. Comparing with the first
answer, not any member, keeps a chain of small edits from drifting into another answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.review.suggest import normalise

NEAR_IDENTICAL = 0.85


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]  # student ids, the first one's text is the group's
    text: str

    @property
    def key(self) -> str:
        """A stable name for the group in URLs and forms: its first member."""
        return self.members[0]


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def group_answers(answers: Sequence[tuple[str, str]], threshold: float = NEAR_IDENTICAL) -> list[Group]:
    """Groups of ``(student, text)`` answers, largest first (ties: in the students' order)."""
    exact: dict[str, list[tuple[str, str]]] = {}
    for student, text in answers:
        exact.setdefault(normalise(text), []).append((student, text))
    ordered = sorted(exact.items(), key=lambda item: -len(item[1]))
    leaders: list[tuple[set[str], list[tuple[str, str]]]] = []
    for normal, members in ordered:
        grams = _trigrams(normal)
        for leader_grams, group in leaders:
            if dice(grams, leader_grams) >= threshold:
                group.extend(members)
                break
        else:
            leaders.append((grams, list(members)))
    groups = [Group(tuple(s for s, _ in members), members[0][1]) for _, members in leaders]
    position = {student: i for i, (student, _) in enumerate(answers)}
    return sorted(groups, key=lambda g: (-len(g.members), position[g.members[0]]))
