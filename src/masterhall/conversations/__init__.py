"""Conversations that last: the chat service (the turns of :mod:`masterhall.chat` + storage), the
threads and events of every streamed turn, and exports.

Modules: ``service`` (:class:`ChatService`), ``turns`` (events, generations and the thread pool
every streamed turn of the hall runs on), ``export`` (Markdown and JSON files).
"""

from .export import Export, export_conversation, to_json, to_markdown
from .service import MAX_MESSAGE_CHARS, ChatService, InvalidMessageError, Transcript
from .turns import Event, Generation, Listener, TurnPool

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ChatService",
    "Event",
    "Export",
    "Generation",
    "InvalidMessageError",
    "Listener",
    "Transcript",
    "TurnPool",
    "export_conversation",
    "to_json",
    "to_markdown",
]
