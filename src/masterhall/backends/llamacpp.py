"""llama.cpp in-process through ``xllamacpp`` (any GGUF, the embedded model by default).

xllamacpp runs llama.cpp's own server engine inside this process: the GGUF's chat template,
parallel slots with continuous batching, and reuse of the KV cache of the longest common prompt
prefix (``cache_prompt``), so turn N+1 of a conversation only reads its new tokens. It also
listens on a loopback HTTP port (llama.cpp server API), which we use for exact token counts.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import queue
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Iterator, Sequence

from ..catalog.models import SamplingParams
from .base import (
    BackendError,
    ChatMessage,
    PromptStyle,
    Usage,
    cancelled_stream,
    current_cancel,
    estimate_tokens,
    fit_roles,
    template_has_system_role,
)
from .openai_stream import Chunk, UsageMeter, leading_error, parse_chunk
from .sampling import model_defaults, model_max_temperature, request_fields

_END = object()
_CANCELLED = object()
_ENGINES: dict[tuple, object] = {}
_ENGINES_LOCK = threading.Lock()

#: Placeholder user message marking where the next turn's own words begin (see ``prewarm``).
_NEXT_TURN = "MASTERHALL-NEXT-TURN-PLACEHOLDER"
#: Seconds the engine must stay idle after an answer before the next turn's opening is pre-read:
#: a script that sends its next request at once never waits for a pre-read; a person always
#: takes longer than this to read and type.
PREWARM_DELAY_S = 0.25
#: Longest a request waits for a pre-read in progress for the same system prompt, seconds (one
#: takes ~70 ms on 2 cores; while it runs, the slot holding that conversation is busy).
PREWARM_WAIT_S = 1.0
#: Longest a request waits for a pre-read of its own opening (:meth:`LlamaCppBackend.preread`) to
#: end, seconds: it holds the slot with that opening, which the request would otherwise read again.
#: Only a request that continues the pre-read's prompt waits (same messages before the last, its
#: last one longer); a Stop ends the wait.
PREREAD_WAIT_S = 15.0
_BACKENDS: "weakref.WeakSet[LlamaCppBackend]" = weakref.WeakSet()
_PREWARM_IDS = itertools.count()
_EXITING = threading.Event()


@atexit.register
def _finish_prewarms() -> None:
    """At exit, start no more pre-reads and let those in progress end (bounded) before the
    engine is torn down under them."""
    _EXITING.set()
    for backend in list(_BACKENDS):
        with backend._busy:
            backend._busy.wait_for(lambda b=backend: not b._prewarming and not b._prereading, timeout=PREWARM_WAIT_S)


def default_threads() -> int:
    """Threads for llama.cpp: the physical cores this process may use, capped at 8.

    Starts from the CPUs of the process's affinity mask (``taskset``, cpusets), counts SMT
    siblings once (two hyperthreads share one core's vector units; llama.cpp's own default is the
    physical core count too), and stays within the cgroup's CPU quota (containers). Past 8 threads
    a CPU decodes little faster (memory bandwidth bound). Decode speed collapses when the threads
    outnumber the cores they get, so a count too high costs far more than one too low.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = list(range(os.cpu_count() or 2))
    cores = _physical_cores(cpus) or len(cpus)
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, quota)
    return max(1, min(cores, 8))


