"""The two functions a notebook answer sheet calls: ``sheet(...)`` once, ``answer(ID, VALUE)`` per question.

In the student's Jupyter they give the practice feedback at once (the verdict, the slip named,
the key points of a written answer), exactly as ``grader quiz check`` would for that answer:
the answer is checked as a one-answer sheet with the same header. The grader itself never runs
them: it reads the values written in the calls (:mod:`grader.quiz.notebook_sheet`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from grader.errors import GraderError

HEADER: dict[str, Any] = {}  # what sheet(...) was given: seed, student, handout


def sheet(seed: Any = None, student: Any = None, handout: dict[str, Any] | None = None) -> None:
    """The sheet's header: a practice seed, or a handed-out sheet's student and signed numbers."""
    HEADER.clear()
    HEADER.update({k: v for k, v in (("seed", seed), ("student", student), ("handout", handout)) if v is not None})


def answer(question_id: str, value: Any) -> None:
    """Check one answer now and print the feedback ``grader quiz check`` gives it."""
    from grader.quiz.bank import Catalog
    from grader.quiz.render import question_lines
    from grader.quiz.sheets import grade_sheet

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answer.yaml"
        path.write_text(yaml.safe_dump({**HEADER, question_id: value}, allow_unicode=True, sort_keys=False))
        try:
            result = grade_sheet(Catalog.load(None), path)
        except GraderError as exc:
            print(f"Not checked: {str(exc).replace(str(path), f'answer({question_id!r}, ...)')}")
            return
    mine = [r for r in result.results if r.id == question_id]
    if not mine:
        print(f"{question_id!r} is not a question id of the banks; check the spelling.")
        return
    print("\n".join(question_lines(mine[0], result.verdicts, reveal=False)))
