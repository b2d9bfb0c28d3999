"""The HTML the platforms show: built as element trees and serialised by ElementTree, so the
bank's text is escaped as HTML once, wherever it goes (``<``, ``&`` and quotes are text,
never markup). Each format then escapes that HTML for its own syntax."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from grader.lms.model import Block, Essay, Fields, Item, Numerical, number_text


def html(*elements: ET.Element) -> str:
    """Serialise elements as an HTML fragment."""
    return "".join(ET.tostring(e, encoding="unicode", method="html") for e in elements)


def element(tag: str, text: str = "", **attributes: str) -> ET.Element:
    node = ET.Element(tag, attributes)
    node.text = text
    return node


def _pre(text: str) -> ET.Element:
    """Preformatted lines with <br> between them, so that the HTML holds no line break (GIFT
    and Cloze read a question from lines)."""
    node = element("pre")
    lines = text.split("\n")
    node.text = lines[0]
    for line in lines[1:]:
        ET.SubElement(node, "br").tail = line
    return node


def prompt(blocks: Iterable[Block], note: str = "") -> ET.Element:
    """A prompt as a <div> of paragraphs and preformatted grids, then the answer note."""
    div = element("div")
    for block in blocks:
        div.append(_pre(block.text) if block.preformatted else element("p", block.text))
    if note:
        div.append(element("p", note))
    return div


def paragraph(text: str) -> ET.Element:
    return element("p", " ".join(text.split()))


def essay_info(essay: Essay) -> ET.Element:
    """Key points and model answer, for whoever grades the essay."""
    div = element("div")
    div.append(element("p", "Key points:"))
    points = ET.SubElement(div, "ul")
    for point in essay.key_points:
        points.append(element("li", point))
    div.append(element("p", "Model answer: " + essay.model_answer))
    return div


def slip_list(numerical: Numerical) -> ET.Element | None:
    """The known slips as a list (where a platform cannot give a wrong number its own feedback)."""
    if not numerical.slips:
        return None
    div = element("div")
    div.append(element("p", "Known slips and the answers they give:"))
    items = ET.SubElement(div, "ul")
    for slip in numerical.slips:
        shown = number_text(slip.value) + (f" {numerical.unit}" if numerical.unit else "")
        items.append(element("li", f"{shown}: {slip.message}"))
    return div


def answer_note(item: Item, units_accepted: bool) -> str:
    """How to answer, where the prompt's own words (written for answer sheets) are not enough."""
    body = item.body
    if isinstance(body, Numerical) and body.unit:
        if units_accepted:
            names = ", ".join(u.name for u in body.units)
            return f"Units accepted: {names}; a bare number is read in {body.unit}."
        return f"Answer with a number in {body.unit}, without the unit."
    if isinstance(body, Fields):
        if body.layout == "shape":
            return "Fill in each dimension of the output's shape (no batch dimension)."
        return "Fill in each cell of the output grid."
    return ""


def fields_table(fields: Fields, cell: dict[str, str]) -> ET.Element:
    """A grid's or a shape's fields as a table; ``cell`` gives each field's content (a Cloze
    field, a Canvas blank) by name."""
    table = element("table", border="1", cellpadding="4")
    if fields.layout == "shape":
        head = ET.SubElement(table, "tr")
        for field in fields.rows[0]:
            head.append(element("th", field.label))
    for row in fields.rows:
        tr = ET.SubElement(table, "tr")
        for field in row:
            tr.append(element("td", cell[field.name]))
    return table
