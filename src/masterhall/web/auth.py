"""Who is asking: pure ASGI middleware that puts the request's :class:`~masterhall.accounts.Caller`
on ``request.state.caller`` (read by :data:`~masterhall.web.deps.CallerDep`).

- **A hall without accounts** (none in the database): nothing is checked here; every request is
  :data:`~masterhall.accounts.LOCAL`, as before accounts existed (the security middleware still
  keeps other web pages out).
- **A hall with accounts**: ``Authorization: Bearer <key>`` is resolved as an API key — an
  invalid, revoked or disabled account's key is refused with 401 (never passed on as if no
  header was sent, so the security middleware's "a bearer key may write cross-origin" holds
  only for a *valid* key). Else the session cookie (:data:`SESSION_COOKIE`) is resolved.
  Without a caller, only :data:`PUBLIC_PREFIXES` are served (the sign-in page, static files,
  ``/api/status``, ``/healthz``, ``/readyz``, the language switch); ``/v1/…`` answers 401 in OpenAI's error shape,
  ``/api/…`` 401 in the hall's, WebSockets close with 1008, and pages redirect to
  ``/login?next=…``.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request, cookie_parser
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..accounts import Caller
from ..accounts.service import SESSION_TTL, AccountService, SignIn
from .errors import api_error, openai_error

#: Name of the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS; its value is a random token).
SESSION_COOKIE = "mh_session"
#: Paths anyone may request in a hall with accounts (an exact path, or a prefix ending in ``/``).
PUBLIC_PREFIXES = ("/login", "/static/", "/api/status", "/lang/", "/robots.txt", "/healthz", "/readyz")
LOGIN_PATH = "/login"
#: Public paths served without even looking at the session cookie (nothing there depends on who asks).
SKIP_PREFIXES = ("/static/", "/lang/")
SKIP_PATHS = ("/api/status", "/healthz", "/readyz")


def is_public(path: str) -> bool:
    """Whether ``path`` is served without a caller in a hall with accounts."""
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PREFIXES)


def bearer_token(headers: dict[str, str]) -> str | None:
    """The key of an ``Authorization: Bearer …`` header (lower-case ``headers``), else ``None``."""
    value = headers.get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def unauthenticated(path: str, query: str, *, bad_key: bool) -> Response:
    """The answer to a request without a caller (see the module docstring)."""
    if path.startswith("/v1/") or path == "/v1":
        message = ("Incorrect API key provided." if bad_key else
                   "You didn't provide an API key. Send 'Authorization: Bearer <key>' (see 'masterhall keys create').")
        response = openai_error(401, message, type_="invalid_request_error", code="invalid_api_key")
    elif path.startswith("/api/") or path in ("/api", "/metrics") or bad_key:
        response = api_error(401, "invalid_api_key" if bad_key else "unauthenticated",
                             "The API key is not valid (unknown, revoked, or its account is disabled)." if bad_key else
                             "Sign in, or send an API key as 'Authorization: Bearer <key>'.")
    else:
        target = path + (f"?{query}" if query else "")
        return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='/')}" if target != "/" else LOGIN_PATH,
                                status_code=303)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


class AuthMiddleware:
    """Resolve each HTTP and WebSocket request to a caller (module docstring); ``accounts`` is
    called on every request and returns the hall's :class:`AccountService` (``None``: no accounts)."""

    def __init__(self, app: ASGIApp, accounts: Callable[[], AccountService | None]):
        self.app = app
        self._accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accounts = self._accounts() if scope["type"] in ("http", "websocket") else None
        if accounts is None or not accounts.has_accounts():
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        key = bearer_token(headers)
        path = scope.get("path", "")
        if key is None and (path.startswith(SKIP_PREFIXES) or path in SKIP_PATHS):  # no database query for every stylesheet
            await self.app(scope, receive, send)
            return
        caller: Caller | None = None
        if key is not None:
            caller = await run_in_threadpool(accounts.resolve_key, key)
        else:
            token = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
            if token:
                caller = await run_in_threadpool(accounts.resolve_session, token)
        if caller is not None:
            scope["state"] = {**scope.get("state", {}), "caller": caller}
        elif key is not None or not is_public(path):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "unauthenticated"})
                return
            response = unauthenticated(path, scope.get("query_string", b"").decode("latin-1"), bad_key=key is not None)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def set_session_cookie(response: Response, request: Request, sign_in: SignIn) -> None:
    """Put the session's token in the cookie: HttpOnly, SameSite=Lax, path ``/``, Secure when the
    request came over HTTPS (uvicorn takes ``X-Forwarded-Proto`` from trusted proxies)."""
    response.set_cookie(SESSION_COOKIE, sign_in.token, max_age=int(SESSION_TTL.total_seconds()), path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


def clear_session_cookie(response: Response, request: Request) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
