"""Every HTML page the grader writes, from Jinja2 templates with autoescaping and one
shared stylesheet, so that nothing a student wrote can become markup and every page looks
like the others. Pages are single files (stylesheet and figures inline) that open anywhere."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.pages", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = lambda value: f"{value:g}"
    env.filters["percent"] = lambda value, digits=2: "–" if value is None else f"{value:.{digits}%}"
    return env


def stylesheet() -> str:
    return resources.files(__name__).joinpath("templates/style.css").read_text("utf-8")


def render(template: str, **context: Any) -> str:
    """The page ``template`` filled with ``context``; every value is escaped unless a
    template marks it safe (only the grader's own figures are)."""
    return _environment().get_template(template).render(stylesheet=stylesheet(), **context)
