"""The review server's pages and forms as Starlette handlers. Each reaches the review through
``request.app.state`` (``review``, and ``csrf_secret`` from which each session's CSRF token
is derived), set once by :func:`grader.review.app.create_app`; ``ROUTES`` lists them."""

from __future__ import annotations

import hmac
import html
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from grader.pages import render
from grader.review.gate import SESSION_COOKIE, csrf_token
from grader.review.pages import context, index_page, notebook_page, question_page
from grader.review.state import Review, ReviewInputError

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}
# The notebook's own output is untrusted: the sandbox policy runs none of its scripts.
EXECUTED_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
}
MARK_REVIEWED = "reviewed"  # the notebook page's form action that marks the notebook as looked at


def review_of(request: Request) -> Review:
    return request.app.state.review


def page(request: Request, template: str, status_code: int = 200, **variables: Any) -> HTMLResponse:
    """A page of the review, with what every page shows (progress, folder) and the session's CSRF token."""
    review = review_of(request)
    overall = review.overall()
    session = request.cookies.get(SESSION_COOKIE, "")
    csrf = csrf_token(request.app.state.csrf_secret, session)
    body = render(template, csrf=csrf, overall=overall, out=str(review.out), **variables)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


async def form(request: Request) -> FormData:
    """The posted form, refused (403) without the session's CSRF token."""
    data = await request.form()
    session = request.cookies.get(SESSION_COOKIE, "")
    if not session or not hmac.compare_digest(
        str(data.get("csrf", "")), csrf_token(request.app.state.csrf_secret, session)
    ):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return data


def points_of(data: FormData) -> float:
    try:
        return float(str(data.get("points", "")).strip())
    except ValueError:
        raise ReviewInputError(f"points must be a number, got {str(data.get('points', ''))[:40]!r}") from None


def question_of(request: Request) -> str:
    qid = f"{request.path_params['bank']}/{request.path_params['local']}"
    if qid not in review_of(request).workspace.questions:
        raise HTTPException(404, f"no written question {qid} with answers in this batch")
    return qid


def notebook_of(request: Request) -> str:
    student = request.path_params["student"]
    if student not in review_of(request).workspace.notebooks:
        raise HTTPException(404, f"no graded notebook for {student} in this batch")
    return student


def refused(request: Request, exc: ReviewInputError, back: str) -> HTMLResponse:
    return page(request, "review_error.html.j2", status_code=400, message=str(exc), back=back)


async def index(request: Request) -> Response:
    return page(request, "review_index.html.j2", **context(index_page(review_of(request))))


async def question(request: Request) -> Response:
    return page(request, "review_question.html.j2", **context(question_page(review_of(request), question_of(request))))


async def grade(request: Request) -> Response:
    qid = question_of(request)
    data = await form(request)
    students = [str(s) for s in data.getlist("student")]
    try:
        review_of(request).grade(qid, students, points_of(data), str(data.get("comment", "")).strip())
    except ReviewInputError as exc:
        return refused(request, exc, f"/q/{qid}")
    anchor = str(data.get("next", ""))
    return RedirectResponse(f"/q/{qid}" + (f"#{anchor}" if anchor.replace("-", "").isalnum() else ""), 303)


async def notebook(request: Request) -> Response:
    return page(request, "review_notebook.html.j2", **context(notebook_page(review_of(request), notebook_of(request))))


async def executed(request: Request) -> Response:
    student = notebook_of(request)
    path = review_of(request).workspace.executed_notebook(student)
    if path is None:
        raise HTTPException(404, f"the batch kept no executed notebook for {student}")
    return HTMLResponse(notebook_html(path), headers=EXECUTED_HEADERS)


async def override(request: Request) -> Response:
    student = notebook_of(request)
    data = await form(request)
    review = review_of(request)
    try:
        if data.get("action") == MARK_REVIEWED:
            review.mark_reviewed(student)
        else:
            review.override(student, str(data.get("check", "")), points_of(data), str(data.get("comment", "")).strip())
    except ReviewInputError as exc:
        return refused(request, exc, f"/nb/{student}")
    return RedirectResponse(f"/nb/{student}", 303)


async def http_error(request: Request, exc: HTTPException) -> Response:
    return page(request, "review_error.html.j2", status_code=exc.status_code, message=exc.detail, back="/")


def notebook_html(path: Path) -> str:
    """The executed notebook as nbconvert's HTML exporter renders it (or its error, as text)."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        return "<p>Rendering notebooks needs nbconvert: pip install -e '.[notebooks]'</p>"
    try:
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(str(path), as_version=4))
    except Exception as exc:  # an unreadable notebook is shown as a message, not a crash  # noqa: BLE001
        return f"<p>The executed notebook cannot be rendered: {html.escape(str(exc))}</p>"
    return body


ROUTES = [
    Route("/", index),
    Route("/q/{bank}/{local}", question),
    Route("/q/{bank}/{local}", grade, methods=["POST"]),
    Route("/nb/{student}", notebook),
    Route("/nb/{student}", override, methods=["POST"]),
    Route("/nb/{student}/executed", executed),
]
EXCEPTION_HANDLERS = {HTTPException: http_error}
