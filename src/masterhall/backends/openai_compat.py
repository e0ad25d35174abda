"""Any OpenAI-compatible chat server: llama.cpp server, Ollama, LM Studio, vLLM, MLC, OpenAI.

Speaks ``POST {base_url}/chat/completions`` with ``stream: true`` and reads the Server-Sent
Events stream (``data: {json}`` lines, ending with ``data: [DONE]``) with httpx; the chunks are
read by :mod:`~masterhall.backends.openai_stream`, as the llama.cpp backend's are.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from typing import Iterator, Sequence

import httpx

from ..catalog.models import SamplingParams
from .base import BackendError, CancelToken, ChatMessage, PromptStyle, Usage, cancelled_stream, current_cancel, estimate_tokens, fit_roles
from .openai_stream import DONE, Chunk, UsageMeter, error_kind, error_message, leading_error, parse_sse_line
from .sampling import model_defaults, model_max_temperature, request_fields
from .window import server_context_window

#: Context window assumed for a server that reports none and has none configured (tokens).
DEFAULT_CONTEXT_WINDOW = 8192


class OpenAICompatBackend:
    """A model behind an OpenAI-compatible HTTP API.

    ``base_url`` ends before ``/chat/completions`` (e.g. ``http://127.0.0.1:11434/v1``);
    the API key is read from the environment variable ``api_key_env`` at request time (no key is
    sent when it is unset). ``context_window``: tokens per conversation. Unset, it is read from
    the server on first use (vLLM, llama.cpp server, Ollama: see :mod:`.window`), else
    :data:`DEFAULT_CONTEXT_WINDOW`; set, it is still capped by what the server reports (a prompt
    over the server's window would be refused). ``context_source`` says which it was:
    ``server``, ``configured`` or ``default``.
    ``transport``: an httpx transport to use instead of the network (tests serve canned streams).
    ``system_role``: False for a model whose chat template has no system role (Gemma, early
    Mistral): the system message then opens the first user message (see :func:`fit_roles`).
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "MASTERHALL_OPENAI_API_KEY",
        context_window: int | None = None,
        timeout_s: float = 600.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self._configured_window = context_window
        self._window: int | None = None
        self._window_lock = threading.Lock()
        self.context_source = "configured" if context_window else "default"
        self.default_params = model_defaults(model)
        self.max_temperature = model_max_temperature(model)
        self.prompt_style: PromptStyle = "full"
        self.timeout_s = timeout_s
        self.transport = transport
        self.system_role = True

    @property
    def context_window(self) -> int:
        """Tokens per conversation (see the class docstring); the server is asked once."""
        if self._window is None:
            with self._window_lock:
                if self._window is None:
                    configured = self._configured_window
                    try:
                        reported = server_context_window(self.base_url, self.model, headers=self._headers(),
                                                         transport=self.transport)
                    except httpx.TransportError:  # down for now: assume, and ask again next time
                        return configured or DEFAULT_CONTEXT_WINDOW
                    if reported and (not configured or reported < configured):
                        self._window, self.context_source = reported, "server"
                    else:
                        self._window = configured or DEFAULT_CONTEXT_WINDOW
        return self._window

    @context_window.setter
    def context_window(self, tokens: int) -> None:
        self._window, self.context_source = tokens, "configured"

    def count_tokens(self, text: str) -> int:
        """Estimated tokens (no tokenizer endpoint is standard in the OpenAI API)."""
        return estimate_tokens(text)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Stream from ``/chat/completions``; raises :class:`BackendError` if the request fails or
        the server streams an error before any text (see :class:`~masterhall.backends.Backend`)."""
        body: dict = {
            "model": self.model,
            "messages": [m.to_dict() for m in fit_roles(messages, self.system_role)],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        body.update(request_fields(params))
        token = current_cancel()
        if token is not None and token.cancelled:
            return cancelled_stream()
        client = httpx.Client(timeout=httpx.Timeout(self.timeout_s, connect=10.0), transport=self.transport)
        line = _Line(token)
        meter = UsageMeter(time.perf_counter())
        try:
            try:
                response = client.send(
                    client.build_request("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                                         extensions={"trace": line.trace}),
                    stream=True,
                )
            except httpx.HTTPError as exc:
                client.close()
                if line.cancelled:
                    return cancelled_stream()
                raise BackendError(f"cannot reach {self.base_url}: {exc}", "unavailable") from exc
            if response.status_code >= 400:
                detail = response.read()
                response.close()
                client.close()
                kind = "context_length" if error_kind(detail) == "context_length" else (
                    "unavailable" if response.status_code in (404, 502, 503) else "bad_request")
                raise BackendError(f"{self.base_url} answered {response.status_code}: {error_message(detail)}", kind)
            ended = [False]
            chunks = _chunks(response, ended)
            read: list[Chunk] = []  # what came before the first text
            try:
                for chunk in chunks:
                    read.append(chunk)
                    error = leading_error(read)
                    if error is not None:
                        raise BackendError(error.message, error.kind)
                    if chunk.text:
                        break
            except httpx.HTTPError as exc:
                response.close()
                client.close()
                if line.cancelled:
                    return cancelled_stream()
                raise BackendError(f"connection lost: {exc}", "unavailable") from exc
            except BaseException:
                response.close()
                client.close()
                raise
            if line.cancelled and not any(c.text for c in read):
                response.close()
                client.close()
                return cancelled_stream()
        except BaseException:
            line.forget()
            raise
        return self._consume(client, response, read, chunks, meter, line, ended)

    def _consume(self, client: httpx.Client, response: httpx.Response, read: list[Chunk],
                 chunks: Iterator[Chunk], meter: UsageMeter, line: "_Line", ended: list[bool]) -> Iterator[str | Usage]:
        try:
            for chunk in itertools.chain(read, chunks):
                text = meter.add(chunk)
                if text:
                    yield text
                if chunk.error is not None:
                    ended[0] = True
                    break
            if not (ended[0] or meter.finished or line.cancelled):  # the connection closed mid-answer
                meter.fail("the server closed the connection before the answer ended")
        except httpx.HTTPError as exc:
            if line.cancelled:
                meter.usage.finish_reason = "cancelled"
            else:
                meter.fail(f"connection lost: {exc}")
        finally:
            line.forget()
            response.close()
            client.close()
        yield meter.done()


class _Line:
    """The connection of one request, cut when its :class:`CancelToken` is cancelled.

    httpx reports the socket it opens through its ``trace`` extension; cancelling shuts the
    socket down (``SHUT_RDWR``), which wakes the thread blocked reading it (waiting for the
    response headers or the first token) and tells the server the client has gone, so the
    server stops reading the prompt (llama.cpp's server, vLLM and Ollama cancel a request whose
    connection closed). Closing the socket alone would do neither while another thread reads it.
    """

    def __init__(self, token: CancelToken | None):
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._token = token
        self.forget = token.on_cancel(self._cut) if token is not None else (lambda: None)

    @property
    def cancelled(self) -> bool:
        """True when the request's token was cancelled."""
        return self._token is not None and self._token.cancelled

    def trace(self, event: str, info: dict) -> None:
        """httpx's trace hook: keep the socket once connected (cut it at once if already cancelled)."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock
        if self.cancelled:
            self._cut()

    def _cut(self) -> None:
        with self._lock:
            sock = self._socket
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _chunks(response: httpx.Response, ended: list[bool] | None = None) -> Iterator[Chunk]:
    """The parsed chunks of an SSE response, up to ``data: [DONE]`` (which sets ``ended[0]``:
    the stream was not cut)."""
    for line in response.iter_lines():
        item = parse_sse_line(line)
        if item is DONE:
            if ended is not None:
                ended[0] = True
            return
        if item is not None:
            yield item  # type: ignore[misc]
