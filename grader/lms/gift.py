"""GIFT, Moodle's plain-text format, for the question types it can carry.

Every text is HTML (``[html]``) escaped the way Moodle's own GIFT writer escapes it: a
backslash before each of ``\\ ~ = # { } :``, so the bank's text never reads as syntax.
Numerical questions carry their slips as 0% answers with feedback, multi-select questions
their fractions, essays their key points and model answer as general feedback (GIFT has no
field for the grader). Grids and shapes need several answer fields in one question, which
GIFT has not: they are left out with a line saying so (use Moodle XML for them).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.lms import markup
from grader.lms.model import BankExport, Choices, Essay, Fields, Item, Numerical, moodle_percent, number_text
from grader.lms.moodle import category_path, variants_category

FIELDS_LEFT_OUT = "GIFT has no question with several numeric fields (export it as Moodle XML)"
_ESCAPES = {ord(c): "\\" + c for c in "\\~=#{}:"} | {ord("\n"): "\\n", ord("\r"): ""}


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _html(element: ET.Element) -> str:
    return escape(markup.html(element))


def _feedback(text: str) -> str:
    return "#" + escape(markup.html(markup.paragraph(text))) if text else ""


def _numerical(body: Numerical, where: str) -> list[str]:
    lines = []
    for answer in body.answers:
        weight = "" if answer.fraction == 1 else f"%{moodle_percent(answer.fraction, where)}%"
        lines.append(
            f"\t={weight}{number_text(answer.value)}:{number_text(answer.tolerance)}{_feedback(answer.feedback)}"
        )
    return ["{#"] + lines + ["}"]


def _choices(body: Choices, where: str) -> list[str]:
    lines = []
    for option in body.options:
        if not body.multiple:
            mark = "=" if option.correct else "~"
        else:
            mark = f"~%{moodle_percent(option.fraction, where)}%"
        text = escape(markup.html(markup.element("span", option.text)))
        lines.append(f"\t{mark}{text}{_feedback(option.feedback)}")
    return ["{"] + lines + ["}"]


def carried(item: Item) -> bool:
    """Whether GIFT can carry the question (grids and shapes it cannot)."""
    return not isinstance(item.body, Fields)


def _question(item: Item) -> list[str] | None:
    """The lines of one question, or None when GIFT cannot carry it."""
    body = item.body
    if not carried(item):
        return None
    head = "::" + escape(item.name) + "::[html]"
    if isinstance(body, Essay):
        return [head + _html(markup.prompt(item.prompt)) + "{####" + _html(markup.essay_info(body)) + "}"]
    if isinstance(body, Numerical):
        text = _html(markup.prompt(item.prompt, markup.answer_note(item, units_accepted=False)))
        return [head + text] + _numerical(body, item.question_id)
    return [head + _html(markup.prompt(item.prompt))] + _choices(body, item.question_id)


def _left_out(question_id: str, reason: str) -> list[str]:
    """A comment line: GIFT reads nothing in it, so nothing is escaped."""
    return [" ".join(f"// {question_id} left out: {reason}".split())]


def write(export: BankExport) -> bytes:
    blocks: list[list[str]] = [
        [f"// {export.bank}: {export.title}. Keys computed by the grader's calculators."],
        ["$CATEGORY: " + category_path(export.bank)],
    ]
    for entry in export.entries:
        if not isinstance(entry, Item):
            blocks.append(_left_out(entry.question_id, entry.reason))
            continue
        lines = _question(entry)
        if lines is None:
            blocks.append(_left_out(entry.question_id, FIELDS_LEFT_OUT))
        else:
            blocks.append(lines)
    for group in export.groups:
        questions = [lines for lines in map(_question, group.items) if lines is not None]
        if questions:
            blocks.append(["$CATEGORY: " + category_path(*variants_category(export.bank, group.question_id))])
            blocks.extend(questions)
    return ("\n\n".join("\n".join(lines) for lines in blocks) + "\n").encode()