def _physical_cores(cpus: list[int]) -> int | None:
    """Distinct physical cores among ``cpus`` (from sysfs ``thread_siblings_list``), or ``None``."""
    siblings = set()
    for cpu in cpus:
        try:
            siblings.add(Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").read_text().strip())
        except OSError:
            return None
    return len(siblings) or None


def _cgroup_cpu_quota() -> int | None:
    """Whole CPUs allowed by the cgroup's CPU quota (v2 ``cpu.max``, v1 ``cfs_quota_us``), rounded up; ``None`` if unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            return max(1, -(-int(quota) // int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return max(1, -(-quota_us // period_us)) if quota_us > 0 and period_us > 0 else None


class LlamaCppBackend:
    """A GGUF model served by llama.cpp in this process.

    ``context_window``: tokens per conversation (one slot); the engine allocates
    ``context_window * parallel`` KV cells. ``parallel``: simultaneous generations (slots);
    further requests wait in the engine's queue. ``threads``: CPU threads (default
    :func:`default_threads`). The engine loads on first use or on :meth:`load`; one engine per
    (model, context, slots, threads) per process is shared by every backend object.
    ``queue_size``: requests allowed to wait for a free slot; one more waits up to
    ``queue_timeout_s`` seconds, then fails with :class:`BackendError` ``unavailable`` (busy).
    ``stream_interval_s``: after the first text delta, tokens that follow within this many
    seconds of the last delivery are merged into one delta (the end of the answer is never held).
    Each delta wakes the consumer's thread, then the web server's event loop and its client;
    on 2 cores those wake-ups (~0.1-0.2 ms of CPU each) pre-empt llama.cpp's threads. Merging
    took decoding through HTTP from 0.976 to ~0.99 of the engine called directly
    (bench/README.md). At 50 tokens/s the default 0.05 s sends about 15 deltas a second, still
    smooth to read; 0 sends every token at once.
    ``prewarm``: when the engine has stayed idle for ``PREWARM_DELAY_S`` after an answer, read
    the next turn's fixed opening (the end of the answer and the chat template's user header,
    ~5 tokens, plus any part of the answer whose tokens re-encode differently) into the KV cache
    in the background, so the next turn reads only the user's own words — as fast as a
    conversation's first turn. A request with the same system prompt waits up to
    ``PREWARM_WAIT_S`` for a pre-read in progress (the slot it wants is busy meanwhile).
    ``system_role``: whether the model's chat template takes a system message; ``None`` (the
    default) reads the template from the engine (``/props``) once. Without one, the system
    message opens the first user message (see :func:`~masterhall.backends.base.fit_roles`).
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
        stream_interval_s: float = 0.05,
        prewarm: bool = True,
    ):
        self.name = name
        self.model_path = Path(model_path)
        self.model = model_label or self.model_path.stem
        self.context_window = context_window
        self.default_params, self.max_temperature = model_defaults(self.model), model_max_temperature(self.model)
        self.prompt_style: PromptStyle = "full"
        self.parallel = max(1, parallel)
        self.threads = threads or default_threads()
        self.queue_size = queue_size
        self.queue_timeout_s = queue_timeout_s
        self.stream_interval_s = max(0.0, stream_interval_s)
        self.prewarm = prewarm
        self.system_role: bool | None = None
        # Requests running in the engine, and next-turn pre-reads in progress (see ``prewarm``).
        self._busy = threading.Condition()
        self._running = 0
        self._started = 0  # requests started so far (a pending pre-read is dropped if this changes)
        self._prewarming: dict[int, dict] = {}  # id → first message of the conversation being pre-read
        self._prereading: dict[int, tuple[str, str]] = {}  # pre-reads in progress: ``_opening`` of each
        _BACKENDS.add(self)
        # Requests beyond the slots wait here (bounded), so none is dropped under load.
        self._admission = threading.BoundedSemaphore(self.parallel + max(0, queue_size))
        self._server = None
        self._token_cache: OrderedDict[str, int] = OrderedDict()
        self._http = None
        self._props: dict | None = None

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

    def props(self) -> dict:
        """The engine's ``/props`` (``chat_template``, ``default_generation_settings.n_ctx`` …),
        read once; ``{}`` when it cannot be read."""
        if self._props is None:
            try:
                import httpx

                self._props = httpx.get(self.http_address + "/props", timeout=10).json()
            except Exception:  # noqa: BLE001 - a detail, never an error
                self._props = {}
        return self._props

    def takes_system_role(self) -> bool:
        """``system_role`` when set, else whether the GGUF's chat template takes a system message."""
        if self.system_role is None:
            self.system_role = template_has_system_role(self.props().get("chat_template"))
        return self.system_role

    def stream_chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> Iterator[str | Usage]:
        """Stream a chat completion; see :class:`~masterhall.backends.base.Backend`."""
        server = self.load()
        request: dict = {
            "messages": [m.to_dict() for m in fit_roles(messages, self.takes_system_role())],
            "stream": True,
            "stream_options": {"include_usage": True},
            "cache_prompt": True,
            # The engine reports each batch of the prompt it has read (``prompt_progress`` chunks):
            # its callback then runs while a long prompt is read, and a cancelled request ends
            # at the next batch instead of after the whole prompt.
            "return_progress": True,
        }
        request.update(request_fields(params))
        token = current_cancel()
        if token is not None and token.cancelled:
            return cancelled_stream()
        if not self._admission.acquire(timeout=self.queue_timeout_s):
            raise BackendError(
                f"The model is busy: {self.parallel} answers are being generated and {self.queue_size} are waiting. "
                "Try again in a moment.", "unavailable")
        head = request["messages"][0] if request["messages"] else None
        with self._busy:
            self._busy.wait_for(lambda: head not in self._prewarming.values(), timeout=PREWARM_WAIT_S)
            # only a request that continues a pre-read in progress waits for it (it would read the
            # same tokens again), and no longer than it is wanted
            opening, last = _opening(request["messages"]) if self._prereading else ("", "")  # none: no JSON per request
            deadline = time.monotonic() + PREREAD_WAIT_S
            while any(o == opening and last.startswith(text) for o, text in self._prereading.values()) \
                    and not (token is not None and token.cancelled) and time.monotonic() < deadline:
                self._busy.wait(0.1)  # woken when a pre-read ends; a Stop is seen within 0.1 s
            self._running += 1
            self._started += 1
        chunks: queue.Queue = queue.Queue()  # lists of parsed chunks, then an exception or _END
        stop = threading.Event()
        held: list[Chunk] = []
        delivery = {"shown": False, "at": 0.0}
        interval = self.stream_interval_s

        def on_chunk(raw) -> bool:
            if stop.is_set():
                return True
            chunk = parse_chunk(raw)
            held.append(chunk)
            now = time.monotonic()
            if delivery["shown"] and now - delivery["at"] < interval and chunk.plain:
                return False  # merged into the next delivery
            chunks.put(held[:])
            held.clear()
            delivery["at"] = now
            delivery["shown"] = delivery["shown"] or bool(chunk.text)
            return False

        def run() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except Exception as exc:  # noqa: BLE001 - handed to the consumer
                chunks.put(exc)
            finally:
                with self._busy:
                    self._running -= 1
                self._admission.release()
                if held:
                    chunks.put(held[:])
                chunks.put(_END)

        def cancel() -> None:  # from the thread that stops the turn: wake the consumer, end the request
            stop.set()
            chunks.put(_CANCELLED)

        meter = UsageMeter(time.perf_counter())
        threading.Thread(target=run, name=f"llamacpp-{self.name}", daemon=True).start()
        forget = token.on_cancel(cancel) if token is not None else (lambda: None)
        read: list[Chunk] = []  # what came before the first text
        ended = False
        try:
            while not any(c.text for c in read):
                item = chunks.get()
                if item is _CANCELLED:  # stopped while the prompt is read: the engine drops it at its next batch
                    forget()
                    return cancelled_stream()
                if item is _END:
                    ended = True
                    break
                if isinstance(item, Exception):
                    raise BackendError(f"llama.cpp failed: {item}", "internal") from item
                read.extend(item)
                error = leading_error(read)
                if error is not None:
                    raise BackendError(error.message, error.kind)
        except BaseException:  # an error before any text, or Ctrl-C while the prompt is read: free the slot
            forget()
            stop.set()
            raise
        return self._consume(read, ended, chunks, stop, meter, request["messages"], forget)

    def _consume(self, read: list[Chunk], ended: bool, chunks: queue.Queue, stop: threading.Event,
                 meter: UsageMeter, messages: list[dict], forget=lambda: None) -> Iterator[str | Usage]:
        answer: list[str] = []
        batch: list[Chunk] = read
        try:
            while True:
                texts = [meter.add(chunk) for chunk in _until_error(batch)]
                text = "".join(texts)
                if text:
                    answer.append(text)
                    yield text
                if ended or meter.usage.finish_reason == "error":
                    break
                item = chunks.get()
                if item is _END:
                    break
                if item is _CANCELLED:
                    meter.usage.finish_reason = "cancelled"
                    break
                if isinstance(item, Exception):
                    meter.fail(str(item))
                    break
                batch = item
        finally:
            forget()
            stop.set()  # also on close(): the engine's next callback returns True and the slot frees
        usage = meter.done()
        if self.prewarm and answer and usage.finish_reason in ("stop", "length"):
            head, prefill = (messages[:-1], messages[-1]["content"]) if messages and messages[-1]["role"] == "assistant" \
                else (messages, "")  # a continued answer: the prefill and what followed are one message
            self._start_prewarm(head + [{"role": "assistant", "content": prefill + "".join(answer)}])
        yield usage

    def _start_prewarm(self, messages: list[dict]) -> None:
        """Schedule the pre-read of the next turn's opening (see ``prewarm``)."""
        with self._busy:
            started = self._started
        timer = threading.Timer(PREWARM_DELAY_S, self._prewarm_if_idle, args=(messages, started))
        timer.daemon = True
        timer.start()

    def _prewarm_if_idle(self, messages: list[dict], started: int) -> None:
        key = next(_PREWARM_IDS)
        with self._busy:
            if self._running or self._started != started or _EXITING.is_set():
                return  # a request came meanwhile: it has the engine
            self._prewarming[key] = messages[0]
        self._prewarm_next_turn(messages, key)

    def _prewarm_next_turn(self, messages: list[dict], key: int) -> None:
        """Have the engine read the conversation up to the next user message's own words."""
        self._read_prefix(messages + [{"role": "user", "content": _NEXT_TURN}], key, self._prewarming)

    def preread(self, messages: Sequence[ChatMessage]) -> None:
        """Read the opening of a coming request now, in another slot, and return at once (see
        :func:`~masterhall.backends.base.preread`): ``messages`` rendered with the chat template up
        to the end of the last message's content. Skipped when the engine is not loaded, when no
        slot is free, while a pre-read of the same opening (every message but the last) is still being
        read (the caller asks again with more text later), or with ``prewarm`` off. A request that
        continues it waits up to ``PREREAD_WAIT_S`` for it to end, then reads only what follows."""
        if not self.prewarm or self._server is None or not messages or _EXITING.is_set():
            return
        fitted = [m.to_dict() for m in fit_roles(messages, self.takes_system_role())]
        opening = _opening(fitted)
        fitted[-1] = {**fitted[-1], "content": fitted[-1]["content"] + _NEXT_TURN}
        key = next(_PREWARM_IDS)
        with self._busy:
            if any(o == opening[0] for o, _ in self._prereading.values()):
                return  # the previous pre-read of this prompt is still being read: ask again later
            if self._running + len(self._prewarming) + len(self._prereading) >= self.parallel:
                return  # every slot is taken: a pre-read would queue ahead of real requests
            self._prereading[key] = opening
        threading.Thread(target=self._read_prefix, args=(fitted, key, self._prereading),
                         name=f"llamacpp-preread-{self.name}", daemon=True).start()

    def _read_prefix(self, messages: list[dict], key: int, pending: dict[int, object]) -> None:
        """Render ``messages`` (one of them holds the placeholder ``_NEXT_TURN``) with the model's
        own chat template (``/apply-template``), cut before the placeholder, and have llama.cpp
        read that prefix (``n_predict`` 0) into the KV cache of the slot that best matches it; then
        drop ``key`` from ``pending`` and wake the requests waiting for it."""
        try:
            import httpx

            rendered = httpx.post(self._server.listening_address + "/apply-template", timeout=10,
                                  json={"messages": messages}).json()["prompt"]
            cut = rendered.find(_NEXT_TURN)
            if cut > 0:
                self._server.handle_completions({"prompt": rendered[:cut], "n_predict": 0, "cache_prompt": True},
                                                lambda _chunk: False)
        except Exception:  # noqa: BLE001 - a pre-read is an optimisation, never an error
            pass
        finally:
            with self._busy:
                pending.pop(key, None)
                self._busy.notify_all()


