"""Moodle XML: one file, a category per bank and, with practice variants, one per question.

Integer and number questions are *numerical* questions: the key with the bank's tolerance,
then each known slip as a 0% answer whose feedback is the slip's message (Moodle gives the
feedback of the first answer a response matches); sizes take Moodle units (optional, a
bare number is read in the bank's unit, as ``grader quiz check`` reads it). Grids and shapes
are Cloze (*multianswer*) questions with one NUMERICAL field per cell or dimension; choice
and multi-select questions are *multichoice*; free text is an *essay* with the key points
and the model answer in the grader's information.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from enum import StrEnum

from grader.lms import markup
from grader.lms.model import (
    Answer,
    BankExport,
    Choices,
    Essay,
    Field,
    Fields,
    Item,
    Numerical,
    handler_for,
    moodle_percent,
    number_text,
)


class MoodleType(StrEnum):
    """Moodle's names of the question types the export writes (a question element's ``type``)."""

    NUMERICAL = "numerical"
    MULTICHOICE = "multichoice"
    ESSAY = "essay"
    CLOZE = "cloze"


SHOWUNITS_INPUT, SHOWUNITS_NONE = 0, 3  # qtype_numerical: the unit typed with the number; no units
UNITS_OPTIONAL = 0  # unitgradingtype: a unit converts the response, none is needed


def category_path(*names: str) -> str:
    """A Moodle category path under the course's top category ('/' in a name is doubled)."""
    return "/".join(["$course$", "top"] + [name.replace("/", "//") for name in names])


def variants_category(bank: str, question_id: str) -> tuple[str, str]:
    """The category of a question's practice variants (beside the bank's, not inside it, so a
    random question from the bank's category never draws a variant)."""
    return f"{bank} practice variants", question_id.split("/", 1)[1]


def comment(text: str) -> ET.Element:
    """An XML comment; '--' cannot stand in one."""
    return ET.Comment(" " + text.replace("--", "- -").rstrip("-") + " ")


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = "html") -> ET.Element:
    node = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(node, "text").text = text
    return node


