"""Stored conversations: the chat service (engine + storage) and exports."""

from .export import to_json, to_markdown
from .service import MAX_MESSAGE_CHARS, ChatService, Event, Generation, InvalidMessageError

__all__ = ["MAX_MESSAGE_CHARS", "ChatService", "Event", "Generation", "InvalidMessageError", "to_json", "to_markdown"]
