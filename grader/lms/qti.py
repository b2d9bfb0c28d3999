"""Canvas QTI 1.2: a zip with ``imsmanifest.xml``, the assessment and Canvas's quiz settings.

The items follow what Canvas itself exports and imports (``question_type`` in the item's
metadata; the ``respcondition`` shapes of Canvas's own QTI exporter), built with
ElementTree:

- integer and number questions are *numerical* questions (the key with a margin). Canvas
  counts every answer of a numerical question as right, so the known slips go into the
  feedback shown for a wrong answer, as a list of the numbers they give;
- grids and shapes are *fill in multiple blanks*, one blank per cell or dimension (Canvas
  gives each blank its share of the points);
- choice is *multiple choice*; multi-select is *multiple answers*, which Canvas scores as
  ``grader quiz check`` does (a share per right pick, the same share off per wrong one);
- free text is an *essay*, with the key points and the model answer as its general feedback.

Practice variants of a question form an item group that picks one of them for each student.
"""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
import zipfile

from grader.lms import markup
from grader.lms.model import BankExport, Choices, Essay, Fields, Item, Numerical, VariantGroup, handler_for, number_text
from grader.lms.moodle import comment

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip's entries carry no date: the same bank gives the same zip
# In a fill-in-multiple-blanks text, [name] is a blank: the bank's own brackets are entities.
_BLANK_TEXT = {ord("["): "&#91;", ord("]"): "&#93;"}


def _identifier(*parts: str) -> str:
    return "g" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attributes)
    if text is not None:
        node.text = text
    return node


def _mattext(parent: ET.Element, text: str, texttype: str = "text/html") -> None:
    _sub(_sub(parent, "material"), "mattext", text, texttype=texttype)


class _ItemWriter:
    """One ``<item>``: its metadata, presentation, response processing and feedback."""

    def __init__(self, parent: ET.Element, item: Item, question_type: str, answer_ids: list[str]) -> None:
        self.item = item
        self.node = _sub(parent, "item", ident=item.ident, title=item.name)
        meta = _sub(_sub(self.node, "itemmetadata"), "qtimetadata")
        for label, entry in (
            ("question_type", question_type),
            ("points_possible", number_text(item.points)),
            ("original_answer_ids", ",".join(answer_ids)),
            ("assessment_question_identifierref", item.ident + "_ref"),
        ):
            field = _sub(meta, "qtimetadatafield")
            _sub(field, "fieldlabel", label)
            _sub(field, "fieldentry", entry)
        self.presentation = _sub(self.node, "presentation")
        self.feedback: list[tuple[str, str]] = []

    def text(self, html: str) -> None:
        _mattext(self.presentation, html)

    def processing(self) -> ET.Element:
        resprocessing = _sub(self.node, "resprocessing")
        _sub(
            _sub(resprocessing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal"
        )
        return resprocessing

    def condition(self, parent: ET.Element, continue_: str | None = "Yes") -> tuple[ET.Element, ET.Element]:
        """A ``respcondition`` and its ``conditionvar``."""
        node = _sub(parent, "respcondition", **({"continue": continue_} if continue_ else {}))
        return node, _sub(node, "conditionvar")

    def show_feedback(self, condition: ET.Element, ident: str, html: str) -> None:
        _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid=ident)
        self.feedback.append((ident, html))

    def finish(self) -> None:
        for ident, html in self.feedback:
            _mattext(_sub(_sub(self.node, "itemfeedback", ident=ident), "flow_mat"), html)


