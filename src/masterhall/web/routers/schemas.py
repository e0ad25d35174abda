"""Shapes shared by the ``/api`` routers, for the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel


class ApiError(BaseModel):
    """``{"error": {"code", "message", …}}``"""

    error: dict


#: The error responses a route documents.
ERRORS: dict = {400: {"model": ApiError}, 404: {"model": ApiError}}
#: A streaming route's responses: an event stream, or an error before it starts.
SSE_RESPONSES: dict = {200: {"content": {"text/event-stream": {}}}, **ERRORS}
