"""The similarity page: the pairs of students, highest score first, and each flagged pair's
shared code or answers side by side, the shared parts marked. Everything from the students
is escaped by the template (pages are Jinja2 with autoescaping)."""

from __future__ import annotations

from grader.similarity.result import Material, Similarity

MATERIAL_TEXT = {Material.NOTEBOOKS: "notebooks (code cells)", Material.WRITTEN_ANSWERS: "written answers"}


def similarity_page(similarity: Similarity) -> str:
    from grader.pages import render

    return render(
        "similarity.html.j2",
        s=similarity,
        material=MATERIAL_TEXT[similarity.material],
        code=similarity.material is Material.NOTEBOOKS,
    )