def _numerical(parent: ET.Element, item: Item, body: Numerical) -> None:
    writer = _ItemWriter(parent, item, "numerical_question", [item.ident + "_answer"])
    writer.text(markup.html(markup.prompt(item.prompt, markup.answer_note(item, units_accepted=False))))
    fib = _sub(_sub(writer.presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib")
    fib.set("fibtype", "Decimal")
    _sub(fib, "response_label", ident="answer1")
    processing = writer.processing()
    key = body.key
    right, condition = writer.condition(processing, "No")
    either = _sub(condition, "or")
    _sub(either, "varequal", number_text(key.value), respident="response1")
    both = _sub(either, "and")
    _sub(both, "vargte", number_text(key.value - key.tolerance), respident="response1")
    _sub(both, "varlte", number_text(key.value + key.tolerance), respident="response1")
    _sub(right, "setvar", "100", action="Set", varname="SCORE")
    slips = markup.slip_list(body)
    if slips is not None:
        wrong, condition = writer.condition(processing)
        _sub(condition, "other")
        writer.show_feedback(wrong, "general_incorrect_fb", markup.html(slips))
    writer.finish()


def _fields(parent: ET.Element, item: Item, body: Fields) -> None:
    """Canvas compares a blank's text with its answers: each blank has one, the key as written."""
    answers = {field.name: (f"{item.ident}_{field.name}", number_text(field.key.value)) for field in body.fields}
    writer = _ItemWriter(parent, item, "fill_in_multiple_blanks_question", [a for a, _ in answers.values()])
    prompt = markup.html(markup.prompt(item.prompt, markup.answer_note(item, units_accepted=False)))
    blanks = {field.name: f"[{field.name}]" for field in body.fields}
    writer.text(prompt.translate(_BLANK_TEXT) + markup.html(markup.fields_table(body, blanks)))
    for field in body.fields:
        lid = _sub(writer.presentation, "response_lid", ident=f"response_{field.name}")
        _mattext(lid, field.name, texttype="text/plain")
        ident, text = answers[field.name]
        _mattext(_sub(_sub(lid, "render_choice"), "response_label", ident=ident), text, texttype="text/plain")
    processing = writer.processing()
    share = f"{100 / len(body.fields):.2f}"
    for field in body.fields:
        right, condition = writer.condition(processing, None)
        _sub(condition, "varequal", answers[field.name][0], respident=f"response_{field.name}")
        _sub(right, "setvar", share, varname="SCORE", action="Add")
    writer.finish()


def _choices(parent: ET.Element, item: Item, body: Choices) -> None:
    ids = {option.letter: f"{item.ident}_{option.letter}" for option in body.options}
    kind = "multiple_answers_question" if body.multiple else "multiple_choice_question"
    writer = _ItemWriter(parent, item, kind, list(ids.values()))
    writer.text(markup.html(markup.prompt(item.prompt)))
    lid = _sub(
        writer.presentation, "response_lid", ident="response1", rcardinality="Multiple" if body.multiple else "Single"
    )
    choice = _sub(lid, "render_choice")
    for option in body.options:
        _mattext(
            _sub(choice, "response_label", ident=ids[option.letter]), markup.html(markup.element("span", option.text))
        )
    processing = writer.processing()
    for option in body.options:
        if option.feedback:
            shown, condition = writer.condition(processing)
            _sub(condition, "varequal", ids[option.letter], respident="response1")
            writer.show_feedback(shown, f"{ids[option.letter]}_fb", markup.html(markup.paragraph(option.feedback)))
    right, condition = writer.condition(processing, "No")
    if body.multiple:
        every = _sub(condition, "and")
        for option in body.options:
            target = every if option.correct else _sub(every, "not")
            _sub(target, "varequal", ids[option.letter], respident="response1")
    else:
        correct = next(o for o in body.options if o.correct)
        _sub(condition, "varequal", ids[correct.letter], respident="response1")
    _sub(right, "setvar", "100", action="Set", varname="SCORE")
    writer.finish()


def _essay(parent: ET.Element, item: Item, body: Essay) -> None:
    writer = _ItemWriter(parent, item, "essay_question", [])
    writer.text(markup.html(markup.prompt(item.prompt)))
    fib = _sub(_sub(writer.presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib")
    _sub(fib, "response_label", ident="answer1", rshuffle="No")
    processing = writer.processing()
    general, condition = writer.condition(processing)
    _sub(condition, "other")
    writer.show_feedback(general, "general_fb", markup.html(markup.essay_info(body)))
    _, condition = writer.condition(processing, "No")
    _sub(condition, "other")
    writer.finish()


def _item(parent: ET.Element, item: Item) -> None:
    handler_for(item.body, _numerical, _fields, _choices, _essay)(parent, item, item.body)


def _group(parent: ET.Element, group: VariantGroup) -> None:
    section = _sub(parent, "section", ident=group.ident, title=group.name)
    selection = _sub(_sub(section, "selection_ordering"), "selection")
    _sub(selection, "selection_number", "1")
    _sub(_sub(selection, "selection_extension"), "points_per_item", number_text(group.points))
    for item in group.items:
        _item(section, item)


def _tree(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def assessment(export: BankExport, ident: str) -> bytes:
    """The QTI assessment: the bank's questions in order, a question with practice variants
    as a group that picks one of them."""
    root = ET.Element("questestinterop", {"xmlns": QTI_NS, "xmlns:xsi": XSI_NS})
    root.set("xsi:schemaLocation", f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    test = _sub(root, "assessment", ident=ident, title=export.title)
    field = _sub(_sub(test, "qtimetadata"), "qtimetadatafield")
    _sub(field, "fieldlabel", "cc_maxattempts")
    _sub(field, "fieldentry", "1")
    section = _sub(test, "section", ident="root_section")
    for entry in export.entries:
        if not isinstance(entry, Item):
            section.append(comment(f"{entry.question_id} left out: {entry.reason}"))
            continue
        group = export.group_of(entry.question_id)
        if group is not None and group.items:
            _group(section, group)
        else:
            _item(section, entry)
    return _tree(root)


def points_possible(export: BankExport) -> float:
    return sum(entry.points for entry in export.items)


def assessment_meta(export: BankExport, ident: str, assignment: str, group: str) -> bytes:
    """Canvas's settings for the quiz the import creates (unpublished, one attempt)."""
    root = ET.Element("quiz", {"identifier": ident, "xmlns": CANVAS_NS, "xmlns:xsi": XSI_NS})
    root.set("xsi:schemaLocation", f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd")
    points = f"{points_possible(export):.1f}"
    for tag, text in (
        ("title", export.title),
        ("description", markup.html(markup.paragraph(export.description)) if export.description else ""),
        ("shuffle_answers", "false"),
        ("scoring_policy", "keep_highest"),
        ("hide_results", ""),
        ("quiz_type", "assignment"),
        ("points_possible", points),
        ("show_correct_answers", "true"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "false"),
    ):
        _sub(root, tag, text)
    task = _sub(root, "assignment", identifier=assignment)
    for tag, text in (
        ("title", export.title),
        ("workflow_state", "unpublished"),
        ("quiz_identifierref", ident),
        ("points_possible", points),
        ("grading_type", "points"),
        ("submission_types", "online_quiz"),
    ):
        _sub(task, tag, text)
    _sub(root, "assignment_group_identifierref", group)
    return _tree(root)


def manifest(export: BankExport, ident: str, meta: str) -> bytes:
    root = ET.Element(
        "manifest", {"identifier": _identifier(export.bank, "manifest"), "xmlns": CP_NS, "xmlns:xsi": XSI_NS}
    )
    root.set("xsi:schemaLocation", f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd")
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    resource = _sub(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
    _sub(resource, "file", href=f"{ident}/{ident}.xml")
    _sub(resource, "dependency", identifierref=meta)
    kind = "associatedcontent/imscc_xmlv1p1/learning-application-resource"
    resource = _sub(resources, "resource", identifier=meta, type=kind, href=f"{ident}/assessment_meta.xml")
    _sub(resource, "file", href=f"{ident}/assessment_meta.xml")
    return _tree(root)


def write(export: BankExport) -> bytes:
    """The zip Canvas imports (Settings > Import course content > QTI .zip file)."""
    ident = _identifier(export.bank, "assessment")
    meta = _identifier(export.bank, "assessment_meta")
    files = {
        "imsmanifest.xml": manifest(export, ident, meta),
        f"{ident}/assessment_meta.xml": assessment_meta(
            export, ident, _identifier(export.bank, "assignment"), _identifier(export.bank, "group")
        ),
        f"{ident}/{ident}.xml": assessment(export, ident),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16  # rw-r--r-- once unzipped
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
