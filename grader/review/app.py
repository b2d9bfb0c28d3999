"""``grader review OUT``: a local web application to grade what the batch could not.

Pages are rendered on the server from the grader's Jinja2 templates (autoescaped: a
student's ``<script>`` is shown as text) and work without any JavaScript build; a little
inline script adds keyboard shortcuts. Every request needs the random token printed at
start (as Jupyter does): given once in the URL, it is kept in an HttpOnly, SameSite=Strict
cookie. Every POST also needs a per-session CSRF token from a hidden field. Each decision
is saved at once (``decisions.py``) and the student's result and the exports regenerated.
One server serves a folder at a time: a second one is refused (``lock.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from grader.errors import GraderError
from grader.quiz import variants
from grader.quiz.bank import Catalog
from grader.review.decisions import NOTEBOOK_REVIEWED, Decisions, Grade
from grader.review.groups import Group, group_answers
from grader.review.learn import learned_suggestions
from grader.review.lock import ServerLock
from grader.review.regenerate import regenerate, reviewed_document
from grader.review.suggest import Suggestion, default_suggester
from grader.review.workspace import Workspace, read_rows

TOKEN_COOKIE = "grader_review_token"
SESSION_COOKIE = "grader_review_session"


class TokenGate:
    """ASGI middleware: refuse (403) any request without the server's token, from the URL
    (``?token=...``, then moved into a cookie by a redirect) or from the cookie; give each
    browser a session id, from which its CSRF token is derived."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cookies = _cookies(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query and hmac.compare_digest(query["token"], self.token):
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            location = scope["path"] + (f"?{rest}" if rest else "")
            session = cookies.get(SESSION_COOKIE) or secrets.token_urlsafe(24)
            headers = [
                (b"location", location.encode()),
                (b"set-cookie", _cookie(TOKEN_COOKIE, self.token)),
                (b"set-cookie", _cookie(SESSION_COOKIE, session)),
            ]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        if not hmac.compare_digest(cookies.get(TOKEN_COOKIE, ""), self.token) or not cookies.get(SESSION_COOKIE):
            body = b"403 Forbidden: open the address `grader review` printed, with its ?token=...\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            return await send({"type": "http.response.body", "body": body})
        return await self.app(scope, receive, send)


def _cookies(scope: dict) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is the same as none  # noqa: BLE001
                continue
    return {k: m.value for k, m in jar.items()}


def _cookie(name: str, value: str) -> bytes:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode()


@dataclass(frozen=True)
class Answer:
    """One student's answer as the question page shows it."""

    student: str
    text: str
    suggestion: Suggestion
    grade: Grade | None
    meta: dict[str, Any]


class Review:
    """The workspace's state for the pages: groups and suggestions computed once at start,
    decisions read from (and written to) their files."""

    def __init__(
        self,
        out: Path,
        catalog: Catalog,
        who: str,
        model: str | None = None,
        course_secret: bytes | None = None,
        practice: bool = False,
    ) -> None:
        self.out, self.catalog = out, catalog
        self.workspace = Workspace.load(out, catalog)
        self.secret = course_secret if course_secret is not None else variants.course_secret()
        self.workspace.refuse_without_secret(self.secret, practice)  # before anything is written
        self.decisions = Decisions(out, who)
        self.suggester, self.model_note = default_suggester(catalog, model)
        self.groups: dict[str, list[Group]] = {}
        self.suggestions: dict[str, dict[str, Suggestion]] = {}
        for qid, question in self.workspace.questions.items():
            self.groups[qid] = group_answers(question.answers)
            texts = [text for _, text in question.answers]
            found = self.suggester.suggest(question.question.spec, qid, texts)
            self.suggestions[qid] = {student: s for (student, _), s in zip(question.answers, found)}
        regenerate(out, catalog=catalog, secret=self.secret)  # decisions made by hand or by an older run are applied

    def progress(self, qid: str) -> tuple[int, int]:
        answers = self.workspace.questions[qid].answers
        return sum(qid in self.decisions.grades(s) for s, _ in answers), len(answers)

    def notebook_reviewed(self, student: str) -> bool:
        return bool(self.decisions.meta(student))

    def overall(self) -> tuple[int, int]:
        done = total = 0
        for qid in self.workspace.questions:
            d, n = self.progress(qid)
            done, total = done + d, total + n
        for student in self.workspace.notebooks:
            done, total = done + self.notebook_reviewed(student), total + 1
        return done, total

    def learned(self, qid: str) -> tuple[dict[str, Suggestion], dict[str, float]]:
        """Suggestions learned from the grades given so far (grader/review/learn.py) and how sure
        each ungraded one is."""
        texts = dict(self.workspace.questions[qid].answers)
        grades = {s: g.points for s in texts if (g := self.decisions.grades(s).get(qid)) is not None}
        cover = self.suggester.thresholds.cover
        return learned_suggestions(self.suggester.similarity, cover, texts, self.suggestions[qid], grades)

    def answers(self, qid: str) -> dict[str, Answer]:
        texts = dict(self.workspace.questions[qid].answers)
        shown, _ = self.learned(qid)
        return {
            s: Answer(s, t, shown[s], self.decisions.grades(s).get(qid), self.decisions.meta(s).get(qid, {}))
            for s, t in texts.items()
        }

    def grade(self, qid: str, students: list[str], points: float, comment: str) -> None:
        question = self.workspace.questions[qid].question
        if not 0 <= points <= question.points or (points * 2) % 1:
            raise ReviewInputError(f"points for {qid} must be 0 to {question.points:g} in steps of 0.5, got {points:g}")
        known = dict(self.workspace.questions[qid].answers)
        unknown = [s for s in students if s not in known]
        if unknown or not students:
            raise ReviewInputError(f"no answer to {qid} from {', '.join(unknown) or 'nobody'}")
        via = "group" if len(students) > 1 else "answer"
        shown, _ = self.learned(qid)
        for student in students:
            self.decisions.record(student, qid, Grade(points, comment), via, shown[student].points)
        regenerate(self.out, students, self.catalog, self.secret)

    def override(self, student: str, check: str, points: float, comment: str) -> None:
        document = self.workspace.notebooks[student]
        spec = next((c for c in document["checks"] if c["check"] == check), None)
        if spec is None:
            raise ReviewInputError(f"{student}'s notebook has no check {check!r}")
        if not 0 <= points <= spec["points_possible"]:
            raise ReviewInputError(f"points for {check} must be 0 to {spec['points_possible']:g}, got {points:g}")
        self.decisions.record(student, check, Grade(points, comment), "check")
        regenerate(self.out, [student], self.catalog, self.secret)

    def mark_reviewed(self, student: str) -> None:
        self.decisions.mark_reviewed(student)
        regenerate(self.out, [student], self.catalog, self.secret)


