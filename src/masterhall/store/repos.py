"""Conversations and messages as plain dataclasses, read and written through a repository.

Every write method runs in its own transaction and commits before it returns, so what it wrote
is visible to every other connection (and survives a crash) at once: store the user's message
with :meth:`ConversationRepo.add_message` before starting generation, then
:meth:`~ConversationRepo.start_assistant`, :meth:`~ConversationRepo.update_content` (batched
progress) and :meth:`~ConversationRepo.finish_message`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any, Callable, Literal, Mapping

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from .db import default_database_url, make_engine, migrate
from .tables import ROLES, STATUSES, ConversationRow, MessageRow, new_id, utcnow

Role = Literal["user", "assistant", "system"]
Status = Literal["complete", "streaming", "stopped", "error"]

#: Longest generated title, ellipsis included.
TITLE_MAX_CHARS = 60
#: Reason :meth:`ConversationRepo.recover_interrupted` records by default.
INTERRUPTED_REASON = "interrupted: the server stopped during generation"

_conversations = ConversationRow.__table__
_messages = MessageRow.__table__


class NotFoundError(KeyError):
    """A write named a conversation or message that does not exist (or no longer does)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


@dataclass(frozen=True)
class Conversation:
    """A conversation, detached from any session.

    ``id``: 32 hex digits. ``title``: ``None`` until set or derived from the first user
    message. ``model``: label of the backend/model last used. Timestamps are aware UTC;
    ``updated_at`` moves with every write to the conversation or its messages.
    """

    id: str
    master_id: str
    title: str | None
    model: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 strings with ``+00:00``."""
        return _json_ready(asdict(self))


@dataclass(frozen=True)
class Message:
    """A message, detached from any session.

    ``status``: ``streaming`` while generated, then ``complete``, ``stopped`` or ``error``
    (``error`` holds the reason; ``content`` keeps any partial text). ``prompt_tokens`` /
    ``completion_tokens`` are token counts, ``ttft_s`` seconds to the first token,
    ``tokens_per_s`` decoding speed; ``None`` when unknown. Timestamps are aware UTC.
    ``finish_reason``: the backend's reason for an assistant message (``stop``, ``length``,
    ``cancelled``, ``error``, ``guard``); ``safety``: the guard's record for the turn; ``notes``:
    what the hall did to the prompt (e.g. history left out). See :class:`~masterhall.store.tables.MessageRow`.
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; timestamps as ISO 8601 strings with ``+00:00``."""
        return _json_ready(asdict(self))


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in data.items()}


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


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    return " ".join(title.split()) or None


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")


def _escape_like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _conversation(row: Mapping[str, Any]) -> Conversation:
    return Conversation(**row)


def _message(row: Mapping[str, Any]) -> Message:
    return Message(**row)


class ConversationRepo:
    """Conversations and their messages in the database at ``engine`` (already migrated).

    ``clock`` returns the current aware UTC time (default :func:`~masterhall.store.tables.utcnow`);
    the repository makes its timestamps strictly increasing, so "newest first" is exact even
    when two writes fall within the clock's resolution. Safe to share between threads.
    Writes to a missing conversation or message raise :class:`NotFoundError`; a bad
    ``role``/``status`` raises ``ValueError``; database failures raise SQLAlchemy errors.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None):
        self.engine = engine
        self._clock = clock or utcnow
        self._last = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        self._lock = threading.Lock()

    def _now(self) -> dt.datetime:
        with self._lock:
            now = self._clock().astimezone(dt.timezone.utc)
            if now <= self._last:
                now = self._last + dt.timedelta(microseconds=1)
            self._last = now
            return now

    def _touch(self, conn: Connection, conversation_id: str, now: dt.datetime, **values: Any) -> None:
        """Set ``updated_at`` (and ``values``) of a conversation; NotFoundError if missing."""
        result = conn.execute(
            update(_conversations).where(_conversations.c.id == conversation_id).values(updated_at=now, **values)
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no conversation {conversation_id!r}")

    # -- conversations ---------------------------------------------------------------------

    def create(self, master_id: str, title: str | None = None, model: str | None = None) -> Conversation:
        """Create and commit a conversation with master ``master_id``; return it.

        ``title`` is whitespace-collapsed (blank means ``None``: the first user message names
        it). ``model`` is the backend/model label, if known.
        """
        now = self._now()
        conversation = Conversation(
            id=new_id(), master_id=master_id, title=_clean_title(title), model=model, created_at=now, updated_at=now
        )
        with self.engine.begin() as conn:
            conn.execute(insert(_conversations).values(**asdict(conversation)))
        return conversation

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_conversations).where(_conversations.c.id == conversation_id)).mappings().first()
        return _conversation(row) if row else None

    def list(
        self, search: str | None = None, master_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> builtins.list[Conversation]:
        """Conversations, most recently updated first, ``limit`` of them from ``offset``.

        ``search``: keep titles containing it, case-insensitively (``%`` and ``_`` are
        literal); blank means no filter. ``master_id``: only that master's. Raises
        ``ValueError`` for a negative ``limit`` or ``offset``.
        """
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must be >= 0")
        query = select(_conversations)
        if search and search.strip():
            pattern = "%" + _escape_like(search.strip().lower()) + "%"
            query = query.where(func.lower(_conversations.c.title).like(pattern, escape="\\"))
        if master_id is not None:
            query = query.where(_conversations.c.master_id == master_id)
        query = query.order_by(
            _conversations.c.updated_at.desc(), _conversations.c.created_at.desc(), _conversations.c.id
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [_conversation(r) for r in rows]

    def rename(self, conversation_id: str, title: str) -> Conversation:
        """Set the title (whitespace collapsed) and return the updated conversation.

        Raises ``ValueError`` for a blank title and :class:`NotFoundError`.
        """
        clean = _clean_title(title)
        if clean is None:
            raise ValueError("a title cannot be blank")
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, self._now(), title=clean)
            row = conn.execute(select(_conversations).where(_conversations.c.id == conversation_id)).mappings().one()
        return _conversation(row)

    def delete(self, conversation_id: str) -> bool:
        """Delete a conversation and (cascade) its messages; ``False`` if there was none."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(_conversations).where(_conversations.c.id == conversation_id))
        return result.rowcount > 0

    # -- messages --------------------------------------------------------------------------

    def add_message(
        self, conversation_id: str, role: Role, content: str, status: Status = "complete"
    ) -> Message:
        """Append a message and commit it before returning (store the user's turn first).

        A ``user`` message gives an untitled conversation its title
        (:func:`title_from_message`). Raises :class:`NotFoundError` and ``ValueError`` (bad
        ``role`` or ``status``).
        """
        _check(role, ROLES, "role")
        _check(status, STATUSES, "status")
        now = self._now()
        values: dict[str, Any] = {}
        title = title_from_message(content) if role == "user" else None
        if title is not None:
            values["title"] = func.coalesce(_conversations.c.title, title)
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, now, **values)
            return self._insert_message(conn, conversation_id, role, content, status, now)

    def start_assistant(self, conversation_id: str, model: str | None = None) -> Message:
        """Append an empty ``assistant`` message in status ``streaming``, committed; return it.

        ``model``, when given, becomes the conversation's model label. Raises
        :class:`NotFoundError`.
        """
        now = self._now()
        values = {"model": model} if model is not None else {}
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, now, **values)
            return self._insert_message(conn, conversation_id, "assistant", "", "streaming", now)

    @staticmethod
    def _insert_message(
        conn: Connection, conversation_id: str, role: str, content: str, status: str, now: dt.datetime
    ) -> Message:
        fields: dict[str, Any] = {
            "conversation_id": conversation_id,
            "role": role,
            "content": content,
            "status": status,
            "error": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "ttft_s": None,
            "tokens_per_s": None,
            "finish_reason": None,
            "safety": None,
            "notes": None,
            "created_at": now,
            "updated_at": now,
        }
        result = conn.execute(insert(_messages).values(**fields))
        return Message(id=result.inserted_primary_key[0], **fields)

    def update_content(self, message_id: int, content: str) -> bool:
        """Replace a ``streaming`` message's content (a batched progress write), committed.

        One UPDATE of the message plus one of its conversation's ``updated_at``, no reads.
        Returns ``False``, changing nothing, when the message is no longer ``streaming`` (it
        was finished or recovered meanwhile). Raises :class:`NotFoundError` when the message
        does not exist (e.g. deleted by a regenerate).
        """
        now = self._now()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_messages)
                .where(_messages.c.id == message_id, _messages.c.status == "streaming")
                .values(content=content, updated_at=now)
            )
            if result.rowcount == 0:
                if conn.execute(select(_messages.c.id).where(_messages.c.id == message_id)).first() is None:
                    raise NotFoundError(f"no message {message_id!r}")
                return False
            owner = select(_messages.c.conversation_id).where(_messages.c.id == message_id).scalar_subquery()
            conn.execute(update(_conversations).where(_conversations.c.id == owner).values(updated_at=now))
        return True

    def finish_message(
        self,
        message_id: int,
        content: str,
        status: Status,
        error: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        ttft_s: float | None = None,
        tokens_per_s: float | None = None,
        finish_reason: str | None = None,
        safety: dict[str, Any] | None = None,
        notes: builtins.list[str] | None = None,
    ) -> Message:
        """Store a message's final content, status and usage, committed; return the message.

        ``status`` is ``complete``, ``stopped`` (content keeps the partial text) or ``error``
        (``error`` gives the reason). ``finish_reason``, ``safety`` and ``notes`` are stored as
        given (see :class:`Message`). Raises ``ValueError`` for another status and
        :class:`NotFoundError`.
        """
        _check(status, ("complete", "stopped", "error"), "a final status")
        now = self._now()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_messages)
                .where(_messages.c.id == message_id)
                .values(
                    content=content,
                    status=status,
                    error=error,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    ttft_s=ttft_s,
                    tokens_per_s=tokens_per_s,
                    finish_reason=finish_reason,
                    safety=safety or None,
                    notes=notes or None,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no message {message_id!r}")
            row = conn.execute(select(_messages).where(_messages.c.id == message_id)).mappings().one()
            self._touch(conn, row["conversation_id"], now)
        return _message(row)

    def messages(self, conversation_id: str) -> builtins.list[Message]:
        """A conversation's messages, oldest first. Raises :class:`NotFoundError`."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(_messages).where(_messages.c.conversation_id == conversation_id).order_by(_messages.c.id)
                )
                .mappings()
                .all()
            )
            if not rows and conn.execute(
                select(_conversations.c.id).where(_conversations.c.id == conversation_id)
            ).first() is None:
                raise NotFoundError(f"no conversation {conversation_id!r}")
        return [_message(r) for r in rows]

    def delete_messages_after(self, conversation_id: str, message_id: int, inclusive: bool = True) -> int:
        """Delete ``message_id`` (unless ``inclusive`` is false) and every later message.

        For regenerate (from the assistant message) and edit-and-resend (from the user
        message). Returns how many were deleted. Raises :class:`NotFoundError` when the
        conversation does not exist or the message is not in it.
        """
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, self._now())
            owner = conn.execute(select(_messages.c.conversation_id).where(_messages.c.id == message_id)).scalar()
            if owner != conversation_id:
                raise NotFoundError(f"no message {message_id!r} in conversation {conversation_id!r}")
            start = _messages.c.id >= message_id if inclusive else _messages.c.id > message_id
            result = conn.execute(delete(_messages).where(_messages.c.conversation_id == conversation_id, start))
        return result.rowcount

    def recover_interrupted(self, reason: str = INTERRUPTED_REASON) -> int:
        """Mark every ``streaming`` message as ``error`` with ``reason``, keeping its text.

        Call once at server start, before any generation runs (a message still streaming in
        another live process would be marked too). Returns how many messages were marked.
        """
        now = self._now()
        streaming = select(_messages.c.conversation_id).where(_messages.c.status == "streaming")
        with self.engine.begin() as conn:
            conn.execute(update(_conversations).where(_conversations.c.id.in_(streaming)).values(updated_at=now))
            result = conn.execute(
                update(_messages)
                .where(_messages.c.status == "streaming")
                .values(status="error", error=reason, updated_at=now)
            )
        return result.rowcount


class Store:
    """The hall's database: an engine on ``url`` (default :func:`default_database_url`), migrated.

    ``conversations`` is the :class:`ConversationRepo`; ``masters`` the
    :class:`~masterhall.store.masters_repo.UserMasterRepo`; ``engine`` the SQLAlchemy engine.
    Call :meth:`close` (or use ``with Store() as store:``) to release connections. Raises what
    :func:`make_engine` and :func:`migrate` raise.
    """

    def __init__(self, url: str | None = None):
        self.url = url or default_database_url()
        self.engine = make_engine(self.url)
        try:
            migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.conversations = ConversationRepo(self.engine)
        from .masters_repo import UserMasterRepo

        self.masters = UserMasterRepo(self.engine)

    def close(self) -> None:
        """Close every pooled connection (the store can still reconnect if used again)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
