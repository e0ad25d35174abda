"""A pool of OpenAI-compatible inference servers behind one backend name.

Several base URLs serving the same model (``[backends.NAME] base_urls = [...]``, or a
comma-separated ``MASTERHALL_OPENAI_BASE_URL``) form one backend. For each request the pool picks
a server that is up:

- **Conversation-sticky**: the conversation's key — a hash of its system prompt and first user
  message, both fixed for a conversation's life (see the README's *How a turn is built*) — is
  ranked over the servers by rendezvous hashing (highest random weight), so every turn of a
  conversation goes to the same server, whose KV cache (llama.cpp ``--slots``/prompt cache, vLLM
  prefix caching) already holds its prompt. Every hall process ranks the same way, with no state
  shared between them.
- **Master-aware**: when the conversation's server is busy (``slots`` requests in flight from this
  process), the server ranked first for the master's system prompt alone is taken when free (it
  likely holds that prompt's prefix), else the least busy server.
- **Health checks**: ``GET {base_url}/models`` every ``health_interval_s`` seconds (a background
  thread, started on first use) marks servers up or down; a request that cannot reach its server
  marks it down at once.
- **Failover**: a request whose server cannot be reached, or fails before the first token, is sent
  to the next server (new requests never wait for a dead one). A server that dies *during* an
  answer cuts that answer: the stream ends with ``finish_reason`` ``error`` and a message naming
  the server and saying that the partial answer is kept and the next message goes to another server.

Each server is an :class:`~masterhall.backends.openai_compat.OpenAICompatBackend`.
:meth:`PoolBackend.servers` reports every server's state (``url``, ``up``, ``in_flight``,
``served``, ``failed``) for readiness and metrics; the final :class:`~masterhall.backends.base.Usage`
of a request carries the server that answered in ``extra["server"]``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import httpx

from ..catalog.models import SamplingParams
from .base import BackendError, ChatMessage, PromptStyle, Usage, estimate_tokens
from .openai_compat import DEFAULT_CONTEXT_WINDOW, OpenAICompatBackend


@dataclass
class PoolServer:
    """One server of a pool: its backend, whether it is up, requests in flight, served and failed."""

    url: str
    backend: OpenAICompatBackend
    up: bool = True
    in_flight: int = 0
    served: int = 0
    failed: int = 0
    last_error: str | None = None

    def to_dict(self) -> dict:
        """``{"url", "up", "in_flight", "served", "failed", "last_error"}``."""
        return {"url": self.url, "up": self.up, "in_flight": self.in_flight, "served": self.served,
                "failed": self.failed, "last_error": self.last_error}


def _rank(key: str, url: str) -> bytes:
    return hashlib.blake2b(f"{key}\x00{url}".encode(), digest_size=8).digest()


def routing_keys(messages: Sequence[ChatMessage]) -> tuple[str, str]:
    """``(conversation key, master key)`` of a request: its system prompt and first user message,
    and the system prompt alone."""
    system = next((m.content for m in messages if m.role == "system"), "")
    first_user = next((m.content for m in messages if m.role == "user"), "")
    return f"{system}\x00{first_user}", system


class PoolBackend:
    """Several OpenAI-compatible servers of one model (see the module docstring).

    ``base_urls``: the servers (each up to ``/v1``); ``slots``: requests one server runs at once
    (llama-server ``--parallel``); ``health_interval_s``: seconds between health checks;
    ``transport``: an httpx transport for tests. Other arguments as for
    :class:`~masterhall.backends.openai_compat.OpenAICompatBackend`.
    """

    def __init__(self, name: str, base_urls: Sequence[str], model: str, *, api_key_env: str = "MASTERHALL_OPENAI_API_KEY",
                 context_window: int | None = None, slots: int = 4, health_interval_s: float = 5.0,
                 timeout_s: float = 600.0, transport: httpx.BaseTransport | None = None):
        if not base_urls:
            raise BackendError(f"backend '{name}': a pool needs at least one base URL", "unavailable")
        self.name = name
        self.model = model
        self.slots = slots
        self.health_interval_s = health_interval_s
        self.transport = transport
        self._servers = [PoolServer(url.rstrip("/"), OpenAICompatBackend(
            name, url, model, api_key_env=api_key_env, context_window=context_window, timeout_s=timeout_s,
            transport=transport)) for url in base_urls]
        self.default_params = self._servers[0].backend.default_params
        self.max_temperature = self._servers[0].backend.max_temperature
        self.prompt_style: PromptStyle = "full"
        self._system_role = True
        self._lock = threading.Lock()
        self._checker: threading.Thread | None = None
        self._closed = threading.Event()

    # -- what the Backend protocol asks ---------------------------------------------------------
    @property
    def system_role(self) -> bool:
        """Whether the model's chat template takes a system message (same for every server)."""
        return self._system_role

    @system_role.setter
    def system_role(self, value: bool) -> None:
        self._system_role = value
        for server in self._servers:
            server.backend.system_role = value

    @property
    def context_window(self) -> int:
        """The context window of the first server that is up (they serve the same model)."""
        for server in self._servers:
            if server.up:
                return server.backend.context_window
        return self._servers[0].backend._configured_window or DEFAULT_CONTEXT_WINDOW

    @context_window.setter
    def context_window(self, tokens: int) -> None:
        for server in self._servers:
            server.backend.context_window = tokens

    def count_tokens(self, text: str) -> int:
        """Estimated tokens (as for one OpenAI-compatible server)."""
        return estimate_tokens(text)

    def servers(self) -> list[dict]:
        """Every server's state, in configuration order (see :meth:`PoolServer.to_dict`)."""
        with self._lock:
            return [s.to_dict() for s in self._servers]

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Stream from the server chosen for ``messages`` (module docstring), failing over to the
        next one while none has sent a token. Raises :class:`BackendError` (``unavailable``) when
        no server can take the request, naming each one tried and why."""
        self._start_checks()
        conversation_key, master_key = routing_keys(messages)
        tried: list[str] = []
        while True:
            server = self._choose(conversation_key, master_key, exclude={t.split(" ")[0] for t in tried})
            if server is None:
                why = "; ".join(tried) or "every server is marked down by its health check"
                raise BackendError(f"no inference server of '{self.name}' can take the request ({why})", "unavailable")
            try:
                stream = server.backend.stream_chat(messages, params)
            except BackendError as exc:
                self._done(server, ok=False)
                if exc.kind != "unavailable":
                    raise
                self._mark(server, False, str(exc))
                tried.append(f"{server.url} ({exc})")
                continue
            return self._tracked(server, stream)

    # -- internals --------------------------------------------------------------------------------
    def _choose(self, conversation_key: str, master_key: str, exclude: set[str]) -> PoolServer | None:
        with self._lock:
            candidates = [s for s in self._servers if s.url not in exclude and s.up]
            if not candidates:  # the health check may be wrong: try the ones it marked down, last
                candidates = [s for s in self._servers if s.url not in exclude]
            if not candidates:
                return None
            sticky = max(candidates, key=lambda s: _rank(conversation_key, s.url))
            chosen = sticky
            if sticky.in_flight >= self.slots:
                same_master = max(candidates, key=lambda s: _rank(master_key, s.url))
                chosen = same_master if same_master.in_flight < self.slots else min(candidates, key=lambda s: s.in_flight)
            chosen.in_flight += 1
            return chosen

    def _done(self, server: PoolServer, ok: bool) -> None:
        with self._lock:
            server.in_flight -= 1
            if ok:
                server.served += 1
            else:
                server.failed += 1

    def _mark(self, server: PoolServer, up: bool, error: str | None = None) -> None:
        with self._lock:
            server.up = up
            if error is not None:
                server.last_error = error

    def _tracked(self, server: PoolServer, stream: Iterator[str | Usage]) -> Iterator[str | Usage]:
        ok = False
        try:
            for item in stream:
                if isinstance(item, Usage):
                    item.extra["server"] = server.url
                    if item.finish_reason == "error":
                        cut = item.error or "the server failed"
                        self._mark(server, False, cut)
                        item.error = (f"the inference server {server.url} failed during the answer ({cut}); the partial "
                                      "answer is kept — send your message again and it goes to another server")
                    else:
                        ok = True
                yield item
        finally:
            self._done(server, ok)

    def _start_checks(self) -> None:
        if self._checker is not None:
            return
        with self._lock:
            if self._checker is None:
                self._checker = threading.Thread(target=self._check_loop, name=f"pool-health-{self.name}", daemon=True)
                self._checker.start()

    def _check_loop(self) -> None:
        while not self._closed.wait(self.health_interval_s):
            self.check_health()

    def check_health(self) -> list[dict]:
        """Ask every server ``GET {base_url}/models`` now (2 s timeout) and mark it up or down;
        returns :meth:`servers`."""
        for server in list(self._servers):
            started = time.perf_counter()
            try:
                with httpx.Client(timeout=2.0, transport=self.transport) as client:
                    response = client.get(f"{server.url}/models", headers=server.backend._headers())
                up, error = response.status_code < 500, None if response.status_code < 500 else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                up, error = False, f"health check failed after {time.perf_counter() - started:.1f} s: {exc}"
            self._mark(server, up, error)
        return self.servers()

    def close(self) -> None:
        """Stop the health checks."""
        self._closed.set()