def _opening(messages: list[dict]) -> tuple[str, str]:
    """``(key, text)`` of a prompt being read ahead: ``key`` names every message but the last
    (and the last one's role), ``text`` is the last message's content; a request continues a
    pre-read when its key is the same and its last content starts with that text."""
    if not messages:
        return "", ""
    *before, last = messages
    return json.dumps([before, last.get("role")], ensure_ascii=False, sort_keys=True), last.get("content") or ""


def _until_error(chunks: list[Chunk]) -> Iterator[Chunk]:
    """The chunks up to and including the first error."""
    for chunk in chunks:
        yield chunk
        if chunk.error is not None:
            return


def engine_params(model_path: Path | str, context_window: int, parallel: int, threads: int):
    """The ``xllamacpp.CommonParams`` MasterHall runs llama.cpp with (the benchmarks' direct
    baseline uses the same): ``parallel`` slots of ``context_window`` tokens, ``threads`` CPU
    threads, prompt caching, a 1 GiB host-memory prompt cache, quiet logs."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = context_window * parallel
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cache_prompt = True
    # Read prompts in batches of one micro-batch (512 tokens; the compute is the same, llama.cpp
    # splits larger batches into micro-batches anyway): a request stopped while its prompt is read
    # ends after at most 512 more tokens, and other slots keep decoding between the batches.
    params.n_batch = params.n_ubatch
    # Host-memory prompt cache (KV of finished prompts, restored when a later prompt shares the
    # prefix): 1 GiB holds ~85k tokens of a 0.5B model's KV (about 12 KiB a token).
    params.cache_ram_mib = 1024
    params.verbosity = -1
    return params


def _start_engine(model_path: Path, context_window: int, parallel: int, threads: int):
    if not model_path.is_file():
        raise BackendError(f"GGUF model file not found: {model_path}", "unavailable")
    try:
        import xllamacpp as xlc
    except ImportError as exc:  # pragma: no cover - a dependency
        raise BackendError("xllamacpp is not installed: pip install xllamacpp", "unavailable") from exc
    params = engine_params(model_path, context_window, parallel, threads)
    try:
        return xlc.Server(params)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"could not load {model_path.name}: {exc}", "unavailable") from exc
