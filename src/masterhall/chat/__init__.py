"""One turn with a master, nothing stored: the chat engine, prompt building and context fitting,
language detection and the safety guard. Stored conversations are :mod:`masterhall.conversations`."""

from .engine import ChatEngine, Reply, Turn
from .guard import GuardResult, check_message, help_answer
from .language import detect_language
from .prompt import BuiltPrompt, ContextTooLongError, build_prompt

__all__ = [
    "BuiltPrompt",
    "ChatEngine",
    "ContextTooLongError",
    "GuardResult",
    "Reply",
    "Turn",
    "build_prompt",
    "check_message",
    "detect_language",
    "help_answer",
]
