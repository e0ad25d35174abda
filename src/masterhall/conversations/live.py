"""Following an answer while it is generated: a page opened on a conversation whose answer is
running — in this process, or (through Redis) in another hall process — gets the answer's events
from its start, then every later one, as the page that sent the message does.

The follower is a :class:`~.turns.Generation` of its own: stopping it (the page goes away) stops
the following, never the answer (Stop does that).
"""

from __future__ import annotations

from ..accounts import LOCAL, Caller
from ..errors import ConflictError
from .service import ChatService
from .turns import Event, Generation, Listener


def follow(chat: ChatService, conversation_id: str, listener: Listener, *, caller: Caller = LOCAL) -> Generation:
    """Send ``listener`` the events of the conversation's running answer (from its first), then
    ``None``; returns the follower. Raises :class:`~masterhall.errors.NotFoundError` (not the
    caller's conversation) and :class:`~masterhall.errors.ConflictError` (code ``not_generating``)
    when no process runs an answer in it."""
    chat.get(conversation_id, caller=caller)  # the caller's, or NotFoundError
    follower = Generation()
    follower.on_event(listener)
    local = chat.active(conversation_id)
    if local is not None:
        local.follow(lambda event: follower.end() if event is None else follower.emit(event))
        return follower
    if chat.shared.holder(conversation_id) is None:
        raise ConflictError("No answer is being generated in this conversation.", code="not_generating")
    chat.pool.submit(_relay, chat, conversation_id, follower)
    return follower


def _relay(chat: ChatService, conversation_id: str, follower: Generation) -> None:
    """Read the answer's events from Redis into ``follower`` until it ends."""
    try:
        ended = chat.shared.live.read(conversation_id, lambda kind, data: follower.emit(Event(kind, data)),
                                      cancelled=lambda: follower.stopping,
                                      running=lambda: chat.shared.holder(conversation_id) is not None)
        if not ended and not follower.stopping and follower.final is None:
            follower.emit(Event("error", {"code": "connection_lost",
                                          "message": "The answer's live stream was lost; reload to see it as stored."}))
    finally:
        follower.end()
