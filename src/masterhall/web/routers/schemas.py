"""Shapes shared by the routers, for the OpenAPI schema: the error bodies and each route's
documented responses, so that the schema says what the routes really answer (checked by the
schema fuzz test, ``tests/web/test_schema_fuzz.py``).

Every ``/api`` error is :class:`ApiError` (see ``web/errors.py``): 400 a request that cannot be
done or a body that cannot be read, 404 not found, 409 a clash with the hall's state, 413 too
large, 422 invalid input (request validation, an invalid master), 503 the backend is not
available. Every ``/v1`` error is :class:`OpenAIError`, with 400 for invalid input.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.responses import StreamingResponse


class ApiErrorBody(BaseModel):
    """``code``: a stable machine-readable name; ``message``: for people; other fields by error
    (``fields`` of an invalid master, ``details`` of request validation)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ApiError(BaseModel):
    """``{"error": {"code", "message", …}}``"""

    error: ApiErrorBody


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """OpenAI's ``{"error": {"message", "type", "param", "code"}}``."""

    error: OpenAIErrorBody


class EventStream(StreamingResponse):
    """The response class of the streaming routes, for the schema: ``text/event-stream``."""

    media_type = "text/event-stream"


_WHY = {400: "The request cannot be done as asked, or its body cannot be read",
        403: "Not yours to change (another person's master, or its instructions are private)", 404: "Not found",
        409: "Clashes with the hall's state", 413: "Too large", 422: "Invalid input",
        503: "The backend is not available"}


def errors(*codes: int) -> dict:
    """The ``responses`` of a route for these error statuses (422 is always added: every route
    validates its input)."""
    return {code: {"model": ApiError, "description": _WHY[code]} for code in sorted({*codes, 422})}


#: :class:`ApiError` as an inline JSON schema (for routes whose response class is not JSON).
API_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}


#: One event of a stream, as the OpenAPI schema of ``text/event-stream`` describes it (before 3.2).
SSE_EVENT_SCHEMA = {"type": "object", "required": ["data"], "properties": {
    "event": {"type": "string", "description": "start, loading, context, delta, done, error …"},
    "data": {"type": "string", "description": "The event's payload, JSON (``[DONE]`` ends a /v1 stream)"}}}


def stream(*codes: int) -> dict:
    """A streaming route's ``responses`` (its response class is :class:`EventStream`): the
    event stream, or a JSON error, one of ``codes`` (and 400, 422, 503), before it starts."""
    errors_ = {code: {"content": {"application/json": {"schema": API_ERROR_SCHEMA}}, "description": _WHY[code]}
               for code in sorted({400, 422, 503, *codes})}
    return {200: {"content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}, "description": "Server-Sent Events"},
            **errors_}


def files(*media_types: str, codes: tuple[int, ...] = (404,)) -> dict:
    """A download's ``responses``: the file in one of ``media_types`` (any when none)."""
    content = {t: {"schema": {"type": "object"} if t.endswith("json") else {"type": "string", "format": "binary"}}
               for t in media_types} or {"*/*": {}}
    return {200: {"content": content, "description": "The file, as an attachment"}, **errors(*codes)}


#: Compatibility names: a route that reads a resource, and a streaming route.
ERRORS: dict = errors(400, 404)
SSE_RESPONSES: dict = stream(404)
#: The ``/v1`` routes' errors; ``4XX`` also stands for the request validation errors (400, not 422).
OPENAI_ERRORS: dict = {"4XX": {"model": OpenAIError, "description": "Invalid request (400), unknown model (404)"},
                       502: {"model": OpenAIError, "description": "The backend failed"},
                       503: {"model": OpenAIError, "description": "The backend is not available"}}
