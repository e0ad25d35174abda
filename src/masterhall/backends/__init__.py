"""Backends: one small streaming protocol, its implementations, a registry of names, and the
loader that gets the default model ready in the background.

Modules: ``base`` (the protocol), ``llamacpp`` (in-process llama.cpp), ``openai_compat`` (any
OpenAI-compatible server), ``openai_stream`` (the one reader of their streamed chunks), ``fake``,
``embedded`` (the packaged GGUF), ``registry`` (names → backends) and ``loader``.
"""

from .base import Backend, BackendError, ChatMessage, UnknownBackendError, Usage, estimate_tokens
from .fake import FakeBackend
from .llamacpp import LlamaCppBackend
from .loader import ModelLoader
from .openai_compat import OpenAICompatBackend
from .registry import BackendInfo, BackendRegistry

__all__ = [
    "Backend",
    "BackendError",
    "BackendInfo",
    "BackendRegistry",
    "ChatMessage",
    "FakeBackend",
    "LlamaCppBackend",
    "ModelLoader",
    "OpenAICompatBackend",
    "UnknownBackendError",
    "Usage",
    "estimate_tokens",
]
