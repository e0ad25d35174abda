"""Continuing a stored answer that stopped at the token limit (``finish_reason="length"``).

The backend gets the same prompt again with the cut answer as a last assistant message (a
prefill); llama.cpp, vLLM and Ollama go on from its last token. The continuation is appended to
the same stored message, which then takes the continuation's finish reason. Only the last message
of a conversation, an assistant answer that ended ``length``, can be continued; anything else is
refused with :class:`CannotContinueError` before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConflictError, NotFoundError
from ..store.conversations import Message

#: The hall's note on an answer that was continued after the length limit.
CONTINUED_NOTE = "continued after the length limit"


class CannotContinueError(ConflictError):
    """The message is not an answer cut at the length limit that ends its conversation (HTTP 409)."""

    code = "cannot_continue"


@dataclass(frozen=True)
class Continuation:
    """What a continuation starts from: the cut ``answer`` (as stored before it was reopened) and
    the ``user`` message it answers."""

    answer: Message
    user: Message


def continuable(messages: list[Message], message_id: int) -> Continuation:
    """The continuation of message ``message_id`` among a conversation's ``messages`` (oldest first).

    Raises :class:`~masterhall.errors.NotFoundError` when the message is not in the conversation
    and :class:`CannotContinueError` when it is not the conversation's last message, not an
    assistant answer, or did not end at the length limit.
    """
    index = next((i for i, m in enumerate(messages) if m.id == message_id), None)
    if index is None:
        raise NotFoundError(f"no message {message_id} in this conversation")
    answer = messages[index]
    if answer.role != "assistant":
        raise CannotContinueError("Only an answer can be continued, not a message of yours.")
    if index != len(messages) - 1:
        raise CannotContinueError("Only the last answer of a conversation can be continued.")
    if answer.status != "complete" or answer.finish_reason != "length":
        how = answer.finish_reason or answer.status
        raise CannotContinueError(f"This answer did not stop at the length limit (it ended: {how}); there is nothing to continue.")
    user = next((m for m in reversed(messages[:index]) if m.role == "user"), None)
    if user is None:
        raise CannotContinueError("This answer has no question before it to continue from.")
    return Continuation(answer, user)


def merged_notes(before: list[str] | None, now: list[str]) -> list[str]:
    """The notes of a continued answer: those it had, :data:`CONTINUED_NOTE`, then the new ones
    (each once, in order)."""
    notes: list[str] = []
    for note in [*(before or []), CONTINUED_NOTE, *now]:
        if note not in notes:
            notes.append(note)
    return notes
