"""Stop while the prompt is read: a cancelled request ends at once, before any token, and is
cancelled on the model's side (the in-process engine drops it at its next prompt batch; a remote
server sees its connection close)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from masterhall.backends.base import CancelToken, ChatMessage, Usage, cancel_scope
from masterhall.backends.llamacpp import LlamaCppBackend
from masterhall.backends.openai_compat import OpenAICompatBackend
from masterhall.catalog.models import SamplingParams

MESSAGES = [ChatMessage("user", "a very long prompt")]


class SlowPromptEngine:
    """Stands in for ``xllamacpp.Server`` reading a long prompt: one ``prompt_progress`` chunk per
    batch (every ``batch_s`` seconds), then text; records whether its callback asked to stop."""

    listening_address = "http://127.0.0.1:9"

    def __init__(self, batches: int = 200, batch_s: float = 0.02):
        self.batches, self.batch_s = batches, batch_s
        self.read = 0
        self.requests: list[dict] = []
        self.stopped = threading.Event()

    def handle_chat_completions(self, request, callback):
        self.requests.append(request)
        for i in range(self.batches):
            time.sleep(self.batch_s)
            self.read = i + 1
            if callback({"choices": [], "prompt_progress": {"total": self.batches, "processed": i + 1}}):
                self.stopped.set()
                return
        for text in ("Hello", " there"):
            if callback({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}):
                self.stopped.set()
                return


def test_llamacpp_stop_while_the_prompt_is_read_ends_at_once_and_the_engine_drops_the_request():
    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, prewarm=False)
    engine = SlowPromptEngine()
    backend._server = engine
    backend._props = {}  # no chat template to read
    token = CancelToken()

    def stop_once_reading() -> None:  # Stop while the engine is two batches into the prompt
        while engine.read < 2:
            time.sleep(0.005)
        token.cancel()

    threading.Thread(target=stop_once_reading, daemon=True).start()
    started = time.monotonic()
    with cancel_scope(token):
        items = list(backend.stream_chat(MESSAGES, SamplingParams()))
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # the whole prompt takes 4 s
    assert len(items) == 1 and isinstance(items[0], Usage) and items[0].finish_reason == "cancelled"
    assert engine.requests[0]["return_progress"] is True  # the engine calls back while it reads the prompt
    assert engine.stopped.wait(1.0) and engine.read < engine.batches  # dropped at the next batch
    assert backend._admission.acquire(timeout=1.0)  # its place in the queue is free again


def test_llamacpp_without_a_stop_streams_as_before():
    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, prewarm=False, stream_interval_s=0.0)
    backend._server = SlowPromptEngine(batches=3, batch_s=0.0)
    with cancel_scope(CancelToken()):
        items = list(backend.stream_chat(MESSAGES, SamplingParams()))
    assert items[:-1] == ["Hello", " there"] and items[-1].finish_reason == "stop"


class SlowServer:
    """A one-request HTTP server on 127.0.0.1 that reads the request, then (like a server reading
    a long prompt) sends nothing — or only the response headers (``headers_first``) — for 30 s.
    ``gone_after`` is how long after the request the client closed its connection."""

    def __init__(self, headers_first: bool):
        self.headers_first = headers_first
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.received = threading.Event()
        self.gone = threading.Event()
        self.gone_after: float | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        while len(body) < length:
            body += conn.recv(65536)
        received_at = time.monotonic()
        self.received.set()
        if self.headers_first:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.settimeout(30)
        try:
            if conn.recv(1) == b"":  # the client closed the connection
                self.gone_after = time.monotonic() - received_at
                self.gone.set()
        except OSError:
            self.gone_after = time.monotonic() - received_at
            self.gone.set()
        finally:
            conn.close()
            self.sock.close()


@pytest.mark.parametrize("headers_first", [False, True], ids=["before-headers", "after-headers"])
def test_remote_stop_while_the_prompt_is_read_closes_the_connection_at_once(headers_first):
    server = SlowServer(headers_first)
    backend = OpenAICompatBackend("remote", server.url, "m", context_window=4096)
    token = CancelToken()
    threading.Thread(target=lambda: server.received.wait(5) and (time.sleep(0.1), token.cancel()), daemon=True).start()
    started = time.monotonic()
    with cancel_scope(token):
        items = list(backend.stream_chat(MESSAGES, SamplingParams()))
    assert time.monotonic() - started < 2.0
    assert len(items) == 1 and items[0].finish_reason == "cancelled"
    assert server.gone.wait(2.0) and server.gone_after < 1.0  # the server saw the client leave


def test_a_request_cancelled_before_it_starts_is_not_sent():
    backend = OpenAICompatBackend("remote", "http://127.0.0.1:9/v1", "m", context_window=4096)
    token = CancelToken()
    token.cancel()
    with cancel_scope(token):
        items = list(backend.stream_chat(MESSAGES, SamplingParams()))
    assert [u.finish_reason for u in items] == ["cancelled"]
