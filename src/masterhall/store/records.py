"""Conversations and messages as plain frozen dataclasses, detached from the database, and the
rule that names a conversation after its first message."""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["user", "assistant", "system"]
Status = Literal["complete", "streaming", "stopped", "error"]

#: Longest generated title, ellipsis included.
TITLE_MAX_CHARS = 60

@dataclass(frozen=True)
class Conversation:
    """A conversation, detached from any session.

    ``id``: 32 hex digits. ``title``: ``None`` until set or derived from the first user
    message. ``model``: label of the backend/model last used. Timestamps are aware UTC;
    ``updated_at`` moves with every write to the conversation or its messages. ``owner_id``: the
    ``users.id`` of the person who started it (``None`` in a hall without accounts). ``members``:
    the master ids of a round table, in the order they joined (``None`` for a chat with one master).
    """

    id: str
    master_id: str
    title: str | None
    model: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_id: int | None = None
    members: builtins.list[str] | None = None

    @property
    def master_ids(self) -> builtins.list[str]:
        """The masters of the conversation: a round table's members, else its one master."""
        return builtins.list(self.members) if self.members else [self.master_id]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 strings with ``+00:00``."""
        return _json_ready(_fields(self))


@dataclass(frozen=True)
class Message:
    """A message, detached from any session.

    ``status``: ``streaming`` while generated, then ``complete``, ``stopped`` or ``error``
    (``error`` holds the reason; ``content`` keeps any partial text). ``prompt_tokens`` /
    ``completion_tokens`` are token counts, ``ttft_s`` seconds to the first token,
    ``tokens_per_s`` decoding speed; ``None`` when unknown. Timestamps are aware UTC.
    ``finish_reason``: the backend's reason for an assistant message (``stop``, ``length``,
    ``cancelled``, ``error``, ``guard``); ``safety``: the guard's record for the turn; ``notes``:
    what the hall did to the prompt (e.g. history left out); ``recommendations``: the masters a
    guide's answer recommends; ``citations``: the knowledge an answer drew on; ``master_id``: who wrote an
    assistant message at a round table (``None``: the conversation's master). See :class:`~masterhall.store.tables.MessageRow`.
    """

    id: int
    conversation_id: str
    role: Role
    content: str
    status: Status
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None
    tokens_per_s: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finish_reason: str | None = None
    safety: dict[str, Any] | None = None
    notes: builtins.list[str] | None = None
    recommendations: dict[str, Any] | None = None
    citations: builtins.list[dict[str, Any]] | None = None
    master_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 strings with ``+00:00``."""
        return _json_ready(_fields(self))


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in data.items()}


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields as a dict (shallow: its values are JSON-ready already, or datetimes)."""
    return dict(record.__dict__)


def title_from_message(content: str) -> str | None:
    """A conversation title from a message: its first non-blank line, whitespace collapsed.

    At most :data:`TITLE_MAX_CHARS` characters: a longer line is cut (at a word boundary when
    one is near) and ends with ``…``. ``None`` when the message has no visible text.
    """
    for line in content.splitlines():
        title = " ".join(line.split())
        if title:
            break
    else:
        return None
    if len(title) <= TITLE_MAX_CHARS:
        return title
    cut = title[: TITLE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    if space >= TITLE_MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" .,;:-") + "…"
