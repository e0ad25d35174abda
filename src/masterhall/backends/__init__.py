"""Backends: one small streaming protocol, four implementations, and a registry of names."""

from .base import Backend, BackendError, ChatMessage, Usage, estimate_tokens
from .fake import FakeBackend
from .llamacpp import LlamaCppBackend
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
    "OpenAICompatBackend",
    "Usage",
    "estimate_tokens",
]
