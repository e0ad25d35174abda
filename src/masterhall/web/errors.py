"""Typed errors → HTTP, in one place: every route raises, none builds an error response.

Under ``/api`` an error is ``{"error": {"code", "message", …details}}``; under ``/v1`` it is
OpenAI's ``{"error": {"message", "type", "param", "code"}}``. The status comes from the
exception's type (never from its message): see :data:`STATUS`. A browser asking for a page
(``Accept: text/html``, any path outside ``/api`` and ``/v1``) gets the hall's own HTML page
instead: the 404 page, or the error page for anything else (:func:`wants_html`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..backends.base import BackendError, UnknownBackendError
from ..builder.library import ImportRejectedError, InvalidMasterError
from ..chat.prompt import ContextTooLongError
from ..errors import (
    AuthenticationError,
    BuiltinReadOnlyError,
    ConflictError,
    ForbiddenError,
    HallError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    TooLargeError,
)
from ..finder.query import FinderQueryError
from .openai_protocol import error_body
from .templating import not_found, render_page

#: HTTP status of each error type; the first entry the error is an instance of wins.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (InvalidMasterError, 422),
    (ImportRejectedError, 422),
    (TooLargeError, 413),
    (AuthenticationError, 401),
    (RateLimitedError, 429),
    (NotFoundError, 404),
    (ForbiddenError, 403),
    (ConflictError, 409),
    (InvalidRequestError, 400),
    (FinderQueryError, 400),
    (ContextTooLongError, 400),
)
#: Status of a :class:`BackendError` by its kind (others: 500).
BACKEND_STATUS = {"unavailable": 503, "context_length": 400, "bad_request": 400}


def status_of(exc: Exception) -> int:
    """The HTTP status for ``exc`` (500 for anything unexpected)."""
    if isinstance(exc, UnknownBackendError):
        return 404
    if isinstance(exc, BackendError):
        return BACKEND_STATUS.get(exc.kind, 500)
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 500)


def api_error(status: int, code: str, message: str, **extra) -> JSONResponse:
    """The /api error shape: ``{"error": {"code", "message", …extra}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def openai_error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> JSONResponse:
    """A JSON error response in OpenAI's shape."""
    return JSONResponse(error_body(message, type_, code, param), status_code=status)


def _code(exc: Exception) -> str:
    if isinstance(exc, HallError):
        return exc.code
    if isinstance(exc, FinderQueryError):
        return "invalid_query"
    if isinstance(exc, ContextTooLongError):
        return "context_length"
    if isinstance(exc, BackendError):
        return exc.kind
    return "internal"


def _api_response(exc: Exception) -> JSONResponse:
    status = status_of(exc)
    extra = dict(exc.details) if isinstance(exc, HallError) else {}
    if isinstance(exc, BuiltinReadOnlyError) and exc.field:
        extra["fields"] = [{"field": exc.field, "message": str(exc)}]
    message = str(exc) if status < 500 or isinstance(exc, (HallError, BackendError)) else f"internal error: {exc}"
    return _with_retry_after(api_error(status, _code(exc), message, **extra), exc)


def _with_retry_after(response: JSONResponse, exc: Exception) -> JSONResponse:
    """``response`` with a ``Retry-After`` header when ``exc`` says how long to wait."""
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _openai_response(exc: Exception) -> JSONResponse:
    status = status_of(exc)
    if isinstance(exc, UnknownBackendError):
        return openai_error(404, f"The model '{exc.name}' does not exist. GET /v1/models lists the masters.",
                            code="model_not_found", param="model")
    if isinstance(exc, ContextTooLongError) or (isinstance(exc, BackendError) and exc.kind == "context_length"):
        return openai_error(400, str(exc), code="context_length_exceeded", param="messages")
    if isinstance(exc, BackendError):
        return openai_error(status, str(exc), type_="server_error" if status >= 500 else "invalid_request_error",
                            code=exc.kind)
    if status >= 500:
        return openai_error(500, f"internal error: {exc}", type_="server_error")
    if isinstance(exc, HallError) and status in (401, 403, 429):
        return _with_retry_after(openai_error(status, str(exc), code=exc.code), exc)
    param = exc.details.get("param") if isinstance(exc, HallError) else None  # what the request got wrong
    return openai_error(status, str(exc), code=getattr(exc, "code", None) if param else None,
                        param=param or ("messages" if isinstance(exc, InvalidRequestError) else None))


def openai_backend_error(message: str, kind: str) -> JSONResponse:
    """The ``/v1`` error response of a turn whose backend failed before any text (``kind`` as
    in :class:`BackendError`; ``internal`` and unknown kinds answer 502)."""
    if kind not in BACKEND_STATUS:
        return openai_error(502, message, type_="server_error", code="backend_error")
    return _openai_response(BackendError(message, kind))


def wants_html(request: Request) -> bool:
    """Whether ``request`` is a browser's page request: outside ``/api`` and ``/v1``, and its
    ``Accept`` header names ``text/html`` (API clients and scripts keep getting JSON)."""
    path = request.url.path
    if path == "/api" or path.startswith(("/api/", "/v1/")) or path == "/v1":
        return False
    return "text/html" in request.headers.get("accept", "")


def html_error(request: Request, status: int) -> HTMLResponse:
    """The hall's own page for an HTTP error ``status`` (404: "nothing here"; others: "something
    went wrong", with that status). Rendered in the visitor's language like every page."""
    if status == 404:
        return not_found(request, "not_found_page")
    return render_page(request, "error.html", status_code=status)


def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The response for ``exc`` raised while serving ``request`` (OpenAI's shape under ``/v1``)."""
    if request.url.path.startswith("/v1/"):
        return _openai_response(exc)
    return _api_response(exc)


async def _handle(request: Request, exc: Exception) -> JSONResponse | HTMLResponse:
    if wants_html(request):
        try:
            return html_error(request, status_of(exc))
        except Exception:  # the page itself failed: the plain answer below still reaches the visitor
            pass
    return error_response(request, exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors_ = exc.errors()
    # a union's branches each report an error: the hall's own check (a value error) says most
    first = next((e for e in errors_ if e.get("type") == "value_error"), errors_[0]) if errors_ else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body" and "[" not in str(p))  # no union branch tags
    msg = str(first["msg"]).removeprefix("Value error, ")
    message = f"{where}: {msg}" if where else msg
    if request.url.path.startswith("/v1/"):
        return JSONResponse(error_body(message, param=where or None), status_code=400)
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
               for e in exc.errors()]
    if first.get("type") == "model_attributes_type":
        message = "The request body must be a JSON object sent with Content-Type: application/json."
    return JSONResponse({"error": {"code": "invalid_request", "message": message, "details": details}}, status_code=422)


#: ``code`` of an HTTP error raised by the framework itself (a body that is not JSON, no such route …).
HTTP_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
              415: "unsupported_media_type"}


async def _http_error(request: Request, exc: StarletteHTTPException):
    """The framework's own HTTP errors (unreadable body, unknown route, wrong method) in the
    API's error shapes under ``/api`` and ``/v1``; a browser's page request gets the hall's page;
    other requests keep the framework's answer."""
    path = request.url.path
    if not (path.startswith("/api/") or path.startswith("/v1/")):
        if wants_html(request) and exc.status_code >= 400:
            response = html_error(request, exc.status_code)
            response.headers.update(getattr(exc, "headers", None) or {})
            return response
        return await http_exception_handler(request, exc)
    message = exc.detail if isinstance(exc.detail, str) else "invalid request"
    if exc.status_code == 400 and "parsing the body" in message:
        message = "The request body could not be read: send valid UTF-8 JSON with Content-Type: application/json."
    headers = getattr(exc, "headers", None)
    if path.startswith("/v1/"):
        response = openai_error(exc.status_code, message, code=HTTP_CODES.get(exc.status_code))
    else:
        response = api_error(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), message)
    response.headers.update(headers or {})
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``: the hall's typed errors, backend and prompt errors,
    request validation (422 under ``/api``, 400 under ``/v1``), the framework's HTTP errors (in
    the API's shapes) and anything unexpected (500)."""
    for kind in (HallError, BackendError, ContextTooLongError, FinderQueryError):
        app.add_exception_handler(kind, _handle)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _handle)
