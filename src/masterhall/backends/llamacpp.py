"""llama.cpp in-process through ``xllamacpp`` (any GGUF, the embedded model by default).

xllamacpp runs llama.cpp's own server engine inside this process: the GGUF's chat template,
parallel slots with continuous batching, and reuse of the KV cache of the longest common prompt
prefix (``cache_prompt``), so turn N+1 of a conversation only reads its new tokens. It also
listens on a loopback HTTP port (llama.cpp server API), which we use for exact token counts.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, Sequence

from ..catalog.models import SamplingParams
from .base import BackendError, ChatMessage, Usage, estimate_tokens

_END = object()
_ENGINES: dict[tuple, object] = {}
_ENGINES_LOCK = threading.Lock()


def default_threads() -> int:
    """Threads for decoding: the machine's CPU count, capped at 8 (llama.cpp gains little past that)."""
    return max(1, min(os.cpu_count() or 2, 8))


class LlamaCppBackend:
    """A GGUF model served by llama.cpp in this process.

    ``context_window``: tokens per conversation (one slot); the engine allocates
    ``context_window * parallel`` KV cells. ``parallel``: simultaneous generations (slots);
    further requests wait in the engine's queue. ``threads``: CPU threads (default
    :func:`default_threads`). The engine loads on first use or on :meth:`load`; one engine per
    (model, context, slots, threads) per process is shared by every backend object.
    ``queue_size``: requests allowed to wait for a free slot; one more waits up to
    ``queue_timeout_s`` seconds, then fails with :class:`BackendError` ``unavailable`` (busy).
    """

    def __init__(
        self,
        name: str,
        model_path: Path | str,
        *,
        context_window: int = 4096,
        parallel: int = 4,
        threads: int | None = None,
        model_label: str | None = None,
        queue_size: int = 64,
        queue_timeout_s: float = 600.0,
    ):
        self.name = name
        self.model_path = Path(model_path)
        self.model = model_label or self.model_path.stem
        self.context_window = context_window
        self.parallel = max(1, parallel)
        self.threads = threads or default_threads()
        self.queue_size = queue_size
        self.queue_timeout_s = queue_timeout_s
        # Requests beyond the slots wait here (bounded), so none is dropped under load.
        self._admission = threading.BoundedSemaphore(self.parallel + max(0, queue_size))
        self._server = None
        self._token_cache: OrderedDict[str, int] = OrderedDict()
        self._http = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """True once the engine is in memory."""
        return self._server is not None

    def load(self):
        """Load the model now (idempotent); raises :class:`BackendError` ``unavailable`` on failure."""
        if self._server is not None:
            return self._server
        key = (str(self.model_path), self.context_window, self.parallel, self.threads)
        with _ENGINES_LOCK:
            server = _ENGINES.get(key)
            if server is None:
                server = _start_engine(self.model_path, self.context_window, self.parallel, self.threads)
                _ENGINES[key] = server
        self._server = server
        return server

    @property
    def http_address(self) -> str:
        """``http://127.0.0.1:PORT`` where this engine also answers the llama.cpp server API."""
        return self.load().listening_address

    # -- protocol ----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Exact token count from the model's tokenizer (``/tokenize``), cached; loads the model."""
        self.load()
        cached = self._token_cache.get(text)
        if cached is not None:
            self._token_cache.move_to_end(text)
            return cached
        try:
            import httpx

            if self._http is None:
                self._http = httpx.Client(base_url=self._server.listening_address, timeout=10)
            resp = self._http.post("/tokenize", json={"content": text})
            resp.raise_for_status()
            count = len(resp.json()["tokens"])
        except Exception:  # noqa: BLE001 - counting must never break a chat
            return estimate_tokens(text)
        self._token_cache[text] = count
        if len(self._token_cache) > 4096:
            self._token_cache.popitem(last=False)
        return count

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Stream a chat completion; see :class:`~masterhall.backends.base.Backend`."""
        server = self.load()
        request: dict = {
            "messages": [m.to_dict() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "cache_prompt": True,
        }
        for key in ("temperature", "top_p", "max_tokens", "seed"):
            value = getattr(params, key)
            if value is not None:
                request[key] = value
        if not self._admission.acquire(timeout=self.queue_timeout_s):
            raise BackendError(
                f"The model is busy: {self.parallel} answers are being generated and {self.queue_size} are waiting. "
                "Try again in a moment.", "unavailable")
        chunks: queue.Queue = queue.Queue()
        stop = threading.Event()

        def on_chunk(chunk) -> bool:
            if stop.is_set():
                return True
            chunks.put(chunk)
            return False

        def run() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # noqa: BLE001 - handed to the consumer
                chunks.put(exc)
            finally:
                self._admission.release()
                chunks.put(_END)

        start = time.perf_counter()
        threading.Thread(target=run, name=f"llamacpp-{self.name}", daemon=True).start()
        try:
            first = chunks.get()
        except BaseException:  # Ctrl-C while the prompt is read: free the slot
            stop.set()
            raise
        if isinstance(first, Exception):
            raise BackendError(f"llama.cpp failed: {first}", "internal") from first
        error = _chunk_error(first)
        if error:
            raise BackendError(error[0], error[1])
        return self._consume(first, chunks, stop, start)

    def _consume(self, first, chunks: queue.Queue, stop: threading.Event, start: float) -> Iterator[str | Usage]:
        usage = Usage()
        first_token_at: float | None = None
        n_deltas = 0
        item = first
        try:
            while item is not _END:
                if isinstance(item, Exception):
                    usage.finish_reason, usage.error = "error", str(item)
                    break
                error = _chunk_error(item)
                if error:
                    usage.finish_reason, usage.error = "error", error[0]
                    break
                for choice in item.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        if first_token_at is None:
                            first_token_at = time.perf_counter()
                            usage.ttft_s = first_token_at - start
                        n_deltas += 1
                        yield text
                    if choice.get("finish_reason"):
                        usage.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
                _apply_usage(usage, item)
                item = chunks.get()
        finally:
            stop.set()  # also on close(): the engine's next callback returns True and the slot frees
        if not usage.completion_tokens:
            usage.completion_tokens = n_deltas
        if usage.tokens_per_s is None and first_token_at is not None and usage.completion_tokens > 1:
            usage.tokens_per_s = (usage.completion_tokens - 1) / max(time.perf_counter() - first_token_at, 1e-9)
        yield usage


def _chunk_error(chunk) -> tuple[str, str] | None:
    if not isinstance(chunk, dict) or "error" not in chunk:
        return None
    err = chunk["error"] or {}
    message = err.get("message", "unknown llama.cpp error") if isinstance(err, dict) else str(err)
    kind = "context_length" if isinstance(err, dict) and "context" in str(err.get("type", "")) else "bad_request"
    return message, kind


def _apply_usage(usage: Usage, chunk: dict) -> None:
    data = chunk.get("usage")
    if data:
        usage.prompt_tokens = data.get("prompt_tokens", 0)
        usage.completion_tokens = data.get("completion_tokens", 0)
        details = data.get("prompt_tokens_details") or {}
        usage.cached_tokens = details.get("cached_tokens")
    timings = chunk.get("timings")
    if timings:
        usage.tokens_per_s = timings.get("predicted_per_second") or usage.tokens_per_s
        usage.extra["prompt_per_second"] = timings.get("prompt_per_second")


def _start_engine(model_path: Path, context_window: int, parallel: int, threads: int):
    if not model_path.is_file():
        raise BackendError(f"GGUF model file not found: {model_path}", "unavailable")
    try:
        import xllamacpp as xlc
    except ImportError as exc:  # pragma: no cover - a dependency
        raise BackendError("xllamacpp is not installed: pip install xllamacpp", "unavailable") from exc
    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = context_window * parallel
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cache_prompt = True
    # Host-memory prompt cache (KV of finished prompts, restored when a later prompt shares the
    # prefix): 1 GiB holds ~85k tokens of a 0.5B model's KV (about 12 KiB a token).
    params.cache_ram_mib = 1024
    params.verbosity = -1
    try:
        return xlc.Server(params)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"could not load {model_path.name}: {exc}", "unavailable") from exc
