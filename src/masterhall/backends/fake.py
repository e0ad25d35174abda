"""A deterministic backend for tests and demos: queue replies, or get a predictable echo."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Iterator, Sequence

from ..catalog.models import SamplingParams
from .base import BackendError, ChatMessage, PromptStyle, Usage, cancelled_stream, current_cancel, estimate_tokens, fit_roles


class FakeBackend:
    """Streams queued replies word by word; with nothing queued, a deterministic echo.

    ``delay_s`` sleeps between deltas (to test Stop). ``first_token_delay_s``: ``stream_chat``
    blocks this long before it returns, as a real backend does while it reads a long prompt; a
    cancelled :func:`~masterhall.backends.base.cancel_scope` ends the wait at once (counted in
    ``cancelled``). Queue an ``Exception`` to make the next call raise it before streaming, or use
    :meth:`queue` with ``fail_after`` to fail mid-stream. ``calls`` records the messages and
    params of every request, for assertions (as sent: ``system_role=False`` folds the system
    message into the first user message, as for a template without a system role).
    ``prereads`` records every :meth:`preread` as ``(messages, streaming)``: the messages as they
    would be sent, and how many of this backend's answers were streaming at that moment.
    """

    def __init__(self, name: str = "fake", *, delay_s: float = 0.0, context_window: int = 4096,
                 first_token_delay_s: float = 0.0):
        self.name = name
        self.model = "fake"
        self.context_window = context_window
        self.default_params = SamplingParams()
        self.max_temperature: float | None = None
        self.prompt_style: PromptStyle = "full"
        self.delay_s = delay_s
        self.first_token_delay_s = first_token_delay_s
        self.system_role = True
        self.cancelled = 0
        self.calls: list[tuple[list[ChatMessage], SamplingParams]] = []
        self.prereads: list[tuple[list[ChatMessage], int]] = []
        self.streaming = 0
        self._queue: deque[tuple[str | Exception, int | None]] = deque()
        self._lock = threading.Lock()

    def queue(self, *replies: "str | Exception", fail_after: int | None = None) -> None:
        """Queue replies for the next calls; ``fail_after=N`` ends each with an error after N deltas."""
        with self._lock:
            for reply in replies:
                self._queue.append((reply, fail_after))

    def count_tokens(self, text: str) -> int:
        """Heuristic token count (see :func:`estimate_tokens`)."""
        return estimate_tokens(text)

    def preread(self, messages: Sequence[ChatMessage]) -> None:
        """Record a pre-read of a coming request's opening (see :func:`~masterhall.backends.base.preread`)."""
        with self._lock:
            self.prereads.append((list(fit_roles(messages, self.system_role)), self.streaming))

    def _next_reply(self, messages: Sequence[ChatMessage]) -> tuple[str | Exception, int | None]:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        return f"[fake] You said: {last}", None

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Yield the reply in word-sized deltas, then a :class:`Usage` with word counts."""
        messages = fit_roles(messages, self.system_role)
        self.calls.append((list(messages), params))
        reply, fail_after = self._next_reply(messages)
        if isinstance(reply, Exception):
            raise reply
        token = current_cancel()
        if self.first_token_delay_s and token is not None:
            token.wait(self.first_token_delay_s)
        elif self.first_token_delay_s:
            time.sleep(self.first_token_delay_s)
        if token is not None and token.cancelled:
            with self._lock:
                self.cancelled += 1
            return cancelled_stream()
        return self._stream(messages, params, reply, fail_after)

    def _stream(self, messages, params, reply: str, fail_after: int | None) -> Iterator[str | Usage]:
        start = time.perf_counter()
        prompt_tokens = sum(estimate_tokens(m.content) for m in messages)
        cuts = [reply.find(s) for s in params.stop or [] if s in reply]
        if cuts:  # as a server does: the reply ends where a stop sequence would begin
            reply = reply[:min(cuts)]
        pieces = _split_keep_space(reply)
        limit = params.max_tokens
        usage = Usage(prompt_tokens=prompt_tokens)
        emitted = 0
        with self._lock:
            self.streaming += 1
        try:
            for i, piece in enumerate(pieces):
                if limit is not None and emitted >= limit:
                    usage.finish_reason = "length"
                    break
                if fail_after is not None and i >= fail_after:
                    usage.finish_reason = "error"
                    usage.error = "fake backend failure"
                    break
                if self.delay_s:
                    time.sleep(self.delay_s)
                if usage.ttft_s is None:
                    usage.ttft_s = time.perf_counter() - start
                emitted += 1
                yield piece
        except GeneratorExit:
            return
        finally:
            with self._lock:
                self.streaming -= 1
        usage.completion_tokens = emitted
        elapsed = time.perf_counter() - start
        usage.tokens_per_s = emitted / elapsed if elapsed > 0 else None
        yield usage


def _split_keep_space(text: str) -> list[str]:
    """Split into deltas: words with their leading space; CJK text one character at a time."""
    pieces: list[str] = []
    word = ""
    for ch in text:
        if ch == " " and word.strip():
            pieces.append(word)
            word = ch
        elif ord(ch) > 0x2E80:
            if word:
                pieces.append(word)
                word = ""
            pieces.append(ch)
        else:
            word += ch
    if word:
        pieces.append(word)
    return pieces


__all__ = ["FakeBackend", "BackendError"]
