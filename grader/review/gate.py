"""The review server's gate: every request needs the random token printed at start (as
Jupyter does), given once in the URL and then kept in an HttpOnly, SameSite=Strict cookie;
each browser gets a session id, from which the CSRF token its forms carry is derived. Plain
ASGI, so that it needs nothing of Starlette."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

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


def csrf_token(secret: str, session: str) -> str:
    """The CSRF token of a browser's session: every POST must carry it in its form."""
    return hmac.new(secret.encode(), session.encode(), hashlib.sha256).hexdigest()
