"""Handing a class its sheets: one signed sheet per roster student (``grader quiz handout``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.atomic import write_atomically
from grader.quiz import handout
from grader.quiz.bank import Bank
from grader.quiz.render import sheet
from grader.quiz.variants import Variant
from grader.roster import Roster, RosterError, file_stem


def write_sheets(
    banks: Sequence[Bank], roster: Roster, out: Path, secret: bytes, feedback: handout.Feedback
) -> list[Path]:
    """``OUT/STEM.yaml`` for every roster student (``roster.file_stem`` of the id): every bank
    in one sheet, the student's numbers written on it and signed."""
    paths: dict[str, Path] = {}
    for student in roster.students:
        path = out / f"{file_stem(student.id)}.yaml"
        other = paths.get(path.name.casefold())
        if other is not None:  # two ids whose file names differ only in case, or a hash collision
            raise RosterError(f"{roster.source}:{student.line}: student {student.id!r} would get the file of {other}")
        paths[path.name.casefold()] = path
    for student, path in zip(roster.students, paths.values()):
        signed = handout.make(banks, student.id, secret, feedback)
        write_atomically(path, sheet(banks, Variant.graded(student.id, secret), signed) + "\n")
    return list(paths.values())
