"""The backend protocol: stream a chat, get text deltas and a final usage record.

Every backend (in-process llama.cpp, any OpenAI-compatible server, the fake one) implements
:class:`Backend`. The shape follows simonw/llm's small ``execute()`` idea: one streaming call,
plain strings out, and a last item that says how the generation went.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Iterator, Literal, Protocol, Sequence, runtime_checkable

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
    (the model's recommended sampling settings, see :mod:`masterhall.backends.sampling`) and
    ``prompt_style`` (``compact``: small model, the master's reply recipe ends the system
    prompt; ``full``: the instructions alone).
    """

    name: str
    model: str
    context_window: int
    default_params: SamplingParams
    prompt_style: PromptStyle

    def stream_chat(
        self, messages: Sequence[ChatMessage], params: SamplingParams
    ) -> Iterator["str | Usage"]:
        """Yield text deltas (``str``) as they are generated, then exactly one :class:`Usage`.

        Closing the iterator early stops the generation (``finish_reason="cancelled"``).
        Raises :class:`BackendError` before the first delta if the request cannot start; an
        error after some text is reported in the final ``Usage`` (``finish_reason="error"``).
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes for this model (exact or a close upper estimate)."""
        ...


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """Estimate tokens without a tokenizer: ~1 per CJK character, ~1 per 3.5 other characters.

    Errs high for English (BPE tokenizers such as Qwen's average ~4 characters a token) so that
    context fitting stays on the safe side.
    """
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk
    return cjk + (other + 2) // 3 + (1 if text else 0)
