"""``grader review OUT``: a local web application to grade what the batch could not.

Pages are rendered on the server from the grader's Jinja2 templates (autoescaped: a
student's ``<script>`` is shown as text) and work without any JavaScript build; a little
inline script adds keyboard shortcuts. Every request needs the random token printed at
start (``gate.py``); every POST also needs a per-session CSRF token from a hidden field.
Each decision is saved at once (``decisions.py``) and the student's result and the exports
regenerated (``state.py``). The handlers (``handlers.py``) reach the review through
``app.state``; what each page shows is built by ``pages.py``. One server serves a folder at
a time: a second one is refused (``lock.py``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from grader.quiz.bank import Catalog
from grader.review.gate import TokenGate
from grader.review.lock import ServerLock
from grader.review.state import Review
from grader.review.workspace import read_rows


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
    ``course_secret`` (None: the environment's) and ``practice``: see :meth:`Workspace.refuse_without_secret`.
    Starlette is imported here, so that a missing review extra is reported by the command."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from grader.review.handlers import EXCEPTION_HANDLERS, ROUTES

    token = token or secrets.token_urlsafe(24)
    review = Review(out, catalog or Catalog.load(), who, model, course_secret, practice)
    middleware = [Middleware(TokenGate, token=token)]
    app = Starlette(routes=ROUTES, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS)
    app.state.token = token
    app.state.review = review
    app.state.csrf_secret = secrets.token_hex(32)
    return app


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
