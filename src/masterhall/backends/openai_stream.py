"""One reader of OpenAI-style streamed chat chunks (``chat.completion.chunk``), for every backend.

The llama.cpp backend gets chunks as dicts from xllamacpp's callback, the OpenAI-compatible one
decodes them from the ``data:`` lines of a Server-Sent Events response; both hand them to
:func:`parse_chunk` and add them up with a :class:`UsageMeter`, so they agree on what a chunk
means: its text, its finish reason (``length`` or ``stop``), its token counts (a ``null`` count is
0), llama.cpp's ``timings`` (decode speed), and an error with its kind (``context_length`` when
the error's type or code names the context, else ``bad_request``).

Shapes follow OpenAI's streaming chat completions and llama.cpp's server, which adds ``timings``
(``predicted_per_second``, ``prompt_per_second``) to its last chunks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable

from .base import FinishReason, Usage

#: What :func:`parse_sse_line` returns for ``data: [DONE]``.
DONE = object()


@dataclass(frozen=True)
class StreamError:
    """An error a server streamed instead of (or after some) text; ``kind`` as in :class:`~masterhall.backends.BackendError`."""

    message: str
    kind: str


@dataclass(frozen=True)
class Chunk:
    """What one streamed chunk says: ``text`` (its deltas' content joined, ``""`` for none),
    ``finish`` (``stop`` or ``length``; ``None`` until the last choice), ``usage`` (the raw
    token counts, when present), ``timings`` (llama.cpp's, when present) and ``error``."""

    text: str = ""
    finish: FinishReason | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    error: StreamError | None = None

    @property
    def plain(self) -> bool:
        """True for a chunk of text only, which a backend may merge with the next one."""
        return self.error is None and self.finish is None and not self.usage and not self.timings


def error_message(err: object, default: str = "unknown error from the model server") -> str:
    """The readable message of an error object (``{"message": …}``), a JSON body or plain text (≤ 500 characters)."""
    if isinstance(err, (bytes, str)):
        text = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
        try:
            err = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return text[:500] or default
        if isinstance(err, dict):
            err = err.get("error", err)
    if isinstance(err, dict):
        return str(err.get("message") or err)[:500]
    return (str(err) if err is not None else default)[:500]


def error_kind(err: object) -> str:
    """``context_length`` when the error is about the context window, else ``bad_request``.

    Looks at the error's ``type`` and ``code`` (OpenAI: ``context_length_exceeded``; llama.cpp:
    ``exceed_context_size_error``), and at the text when neither is given.
    """
    if isinstance(err, (bytes, str)):
        text = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
        try:
            err = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return "context_length" if "context" in text.lower() else "bad_request"
        if isinstance(err, dict):
            err = err.get("error", err)
    if isinstance(err, dict):
        labels = f"{err.get('type') or ''} {err.get('code') or ''}".strip()
        text = labels or str(err.get("message", ""))
    else:
        text = str(err)
    return "context_length" if "context" in text.lower() else "bad_request"


def parse_chunk(data: object) -> Chunk:
    """Read one chunk (a decoded JSON object; anything else reads as an empty chunk)."""
    if not isinstance(data, dict):
        return Chunk()
    if "error" in data:
        err = data["error"] or {}
        return Chunk(error=StreamError(error_message(err), error_kind(err)))
    texts: list[str] = []
    finish: FinishReason | None = None
    for choice in data.get("choices") or ():
        content = (choice.get("delta") or {}).get("content")
        if content:
            texts.append(content)
        if choice.get("finish_reason"):
            finish = "length" if choice["finish_reason"] == "length" else "stop"
    return Chunk("".join(texts), finish, data.get("usage") or None, data.get("timings") or None)


def parse_sse_line(line: str) -> Chunk | object | None:
    """One line of an SSE response: a :class:`Chunk` for ``data: {json}``, :data:`DONE` for
    ``data: [DONE]``, ``None`` for anything else (comments, event names, undecodable data)."""
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == "[DONE]":
        return DONE
    try:
        return parse_chunk(json.loads(payload))
    except json.JSONDecodeError:
        return None


def leading_error(chunks: Iterable[Chunk]) -> StreamError | None:
    """The error among ``chunks`` that comes before any text, if one does."""
    for chunk in chunks:
        if chunk.error is not None:
            return chunk.error
        if chunk.text:
            return None
    return None


class UsageMeter:
    """Adds up one stream's chunks into its :class:`~masterhall.backends.Usage`.

    ``start``: ``time.perf_counter()`` when the request was sent (TTFT is measured from it).
    :meth:`add` each chunk as it is read; :meth:`done` gives the usage: the server's token counts
    (else one completion token per text chunk), the decode speed from llama.cpp's ``timings``
    (else completion tokens after the first / seconds since the first text).
    """

    def __init__(self, start: float):
        self.start = start
        self.usage = Usage()
        self.deltas = 0
        #: True once a chunk said why the answer ended (a stream cut before that is not whole).
        self.finished = False
        self._first_at: float | None = None

    @property
    def started(self) -> bool:
        """True once some text was read."""
        return self._first_at is not None

    def add(self, chunk: Chunk) -> str:
        """Record ``chunk``; returns its text (``""`` for none). An error chunk ends the stream as failed."""
        if chunk.error is not None:
            self.fail(chunk.error.message)
            return ""
        if chunk.text:
            if self._first_at is None:
                self._first_at = time.perf_counter()
                self.usage.ttft_s = self._first_at - self.start
            self.deltas += 1
        if chunk.finish:
            self.usage.finish_reason = chunk.finish
            self.finished = True
        if chunk.usage:
            self.usage.prompt_tokens = chunk.usage.get("prompt_tokens") or 0
            self.usage.completion_tokens = chunk.usage.get("completion_tokens") or 0
            details = chunk.usage.get("prompt_tokens_details") or {}
            self.usage.cached_tokens = details.get("cached_tokens")
        if chunk.timings:
            self.usage.tokens_per_s = chunk.timings.get("predicted_per_second") or self.usage.tokens_per_s
            self.usage.extra["prompt_per_second"] = chunk.timings.get("prompt_per_second")
        return chunk.text

    def fail(self, message: str) -> None:
        """End the stream as failed (``finish_reason="error"``) with ``message``."""
        self.usage.finish_reason, self.usage.error = "error", message

    def done(self) -> Usage:
        """The stream's usage, with the fallbacks filled in."""
        usage = self.usage
        if not usage.completion_tokens:
            usage.completion_tokens = self.deltas
        if usage.tokens_per_s is None and self._first_at is not None and usage.completion_tokens > 1:
            usage.tokens_per_s = (usage.completion_tokens - 1) / max(time.perf_counter() - self._first_at, 1e-9)
        return usage
