"""How quizzes look to people: a question as a student sees it, a blank answer sheet,
a graded sheet in the terminal, and the JSON result document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from grader.quiz import results as R
from grader.quiz.bank import Bank
from grader.quiz.handout import Feedback, Handout, block_lines
from grader.quiz.kinds import REGISTRY
from grader.quiz.questions import QuestionInstance
from grader.quiz.results import QuestionStatus
from grader.quiz.variants import Variant, VariantKind, as_variant
from grader.schemas import DocumentKind, schema_errors


def answer_format(inst: QuestionInstance) -> str:
    return REGISTRY[inst.question.type].answer_format(inst.question.spec)


def question_text(inst: QuestionInstance) -> str:
    """One question as a student sees it: header, prompt, options, answer format."""
    q = inst.question
    title = q.spec.get("title", "")
    lines = [
        click.style(f"{q.id}", bold=True) + (f"  {title}" if title else ""),
        f"{q.type.replace('_', ' ')}, {q.points:g} point{'s' if q.points != 1 else ''}"
        + (f", {inst.variant.describe()}" if inst.variant.kind is not VariantKind.DEFAULT else ""),
        "",
    ]
    lines += inst.prompt.splitlines()
    for option in q.spec.get("options", []):
        lines.append(f"  {option['key']}) {option['text']}")
    lines += ["", f"Answer: {answer_format(inst)}"]
    return "\n".join(lines)


def _comment(text: str) -> list[str]:
    return ["# " + line if line else "#" for line in text.splitlines()]


def _yaml_value(value: Any) -> str:
    import yaml

    return (
        yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _variant_lines(variant: Variant, with_key: bool) -> list[str]:
    """The sheet's ``seed:`` or ``student:`` line, which ``check`` reads back, with what it means."""
    if variant.kind is VariantKind.DEFAULT:
        return []
    if variant.kind is VariantKind.GRADED:
        lines = [f"# The {variant.describe()}: hand this sheet in with this line as it is."]
        if not with_key:
            lines += [
                "# 'grader quiz check' without the course secret can only do a practice check of it",
                "# (other numbers); your instructor grades it on the numbers written here.",
            ]
        return lines + [f"student: {json.dumps(variant.name)}", ""]
    return [f"# The {variant.describe()} (for practice, not graded):", f"seed: {json.dumps(variant.name)}", ""]


def _handout_lines(handout: Handout) -> list[str]:
    """A handed-out sheet's student line and signed numbers, with what they mean for its check."""
    lines = [
        f"# Your graded variant (student {handout.student!r}). 'grader quiz check THIS_FILE' checks your",
        "# answers on the numbers written in the hand-out block below, the numbers your instructor",
        "# grades them on. Leave the student line and the block as they are: they are signed with",
        "# your instructor's course secret, and a sheet whose numbers or student line were edited",
        "# is refused at grading.",
    ]
    if handout.feedback == Feedback.AFTER_GRADING:
        lines += [
            "# Feedback after grading: this sheet was handed out without immediate feedback, so",
            "# 'grader quiz check' only says whether each answer can be read (its format and units).",
        ]
    return lines + [f"student: {json.dumps(handout.student, ensure_ascii=False)}", *block_lines(handout), ""]


def template(bank: Bank, variant: Variant | str | None, with_key: bool = False) -> str:
    """An answer sheet for ``bank``: each prompt as a comment above an empty answer,
    or above the computed reference answer when ``with_key`` is set (the answer key)."""
    return sheet([bank], variant, with_key=with_key)


def sheet(
    banks: Sequence[Bank], variant: Variant | str | None, handout: Handout | None = None, with_key: bool = False
) -> str:
    """An answer sheet (or key) for one or more banks under one ``student:`` or ``seed:`` line;
    a handed-out sheet carries its signed numbers (``handout``) instead of that line alone."""
    variant = as_variant(variant)
    names = (
        " and ".join(f"{b.name} ({b.title})" for b in banks) if len(banks) > 1 else f"{banks[0].name}: {banks[0].title}"
    )
    if with_key:
        lines = [
            f"# Answer key for {names}",
            "# Computed by the calculators; it scores full marks.",
            "",
        ]
    else:
        lines = [
            f"# Answer sheet for {names}",
            "# Fill in each answer after the colon; leave ~ for questions you skip.",
            "# Check it with: grader quiz check THIS_FILE",
            "",
        ]
    lines += _handout_lines(handout) if handout else _variant_lines(variant, with_key)
    for bank in banks:
        if len(banks) > 1:
            lines += [f"# --- {bank.name}: {bank.title} ---", ""]
        lines += _question_lines(bank, variant, with_key)
    return "\n".join(lines)


