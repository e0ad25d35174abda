"""A cap on every request body, as ASGI middleware: ``413`` for a body over the limit.

``Content-Length`` over the limit is refused before anything is read; a body without one
(chunked) or with a false one is counted chunk by chunk as the application reads it, and
refused as soon as the count passes the limit: the application's read fails, whatever it would
have answered is dropped, and the client gets the 413 instead. Uploads (``multipart/form-data``:
imports, attached files) have their own, larger limit.

Limits come from the settings (``max_request_bytes``, ``max_upload_bytes``; environment
``MASTERHALL_MAX_REQUEST_BYTES`` …). The answer is ``{"error": {"code": "too_large", "message",
"limit"}}`` (OpenAI's error shape under ``/v1``).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .openai_protocol import error_body


class BodyTooLarge(Exception):
    """Raised into the application's ``receive`` when the body passes the limit."""


def _limit_text(limit: int) -> str:
    return f"{limit:,} bytes ({limit / (1024 * 1024):.0f} MiB)" if limit >= 1024 * 1024 else f"{limit:,} bytes"


class BodyLimitMiddleware:
    """Answer ``413`` to requests whose body is over ``max_bytes`` (``max_upload_bytes`` for
    ``multipart/form-data``), counting what is streamed, not trusting ``Content-Length`` alone."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes or max_bytes

    def limit_for(self, scope: Scope) -> int:
        """The limit that applies to the request of ``scope``."""
        for name, value in scope.get("headers") or ():
            if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                return self.max_upload_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = next((v for k, v in scope.get("headers") or () if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(f"the request body is over the limit of {_limit_text(limit)}")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to the failed read is replaced by ours
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        message = f"the request body is over the limit of {_limit_text(limit)}"
        if str(scope.get("path", "")).startswith("/v1/"):
            body = error_body(message, "invalid_request_error", "request_too_large")
        else:
            body = {"error": {"code": "too_large", "message": message, "limit": limit}}
        payload = json.dumps(body).encode("utf-8")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
