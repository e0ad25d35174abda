"""One turn with a master, nothing stored: the chat engine, prompt building and context fitting,
language detection (the safety guard is :mod:`masterhall.safety`). Stored conversations are :mod:`masterhall.conversations`."""

from .engine import ChatEngine, Reply, Turn
from .language import detect_language
from .prompt import BuiltPrompt, ContextTooLongError, build_prompt

__all__ = [
    "BuiltPrompt",
    "ChatEngine",
    "ContextTooLongError",
    "Reply",
    "Turn",
    "build_prompt",
    "detect_language",
]