def _question_lines(bank: Bank, variant: Variant, with_key: bool) -> list[str]:
    lines: list[str] = []
    for question in bank.questions:
        inst = bank.instance(question, variant)
        kind = REGISTRY[question.type]
        if not kind.on_sheet:
            lines += _comment(f"{question.id}: {answer_format(inst)}") + [""]
            continue
        lines += _comment(f"{question.id} ({question.points:g} points)")
        lines += _comment(inst.prompt)
        for option in question.spec.get("options", []):
            lines += _comment(f"  {option['key']}) {option['text']}")
        lines += _comment(f"Answer: {answer_format(inst)}")
        answer = _yaml_value(kind.key_on_sheet(inst)) if with_key else kind.blank_answer
        lines += [f"{question.id}: {answer}", ""]
    return lines


_STATUS_STYLE = {
    QuestionStatus.CORRECT: ("correct", "green"),
    QuestionStatus.PARTIAL: ("partly right", "yellow"),
    QuestionStatus.INCORRECT: ("wrong", "red"),
    QuestionStatus.UNANSWERED: ("unanswered", "magenta"),
    QuestionStatus.INVALID: ("could not be read", "red"),
    QuestionStatus.NEEDS_REVIEW: ("to be reviewed", "cyan"),
    QuestionStatus.REVIEWED: ("reviewed", "blue"),
    QuestionStatus.ELSEWHERE: ("graded elsewhere", "white"),
    QuestionStatus.ANSWERED: ("read", "white"),
}


def _show(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(x, str) for x in value):
        return ", ".join(value)
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return "[" + ", ".join(json.dumps(r) for r in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


PROMPT_CHARS = 100  # a question's title and prompt in the terminal: one line, shortened


def _named(r: R.QuestionResult) -> str:
    """The question's title and prompt on one line, shortened (the feedback page shows them whole)."""
    prompt = " ".join(r.prompt.split())
    text = f"{r.title}: {prompt}" if r.title and prompt else r.title or prompt
    return text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 3].rstrip() + "..."


def _feedback(r: R.QuestionResult, reveal: bool) -> list[str]:
    """A question's feedback as shown (terminal, page, JSON): a written answer waiting for review
    gets the model answer only with ``reveal``, like every other key."""
    hidden = r.status == QuestionStatus.NEEDS_REVIEW and not reveal
    return [note for note in r.feedback if not (hidden and note.startswith("Model answer"))]


def question_lines(r: R.QuestionResult, verdicts: bool, reveal: bool = False) -> list[str]:
    """One question's block of the terminal report (also a notebook sheet's answer(...) feedback)."""
    label, colour = _STATUS_STYLE[r.status]
    score = f"{r.points:g}/{r.points_possible:g}" if verdicts else ""
    lines = [f"{r.id:<26} {click.style(label, fg=colour):<28} {score}".rstrip()]
    if _named(r):
        lines.append(click.style(f"    {_named(r)}", dim=True))
    if r.answer is not None and REGISTRY[r.type].echo_answer:
        lines.append(f"    your answer: {_show(r.answer)}")
    if reveal and r.expected is not None and r.status != QuestionStatus.CORRECT:
        lines.append(f"    expected:    {_show(r.expected)}")
    return lines + [f"    {note}" for note in _feedback(r, reveal)]


def report_text(result: R.SheetResult, reveal: bool = False) -> str:
    """The terminal report: one block per question, then the total and what to do next."""
    lines = [
        click.style(f"Answer sheet {result.source}", bold=True)
        + (f"  ({result.variant.describe()})" if result.variant.kind is not VariantKind.DEFAULT else "")
    ]
    for problem in result.problems:
        lines.append(click.style("! " + problem, fg="yellow"))
    for r in result.results:
        if r.status in (QuestionStatus.ELSEWHERE, QuestionStatus.UNANSWERED):
            continue  # unanswered ones are listed together below
        lines += question_lines(r, result.verdicts, reveal)
    unanswered = [r.id for r in result.with_status(QuestionStatus.UNANSWERED)]
    lines.append("")
    total = f"Total: {result.points:g} / {result.points_possible:g} points"
    if result.pending_review:
        total += f" ({result.pending_review:g} more await review of written answers)"
    if not result.verdicts:
        total = (
            f"No verdicts before grading (this sheet was handed out so): {len(result.with_status(QuestionStatus.ANSWERED))} "
            "answers can be read"
        )
    lines.append(click.style(total, bold=True))
    if unanswered:
        lines.append(f"Unanswered ({len(unanswered)}): {', '.join(unanswered)}")
    invalid = result.with_status(QuestionStatus.INVALID)
    if invalid:
        lines.append(f"Could not be read ({len(invalid)}): {', '.join(r.id for r in invalid)}")
    return "\n".join(lines)


