"""The backend protocol: stream a chat, get text deltas and a final usage record.

Every backend (in-process llama.cpp, any OpenAI-compatible server, the fake one) implements
:class:`Backend`. The shape follows simonw/llm's small ``execute()`` idea: one streaming call,
plain strings out, and a last item that says how the generation went.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from dataclasses import dataclass, field, fields
from typing import Callable, Iterator, Literal, Protocol, Sequence, runtime_checkable

from ..catalog.models import SamplingParams

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "loop", "cancelled", "error", "guard"]
PromptStyle = Literal["compact", "full"]


@dataclass(frozen=True)
class ChatMessage:
    """One chat message as sent to a model (OpenAI roles)."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        """``{"role": …, "content": …}`` as OpenAI-style APIs expect."""
        return {"role": self.role, "content": self.content}


@dataclass
class Usage:
    """What one generation cost and how fast it ran.

    ``ttft_s``: seconds from the request to the first text delta; ``tokens_per_s``: completion
    tokens per second of decoding (after the first token); ``cached_tokens``: prompt tokens
    served from the KV cache. ``finish_reason`` is ``stop`` (model ended), ``length``
    (``max_tokens`` reached), ``loop`` (the hall ended an answer that kept repeating itself),
    ``cancelled`` (the caller stopped it), ``error`` or ``guard`` (the safety guard answered
    instead of the model). ``error`` holds the reason, if any.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    finish_reason: FinishReason = "stop"
    cached_tokens: int | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        """Plain dict, JSON-ready, with ``total_tokens`` added (a copy: changing it changes nothing here)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["extra"] = dict(self.extra)
        data["total_tokens"] = self.total_tokens
        return data


class BackendError(RuntimeError):
    """A backend could not serve a request.

    ``kind`` is one of ``unavailable`` (server down, model missing), ``context_length`` (the prompt
    does not fit), ``bad_request`` or ``internal``.
    """

    def __init__(self, message: str, kind: str = "internal"):
        super().__init__(message)
        self.kind = kind


class UnknownBackendError(BackendError):
    """No backend has this ``name`` (kind ``unavailable``); ``known`` lists the configured names.
    ``paths``: whether the caller may name a ``.gguf`` file instead (the message says so)."""

    def __init__(self, name: str, known: Sequence[str], *, paths: bool = True):
        tail = (" (or a path to a .gguf file)." if paths else
                ". Model files are the operator's choice (config file or command line), never a request's.")
        super().__init__(f"Unknown backend '{name}'. Known: {', '.join(known)}{tail}", "unavailable")
        self.name = name
        self.known = list(known)


@runtime_checkable
class Backend(Protocol):
    """A chat model that streams.

    Attributes: ``name`` (the configured backend name), ``model`` (model id or file),
    ``context_window`` (tokens one conversation may use, prompt + reply), ``default_params``
    (the model's recommended sampling settings, see :mod:`masterhall.backends.sampling`),
    ``max_temperature`` (the highest temperature a master or the hall may set for this model, a
    caller's own is kept; ``None``: no cap) and ``prompt_style`` (``compact``: small model, the master's reply recipe ends the system
    prompt; ``full``: the instructions alone). A backend sends at most one system message, and
    none to a model whose chat template has no system role (see :func:`fit_roles`). A backend may
    also have ``preread(messages)``, optional and not part of this protocol (see :func:`preread`).
    """

    name: str
    model: str
    context_window: int
    default_params: SamplingParams
    max_temperature: float | None
    prompt_style: PromptStyle

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: SamplingParams
    ) -> Iterator["str | Usage"]:
        """Yield text deltas (``str``) as they are generated, then exactly one :class:`Usage`.

        Closing the iterator early stops the generation (``finish_reason="cancelled"``). Within a
        :func:`cancel_scope`, cancelling its token ends a request that has no token yet at once
        (this call returns a stream of one cancelled ``Usage``) and cancels it on the server.
        Raises :class:`BackendError` before the first delta if the request cannot start; an
        error after some text is reported in the final ``Usage`` (``finish_reason="error"``).
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes for this model (exact or a close upper estimate)."""
        ...


def preread(backend: object, messages: Sequence[ChatMessage]) -> bool:
    """Ask ``backend`` to read the opening of a request it will soon get, ahead of time.

    ``messages``: the coming request's messages, except that its last message's content will have
    more text appended at its end (nothing else changes). A backend that can read a prompt without
    answering (an optional method ``preread(messages) -> None``, returning at once and never
    raising; the in-process llama.cpp has one) then reads everything up to the end of that last
    message's content into its cache in the background, so the later request reads only the text
    added. It may skip a request (no free slot, or it still reads an earlier one for the same
    prompt): the caller may ask again, with more text at the end, as it learns more. A backend
    without the method does nothing (the default). Returns whether the backend was asked. Used by
    round tables: the next speaker's prompt, up to the end of the current speaker's reply so far,
    is read while the current speaker still answers.
    """
    method = getattr(backend, "preread", None)
    if method is None or not messages:
        return False
    try:
        method(list(messages))
    except Exception:  # noqa: BLE001 - a pre-read is an optimisation, never an error
        return False
    return True


class CancelToken:
    """Says that the caller no longer wants a generation; backends abandon the request at once.

    :meth:`cancel` may be called from any thread (the web server's Stop, a client that went
    away); it runs the callbacks registered with :meth:`on_cancel` right there, so a backend
    blocked while the prompt is read (no token yet) can wake itself and cancel the request on
    the server (close the connection, tell the engine). Cancelling twice does nothing more.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel: run every registered callback (errors in one are ignored) once."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a failed wake-up must not break the caller's Stop
                pass

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` on :meth:`cancel` (at once when already cancelled); returns a function
        that unregisters it (call it when the request is over)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds passed; True when cancelled."""
        return self._event.wait(timeout)


_CANCEL: contextvars.ContextVar[CancelToken | None] = contextvars.ContextVar("masterhall_cancel", default=None)


def current_cancel() -> CancelToken | None:
    """The :class:`CancelToken` of the generation running in this thread (see :func:`cancel_scope`)."""
    return _CANCEL.get()


@contextlib.contextmanager
def cancel_scope(token: CancelToken | None) -> Iterator[CancelToken | None]:
    """Within this block, backends' ``stream_chat`` calls answer to ``token``: when it is
    cancelled a request still reading the prompt ends at once (its stream yields only a
    ``Usage`` with ``finish_reason="cancelled"``) and is cancelled on the server."""
    reset = _CANCEL.set(token)
    try:
        yield token
    finally:
        _CANCEL.reset(reset)


def cancelled_stream(usage: Usage | None = None) -> Iterator[str | Usage]:
    """The stream of a request cancelled before its first token: one ``Usage`` (``cancelled``)."""
    yield usage or Usage(finish_reason="cancelled")


def fit_roles(messages: Sequence[ChatMessage], system_role: bool = True) -> list[ChatMessage]:
    """``messages`` as a chat template can take them: at most one system message, first (the
    texts of several are joined, in order, with a blank line); for a template without a system
    role (``system_role=False``: Gemma, early Mistral, which answer an error to one), that text
    opens the first user message instead. Roles of the other messages are kept as they are."""
    system = [m.content for m in messages if m.role == "system" and m.content.strip()]
    rest = [m for m in messages if m.role != "system"]
    if not system:
        return rest
    text = "\n\n".join(system)
    if system_role:
        return [ChatMessage("system", text), *rest]
    first_user = next((i for i, m in enumerate(rest) if m.role == "user"), None)
    if first_user is None:
        return [ChatMessage("user", text), *rest]
    folded = ChatMessage("user", f"{text}\n\n{rest[first_user].content}")
    return rest[:first_user] + [folded] + rest[first_user + 1:]


def template_has_system_role(template: str | None) -> bool:
    """Whether a model's chat template (Jinja, from the GGUF's ``tokenizer.chat_template``) takes
    a system message: it must mention the ``system`` role and not refuse it (Gemma's templates
    raise "System role not supported"; early Mistral ones never mention it and raise on any role
    out of user/assistant alternation). ``None`` or an empty template (unknown): True."""
    if not template:
        return True
    lowered = template.lower()
    if "system" not in lowered:
        return False
    return "system role not supported" not in lowered


def deferred_stream(stream_chat: Callable[..., Iterator[str | Usage]], *args) -> Iterator[str | Usage]:
    """``stream_chat(*args)``, called on the first ``next()`` rather than now (closing it closes
    the backend's stream)."""
    stream = stream_chat(*args)
    try:
        yield from stream
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """Estimate tokens without a tokenizer: ~1 per CJK character, ~1 per 3.5 other characters.

    Errs high for English (BPE tokenizers such as Qwen's average ~4 characters a token) so that
    context fitting stays on the safe side.
    """
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk
    return cjk + (other + 2) // 3 + (1 if text else 0)