class ReviewInputError(GraderError):
    """A form value the workspace cannot take (points out of range, unknown student)."""


def csrf_token(secret: str, session: str) -> str:
    return hmac.new(secret.encode(), session.encode(), hashlib.sha256).hexdigest()


def create_app(
    out: Path,
    token: str | None = None,
    who: str = "instructor",
    model: str | None = None,
    catalog: Catalog | None = None,
    course_secret: bytes | None = None,
    practice: bool = False,
) -> Any:
    """The ASGI application for ``out``; ``app.state.token`` is the token to put in the URL.
    ``course_secret`` (None: the environment's) and ``practice``: see :meth:`Workspace.refuse_without_secret`."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    from grader.pages import render

    token = token or secrets.token_urlsafe(24)
    review = Review(out, catalog or Catalog.load(), who, model, course_secret, practice)
    secret = secrets.token_hex(32)

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        done, total = review.overall()
        session = request.cookies.get(SESSION_COOKIE, "")
        return HTMLResponse(
            render(template, csrf=csrf_token(secret, session), overall=(done, total), out=str(out), **context),
            status_code=status,
            headers={
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                "style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self'",
                "X-Frame-Options": "SAMEORIGIN",
                "Cache-Control": "no-store",
            },
        )

    async def form(request: Request) -> Any:
        data = await request.form()
        session = request.cookies.get(SESSION_COOKIE, "")
        if not session or not hmac.compare_digest(str(data.get("csrf", "")), csrf_token(secret, session)):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        return data

    def points_of(data: Any) -> float:
        try:
            return float(str(data.get("points", "")).strip())
        except ValueError:
            raise ReviewInputError(f"points must be a number, got {str(data.get('points', ''))[:40]!r}") from None

    def question_of(request: Request) -> str:
        qid = f"{request.path_params['bank']}/{request.path_params['local']}"
        if qid not in review.workspace.questions:
            raise HTTPException(404, f"no written question {qid} with answers in this batch")
        return qid

    def notebook_of(request: Request) -> str:
        student = request.path_params["student"]
        if student not in review.workspace.notebooks:
            raise HTTPException(404, f"no graded notebook for {student} in this batch")
        return student

    async def index(request: Request) -> Response:
        questions = []
        for qid, q in review.workspace.questions.items():
            done, total = review.progress(qid)
            questions.append(
                {
                    "id": qid,
                    "title": q.question.spec.get("title", ""),
                    "done": done,
                    "total": total,
                    "groups": len(review.groups[qid]),
                    "points": q.question.points,
                }
            )
        notebooks = [
            {
                "student": s,
                "points": review.workspace.rows[s]["points"],
                "possible": review.workspace.rows[s]["points_possible"],
                "status": d["status"],
                "reviewed": review.notebook_reviewed(s),
            }
            for s, d in review.workspace.notebooks.items()
        ]
        return page(
            request,
            "review_index.html.j2",
            questions=questions,
            notebooks=notebooks,
            students=len(review.workspace.rows),
            problems=review.workspace.problems,
            model=review.suggester.similarity.name,
            model_note=review.model_note,
        )

    async def question(request: Request) -> Response:
        qid = question_of(request)
        spec = review.workspace.questions[qid].question.spec
        answers = review.answers(qid)
        groups = []
        for number, group in enumerate(review.groups[qid], start=1):
            members = [answers[s] for s in group.members]
            decided = {m.grade for m in members}
            groups.append(
                {
                    "number": number,
                    "key": group.key,
                    "text": group.text,
                    "members": members,
                    "suggestion": answers[group.key].suggestion,
                    "grade": decided.pop() if len(decided) == 1 else None,
                    "done": sum(m.grade is not None for m in members),
                }
            )
        _, sure = review.learned(qid)  # once some are graded: the least sure ungraded groups first
        groups.sort(key=lambda g: (g["done"] == len(g["members"]), sure.get(g["key"], 1.0)) if sure else 0)
        done, total = review.progress(qid)
        ids = list(review.workspace.questions)
        position = ids.index(qid)
        return page(
            request,
            "review_question.html.j2",
            qid=qid,
            spec=spec,
            groups=groups,
            done=done,
            total=total,
            previous=ids[position - 1] if position else None,
            next=ids[position + 1] if position + 1 < len(ids) else None,
            steps=[i / 2 for i in range(int(spec["points"] * 2) + 1)],
        )

    async def grade(request: Request) -> Response:
        qid = question_of(request)
        data = await form(request)
        students = [str(s) for s in data.getlist("student")]
        try:
            review.grade(qid, students, points_of(data), str(data.get("comment", "")).strip())
        except ReviewInputError as exc:
            return page(request, "review_error.html.j2", status=400, message=str(exc), back=f"/q/{qid}")
        anchor = str(data.get("next", ""))
        return RedirectResponse(f"/q/{qid}" + (f"#{anchor}" if anchor.replace("-", "").isalnum() else ""), 303)

    async def notebook(request: Request) -> Response:
        student = notebook_of(request)
        grades = review.decisions.grades(student)
        document = reviewed_document(review.workspace.notebooks[student], grades)
        checks = [
            {
                **c,
                "grade": grades.get(c["check"]),
                "meta": review.decisions.meta(student).get(c["check"], {}),
                "auto": next(o for o in review.workspace.notebooks[student]["checks"] if o["check"] == c["check"]),
            }
            for c in document["checks"]
        ]
        students = list(review.workspace.notebooks)
        position = students.index(student)
        return page(
            request,
            "review_notebook.html.j2",
            student=student,
            doc=document,
            checks=checks,
            reviewed=review.decisions.meta(student).get(NOTEBOOK_REVIEWED),
            has_notebook=review.workspace.executed_notebook(student) is not None,
            next=students[position + 1] if position + 1 < len(students) else None,
        )

    async def executed(request: Request) -> Response:
        student = notebook_of(request)
        path = review.workspace.executed_notebook(student)
        if path is None:
            raise HTTPException(404, f"the batch kept no executed notebook for {student}")
        # The notebook's own output is untrusted: the sandbox policy runs none of its scripts.
        return HTMLResponse(
            notebook_html(path),
            headers={
                "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )

    async def override(request: Request) -> Response:
        student = notebook_of(request)
        data = await form(request)
        try:
            if data.get("action") == "reviewed":
                review.mark_reviewed(student)
            else:
                review.override(
                    student, str(data.get("check", "")), points_of(data), str(data.get("comment", "")).strip()
                )
        except ReviewInputError as exc:
            return page(request, "review_error.html.j2", status=400, message=str(exc), back=f"/nb/{student}")
        return RedirectResponse(f"/nb/{student}", 303)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return page(request, "review_error.html.j2", status=exc.status_code, message=exc.detail, back="/")

    routes = [
        Route("/", index),
        Route("/q/{bank}/{local}", question),
        Route("/q/{bank}/{local}", grade, methods=["POST"]),
        Route("/nb/{student}", notebook),
        Route("/nb/{student}", override, methods=["POST"]),
        Route("/nb/{student}/executed", executed),
    ]
    app = Starlette(
        routes=routes, middleware=[Middleware(TokenGate, token=token)], exception_handlers={HTTPException: http_error}
    )
    app.state.token = token
    app.state.review = review
    return app


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


def serve(
    out: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    who: str = "instructor",
    model: str | None = None,
    catalog: Catalog | None = None,
    echo: Any = print,
    course_secret: bytes | None = None,
    practice: bool = False,
) -> None:
    """Run the workspace with uvicorn until interrupted, printing the address with its token.
    The server holds ``out``'s server lock all along: a second one on ``out`` is refused."""
    import uvicorn

    read_rows(out)  # a folder that is no batch's output is refused before anything is written there
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    with ServerLock.acquire(out, host=shown, port=port):
        app = create_app(out, who=who, model=model, catalog=catalog, course_secret=course_secret, practice=practice)
        review = app.state.review
        done, total = review.overall()
        echo(
            f"reviewing {out}: {len(review.workspace.rows)} students, {len(review.workspace.questions)} written "
            f"questions, {len(review.workspace.notebooks)} notebook(s); reviewed {done} of {total}"
        )
        if review.model_note:
            echo(f"suggestions: {review.model_note}")
        echo(f"open http://{shown}:{port}/?token={app.state.token}")
        uvicorn.run(app, host=host, port=port, log_level="warning")