def result_document(result: R.SheetResult, reveal: bool = False) -> dict[str, Any]:
    """The JSON result, checked against ``quiz-result.schema.json`` before it leaves."""
    document = {
        "kind": DocumentKind.QUIZ_RESULT,
        "sheet": result.source,
        "seed": result.variant.name if result.variant.kind is VariantKind.PRACTICE else None,
        "variant": {"kind": result.variant.kind, "name": result.variant.name, "practice_check": result.practice_check},
        "banks": list(result.banks),
        "score": {"points": result.points, "possible": result.points_possible, "pending_review": result.pending_review},
        "problems": list(result.problems),
        **({"handout": _handout_document(result.handout)} if result.handout else {}),
        "questions": [
            {
                "id": r.id,
                "type": r.type,
                "status": r.status,
                "points": r.points,
                "points_possible": r.points_possible,
                "line": r.line,
                "answer": r.answer,
                "feedback": _feedback(r, reveal),
                "misconceptions": list(r.misconceptions),
                **({"expected": r.expected} if reveal and r.expected is not None else {}),
            }
            for r in result.results
        ],
    }
    errors = schema_errors(document, DocumentKind.QUIZ_RESULT)
    if errors:  # a bug of the grader's, never the student's
        raise AssertionError(f"quiz result breaks its schema: {errors[0].message}")
    return document


def _handout_document(check: R.HandoutCheck) -> dict[str, Any]:
    return {
        "feedback": check.feedback,
        "signature": check.signature,
        "verdicts": check.verdicts,
    }


_PAGE_STATUS = {
    QuestionStatus.CORRECT: "ok",
    QuestionStatus.PARTIAL: "warn",
    QuestionStatus.INCORRECT: "bad",
    QuestionStatus.INVALID: "bad",
    QuestionStatus.NEEDS_REVIEW: "warn",
    QuestionStatus.REVIEWED: "ok",
}


def _grid_cells(answer: Any, expected: Any, reveal: bool) -> tuple[list[list[dict[str, Any]]], int] | None:
    """The student's grid, cell by cell, with the wrong cells marked (expected values only
    shown when revealed)."""

    def is_grid(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(r, list) for r in value)

    if not is_grid(answer):
        return None
    wrong = 0
    rows = []
    for i, row in enumerate(answer):
        cells = []
        for j, value in enumerate(row):
            want = expected[i][j] if is_grid(expected) and i < len(expected) and j < len(expected[i]) else None
            bad = want is not None and value != want
            wrong += bad
            cells.append(
                {
                    "value": _show(value),
                    "css": "wrong" if bad else ("right" if want is not None else ""),
                    "title": f"expected {_show(want)}" if bad and reveal else "",
                }
            )
        rows.append(cells)
    return rows, wrong


def report_html(result: R.SheetResult, reveal: bool = False) -> str:
    """The feedback page of one sheet: each question with its verdict, grids drawn as grids
    with wrong cells marked, slips named, written answers with their key points."""
    from pathlib import PurePath

    from grader.pages import render

    questions = []
    for r in result.results:
        if r.status in (QuestionStatus.ELSEWHERE, QuestionStatus.UNANSWERED):
            continue
        label, _ = _STATUS_STYLE[r.status]
        grid = _grid_cells(r.answer, r.expected, reveal) if REGISTRY[r.type].drawn_as_grid else None
        questions.append(
            {
                "id": r.id,
                "title": r.title,
                "prompt": r.prompt,
                "type": r.type,
                "written": REGISTRY[r.type].written,
                "status": r.status,
                "label": label,
                "css": _PAGE_STATUS.get(r.status, ""),
                "points": r.points,
                "points_possible": r.points_possible,
                "answer": r.answer,
                "answer_text": _show(r.answer) if r.answer is not None else "",
                "expected_text": _show(r.expected) if r.expected is not None else "",
                "grid": grid[0] if grid else None,
                "wrong_cells": grid[1] if grid else 0,
                "misconceptions": list(r.misconceptions),
                "feedback": _feedback(r, reveal),
            }
        )
    return render(
        "quiz.html.j2",
        sheet_name=PurePath(result.source).name,
        variant=result.variant.describe() if result.variant.kind is not VariantKind.DEFAULT else None,
        banks=list(result.banks),
        points=result.points,
        possible=result.points_possible,
        pending=result.pending_review,
        problems=list(result.problems),
        questions=questions,
        unanswered=[r.id for r in result.with_status(QuestionStatus.UNANSWERED)],
        reveal=reveal,
        verdicts=result.verdicts,
    )