def _value(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _category(quiz: ET.Element, path: str, info: str) -> None:
    question = ET.SubElement(quiz, "question", type="category")
    _text(question, "category", path, fmt=None)
    _text(question, "info", markup.html(markup.paragraph(info)) if info else "")


def _question(quiz: ET.Element, item: Item, qtype: MoodleType, text: str) -> ET.Element:
    question = ET.SubElement(quiz, "question", type=qtype)
    _text(question, "name", item.name, fmt=None)
    _text(question, "questiontext", text)
    _text(question, "generalfeedback", "")
    if qtype is not MoodleType.CLOZE:  # a Cloze question's mark is the sum of its fields' weights
        _value(question, "defaultgrade", number_text(item.points))
    _value(question, "hidden", 0)
    return question


def _feedback_html(text: str) -> str:
    return markup.html(markup.paragraph(text)) if text else ""


def _answer(question: ET.Element, answer: Answer, where: str) -> None:
    node = ET.SubElement(
        question, "answer", fraction=moodle_percent(answer.fraction, where), format="moodle_auto_format"
    )
    ET.SubElement(node, "text").text = number_text(answer.value)
    _value(node, "tolerance", number_text(answer.tolerance))
    _text(node, "feedback", _feedback_html(answer.feedback))


def _numerical(quiz: ET.Element, item: Item, body: Numerical) -> None:
    text = markup.html(markup.prompt(item.prompt, markup.answer_note(item, units_accepted=True)))
    question = _question(quiz, item, MoodleType.NUMERICAL, text)
    for answer in body.answers:
        _answer(question, answer, item.question_id)
    if body.units:
        units = ET.SubElement(question, "units")
        for unit in body.units:
            node = ET.SubElement(units, "unit")
            _value(node, "multiplier", unit.multiplier)
            _value(node, "unit_name", unit.name)
    _value(question, "unitgradingtype", UNITS_OPTIONAL)
    _value(question, "unitpenalty", "0.1")
    _value(question, "showunits", SHOWUNITS_INPUT if body.units else SHOWUNITS_NONE)
    _value(question, "unitsleft", 0)


def _choices(quiz: ET.Element, item: Item, body: Choices) -> None:
    text = markup.html(markup.prompt(item.prompt))
    question = _question(quiz, item, MoodleType.MULTICHOICE, text)
    _value(question, "single", "false" if body.multiple else "true")
    _value(question, "shuffleanswers", "false")
    lettered = [o.letter for o in body.options] == [chr(ord("A") + i) for i in range(len(body.options))]
    _value(question, "answernumbering", "ABCD" if lettered else "none")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text(question, tag, "")
    ET.SubElement(question, "shownumcorrect")
    for option in body.options:
        node = ET.SubElement(question, "answer", fraction=moodle_percent(option.fraction, item.question_id))
        node.set("format", "html")
        label = option.text if lettered else f"{option.letter}) {option.text}"
        ET.SubElement(node, "text").text = markup.html(markup.element("span", label))
        _text(node, "feedback", _feedback_html(option.feedback))


def _essay(quiz: ET.Element, item: Item, body: Essay) -> None:
    question = _question(quiz, item, MoodleType.ESSAY, markup.html(markup.prompt(item.prompt)))
    _value(question, "responseformat", "editor")
    _value(question, "responserequired", 1)
    _value(question, "responsefieldlines", 10)
    _value(question, "attachments", 0)
    _value(question, "attachmentsrequired", 0)
    _text(question, "graderinfo", markup.html(markup.essay_info(body)))
    _text(question, "responsetemplate", "")


# --- Cloze -----------------------------------------------------------------------------

# In a Cloze field an answer ends at ~ # or }, a feedback at ~ or } (unless after a backslash);
# Moodle decodes HTML entities in a feedback once, after reading the field. So a feedback is
# written as HTML whose special characters are entities: the field then holds none of them.
_CLOZE_FEEDBACK = {ord(c): f"&#{ord(c)};" for c in "~}{#\\"}
# The question text outside the fields: a brace there could open a field of its own.
_CLOZE_TEXT = {ord("{"): "&#123;", ord("}"): "&#125;"}


def cloze_field(field: Field, where: str) -> str:
    """``{1:NUMERICAL:=126:0~%0%63:0#feedback}``: the key, then the slips, weight 1."""
    parts = []
    for answer in field.answers:
        mark = "=" if answer.fraction == 1 else f"%{moodle_percent(answer.fraction, where)}%"
        part = f"{mark}{number_text(answer.value)}:{number_text(answer.tolerance)}"
        if answer.feedback:
            part += "#" + _feedback_html(answer.feedback).translate(_CLOZE_FEEDBACK)
        parts.append(part)
    return "{1:NUMERICAL:" + "~".join(parts) + "}"


def _fields(quiz: ET.Element, item: Item, body: Fields) -> None:
    prompt = markup.html(markup.prompt(item.prompt, markup.answer_note(item, units_accepted=True)))
    cells = {field.name: cloze_field(field, item.question_id) for field in body.fields}
    text = prompt.translate(_CLOZE_TEXT) + markup.html(markup.fields_table(body, cells))
    question = _question(quiz, item, MoodleType.CLOZE, text)
    _value(question, "penalty", "0.3333333")


def _item(quiz: ET.Element, item: Item) -> None:
    handler_for(item.body, _numerical, _fields, _choices, _essay)(quiz, item, item.body)


def write(export: BankExport) -> bytes:
    quiz = ET.Element("quiz")
    quiz.append(comment(f"{export.bank}: {export.title}. Keys computed by the grader's calculators."))
    _category(quiz, category_path(export.bank), export.description or export.title)
    for entry in export.entries:
        if isinstance(entry, Item):
            _item(quiz, entry)
        else:
            quiz.append(comment(f"{entry.question_id} left out: {entry.reason}"))
    for group in export.groups:
        path = category_path(*variants_category(export.bank, group.question_id))
        _category(quiz, path, f"{group.name}: add a random question from this category to a quiz.")
        for item in group.items:
            _item(quiz, item)
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="UTF-8", xml_declaration=True) + b"\n"
