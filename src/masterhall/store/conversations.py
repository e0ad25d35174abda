"""Conversations and messages (:mod:`.records`), read and written through a repository.

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
from types import EllipsisType
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from . import statements as sql
from .records import TITLE_MAX_CHARS, Conversation, Message, Role, Status, _fields, title_from_message
from .tables import ROLES, STATUSES, ConversationRow, MessageRow, new_id, utcnow

__all__ = ["INTERRUPTED_REASON", "TITLE_MAX_CHARS", "Conversation", "ConversationRepo", "Message", "Role", "Status",
           "title_from_message"]

#: Reason :meth:`ConversationRepo.recover_interrupted` records by default.
INTERRUPTED_REASON = "interrupted: the server stopped during generation"

_conversations = ConversationRow.__table__
_messages = MessageRow.__table__


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

    def _touch(self, conn: Connection, conversation_id: str, now: dt.datetime, *, model: str | None = None,
               title: str | None = None, returning: bool = False) -> Conversation | None:
        """Set ``updated_at`` of a conversation, and its ``model`` and first ``title`` when given;
        the updated conversation when ``returning``. Raises :class:`NotFoundError` if missing."""
        params: dict[str, Any] = {"b_id": conversation_id, "b_updated_at": now}
        if model is not None:
            params["b_model"] = model
        if title is not None:
            params["b_title"] = title
        statement = sql.touch(model=model is not None, title=title is not None, returning=returning)
        result = conn.execute(statement, params)
        row = result.mappings().first() if returning else None
        if (row is None) if returning else result.rowcount == 0:
            raise NotFoundError(f"no conversation {conversation_id!r}")
        return _conversation(row) if row is not None else None

    # -- conversations ---------------------------------------------------------------------

    def create(self, master_id: str, title: str | None = None, model: str | None = None, *,
               owner_id: int | None = None) -> Conversation:
        """Create and commit a conversation with master ``master_id``; return it.

        ``title`` is whitespace-collapsed (blank means ``None``: the first user message names
        it). ``model`` is the backend/model label, if known. ``owner_id``: the ``users.id`` of
        the person who starts it (``None`` in a hall without accounts).
        """
        now = self._now()
        conversation = Conversation(
            id=new_id(), master_id=master_id, title=_clean_title(title), model=model, created_at=now, updated_at=now,
            owner_id=owner_id,
        )
        with self.engine.begin() as conn:
            conn.execute(sql.INSERT_CONVERSATION, _fields(conversation))
        return conversation

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(sql.SELECT_CONVERSATION, {"b_id": conversation_id}).mappings().first()
        return _conversation(row) if row else None

    def list(
        self, search: str | None = None, master_id: str | None = None, limit: int = 50, offset: int = 0,
        *, owner_id: int | None | EllipsisType = ...,
    ) -> builtins.list[Conversation]:
        """Conversations, most recently updated first, ``limit`` of them from ``offset``.

        ``search``: keep titles containing it, case-insensitively (``%`` and ``_`` are
        literal); blank means no filter. ``master_id``: only that master's. ``owner_id``: only
        that person's (``None``: those without an owner; ``...``, the default: everyone's).
        Raises ``ValueError`` for a negative ``limit`` or ``offset``.
        """
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must be >= 0")
        query = select(_conversations)
        if search and search.strip():
            pattern = "%" + _escape_like(search.strip().lower()) + "%"
            query = query.where(func.lower(_conversations.c.title).like(pattern, escape="\\"))
        if master_id is not None:
            query = query.where(_conversations.c.master_id == master_id)
        if owner_id is not ...:
            owner = _conversations.c.owner_id
            query = query.where(owner.is_(None) if owner_id is None else owner == owner_id)
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
            conn.execute(update(_conversations).where(_conversations.c.id == conversation_id).values(title=clean))
            return self._touch(conn, conversation_id, self._now(), returning=True)  # type: ignore[return-value]

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
        title = title_from_message(content) if role == "user" else None
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, now, title=title)
            return self._insert_message(conn, conversation_id, role, content, status, now)

    def start_assistant(self, conversation_id: str, model: str | None = None, *, master_id: str | None = None) -> Message:
        """Append an empty ``assistant`` message in status ``streaming``, committed; return it.

        ``model``, when given, becomes the conversation's model label; ``master_id``: the master
        who speaks (a round table's answers). Raises :class:`NotFoundError`.
        """
        now = self._now()
        with self.engine.begin() as conn:
            self._touch(conn, conversation_id, now, model=model)
            return self._insert_message(conn, conversation_id, "assistant", "", "streaming", now, master_id)

    def set_members(self, conversation_id: str, members: builtins.list[str] | None, *,
                    master_id: str | None = None) -> Conversation:
        """Seat ``members`` (master ids, in order) at the conversation's round table, committed;
        ``None`` makes it a chat with one master again. ``master_id``, when given, becomes the
        conversation's master; the answers its former master gave without a ``master_id`` of
        their own (those of a plain chat) are then marked as that former master's, so that they
        keep their speaker. Returns the conversation. Raises :class:`NotFoundError`."""
        values: dict[str, Any] = {"members": builtins.list(members) if members else None}
        if master_id:
            values["master_id"] = master_id
        with self.engine.begin() as conn:
            former = conn.execute(select(_conversations.c.master_id)
                                  .where(_conversations.c.id == conversation_id)).scalar_one_or_none()
            if master_id and former and former != master_id:
                conn.execute(update(_messages).where(_messages.c.conversation_id == conversation_id,
                                                     _messages.c.role == "assistant", _messages.c.master_id.is_(None))
                             .values(master_id=former))
            conn.execute(update(_conversations).where(_conversations.c.id == conversation_id).values(values))
            return self._touch(conn, conversation_id, self._now(), returning=True)  # type: ignore[return-value]

    def reset_message(self, message_id: int) -> Message | None:
        """Empty a finished ``assistant`` message and put it back into ``streaming``, committed, to
        be generated again in place (a round table's "regenerate this reply"): its text, usage,
        reason and notes are cleared; its place and ``master_id`` stay. Returns the message as it
        was before, or ``None`` (nothing changed) when it is not a finished assistant message."""
        with self.engine.begin() as conn:
            before = conn.execute(select(_messages).where(_messages.c.id == message_id)).mappings().first()
            if before is None or before["role"] != "assistant" or before["status"] == "streaming":
                return None
            conn.execute(update(_messages).where(_messages.c.id == message_id).values(
                content="", status="streaming", error=None, prompt_tokens=None, completion_tokens=None, ttft_s=None,
                tokens_per_s=None, finish_reason=None, safety=None, notes=None, recommendations=None,
                updated_at=self._now()))
            self._touch(conn, before["conversation_id"], self._now())
        return _message(before)

    def start_turn(
        self, conversation_id: str | None, user_text: str, *, master_id: str | None = None, model: str | None = None,
        answer: bool = True, owner_id: int | None = None, members: builtins.list[str] | None = None,
    ) -> tuple[Conversation, Message, Message | None]:
        """Store the start of a turn in one transaction, committed: the conversation (a new one
        with master ``master_id`` when ``conversation_id`` is ``None``), the user's message and
        the assistant's empty ``streaming`` message.

        The same rows as :meth:`create`, :meth:`add_message` and :meth:`start_assistant` called
        in turn (the user's message names an untitled conversation; ``model``, when given,
        becomes its model label), with one commit instead of three. Returns the conversation as
        stored, the user message and the assistant message (``None`` when ``answer`` is false:
        the caller adds it later with :meth:`start_assistant`). ``owner_id``: the owner of a new
        conversation (see :meth:`create`); ``members``, when given, seats a round table (see
        :meth:`set_members`). Raises :class:`NotFoundError`.
        """
        if conversation_id is None and not master_id:
            raise ValueError("a new conversation needs a master_id")
        title = title_from_message(user_text)
        with self.engine.begin() as conn:
            created, sent, started = self._now(), self._now(), self._now()
            if conversation_id is None:
                conversation = Conversation(id=new_id(), master_id=master_id or "", title=title, model=model,
                                            created_at=created, updated_at=started, owner_id=owner_id,
                                            members=builtins.list(members) if members else None)
                conn.execute(sql.INSERT_CONVERSATION, _fields(conversation))
            else:
                if members:
                    conn.execute(update(_conversations).where(_conversations.c.id == conversation_id)
                                 .values(members=builtins.list(members)))
                conversation = self._touch(conn, conversation_id, started, model=model, title=title, returning=True)
            user = self._insert_message(conn, conversation.id, "user", user_text, "complete", sent)
            assistant = self._insert_message(conn, conversation.id, "assistant", "", "streaming", started) if answer else None
        return conversation, user, assistant

    def restart_turn(
        self, conversation_id: str, user_message_id: int, user_text: str | None = None, *, model: str | None = None,
        answer: bool = True,
    ) -> tuple[Conversation, Message | None, Message | None]:
        """Answer user message ``user_message_id`` again, in one transaction, committed.

        ``user_text`` ``None`` (regenerate): every message after it is deleted. Else (edit and
        resend): it and every later message are deleted and ``user_text`` is stored in its place.
        Then the assistant's empty ``streaming`` message is added (``model``: the conversation's
        new model label) unless ``answer`` is false. Returns the conversation, the user message
        (``None`` for a regenerate: the caller has it) and the assistant message (or ``None``). Raises :class:`NotFoundError` when the
        conversation does not exist or the message is not in it.
        """
        with self.engine.begin() as conn:
            now = self._now()
            owner = conn.execute(select(_messages.c.conversation_id).where(_messages.c.id == user_message_id)).scalar()
            if owner != conversation_id:
                raise NotFoundError(f"no message {user_message_id!r} in conversation {conversation_id!r}")
            start = _messages.c.id > user_message_id if user_text is None else _messages.c.id >= user_message_id
            conn.execute(delete(_messages).where(_messages.c.conversation_id == conversation_id, start))
            user = None if user_text is None else self._insert_message(conn, conversation_id, "user", user_text, "complete", now)
            started = self._now()
            title = title_from_message(user_text) if user_text is not None else None
            conversation = self._touch(conn, conversation_id, started, model=model, title=title, returning=True)
            assistant = self._insert_message(conn, conversation_id, "assistant", "", "streaming", started) if answer else None
        return conversation, user, assistant

    @staticmethod
    def _insert_message(
        conn: Connection, conversation_id: str, role: str, content: str, status: str, now: dt.datetime,
        master_id: str | None = None,
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
            "recommendations": None,
            "citations": None,
            "created_at": now,
            "updated_at": now,
            "master_id": master_id,
        }
        result = conn.execute(sql.INSERT_MESSAGE, fields)
        return Message(id=result.inserted_primary_key[0], **fields)

    def update_content(self, message_id: int, content: str) -> bool:
        """Replace a ``streaming`` message's content (a batched progress write), committed.

        One UPDATE of the message plus one of its conversation's ``updated_at``, no reads.
        Returns ``False``, changing nothing, when the message is no longer ``streaming`` (it
        was finished or recovered meanwhile). Raises :class:`NotFoundError` when the message
        does not exist (e.g. deleted by a regenerate).
        """
        params = {"b_id": message_id, "b_content": content, "b_updated_at": self._now()}
        with self.engine.begin() as conn:
            if conn.execute(sql.UPDATE_CONTENT, params).rowcount == 0:
                if conn.execute(sql.MESSAGE_EXISTS, params).first() is None:
                    raise NotFoundError(f"no message {message_id!r}")
                return False
            conn.execute(sql.TOUCH_OWNER, params)
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
        recommendations: dict[str, Any] | None = None,
        citations: builtins.list[dict[str, Any]] | None = None,
        *,
        returning: bool = True,
    ) -> Message | None:
        """Store a message's final content, status and usage, committed; return the message
        (``returning=False``: return ``None`` and read nothing back — a turn's end, whose caller
        has every value already, skips decoding the row).

        ``status`` is ``complete``, ``stopped`` (content keeps the partial text) or ``error``
        (``error`` gives the reason). ``finish_reason``, ``safety``, ``notes``, ``recommendations`` and ``citations`` are stored as
        given (see :class:`Message`). Raises ``ValueError`` for another status and
        :class:`NotFoundError`.
        """
        _check(status, ("complete", "stopped", "error"), "a final status")
        now = self._now()
        params = {"b_id": message_id, "b_content": content, "b_status": status, "b_error": error,
                  "b_prompt_tokens": prompt_tokens, "b_completion_tokens": completion_tokens, "b_ttft_s": ttft_s,
                  "b_tokens_per_s": tokens_per_s, "b_finish_reason": finish_reason, "b_safety": safety or None,
                  "b_notes": notes or None, "b_recommendations": recommendations or None, "b_citations": citations or None,
                  "b_updated_at": now}
        with self.engine.begin() as conn:
            if not returning:
                if conn.execute(sql.END_MESSAGE, params).rowcount == 0:
                    raise NotFoundError(f"no message {message_id!r}")
                conn.execute(sql.TOUCH_OWNER, params)  # the conversation found by the message's id
                return None
            row = conn.execute(sql.FINISH_MESSAGE, params).mappings().first()
            if row is None:
                raise NotFoundError(f"no message {message_id!r}")
            self._touch(conn, row["conversation_id"], now)
        return _message(row)

    def reopen(self, message_id: int, finish_reason: str = "length") -> Message | None:
        """Put a ``complete`` message that ended with ``finish_reason`` back into ``streaming``
        (its text kept, its finish reason cleared), committed, to be continued: the check and the
        change are one UPDATE. Returns the message as it was before, or ``None`` (changing
        nothing) when it is not such a message."""
        with self.engine.begin() as conn:
            before = conn.execute(select(_messages).where(_messages.c.id == message_id)).mappings().first()
            if before is None or before["status"] != "complete" or before["finish_reason"] != finish_reason:
                return None
            changed = conn.execute(
                update(_messages)
                .where(_messages.c.id == message_id, _messages.c.status == "complete",
                       _messages.c.finish_reason == finish_reason)
                .values(status="streaming", finish_reason=None, updated_at=self._now())
            ).rowcount
            if changed == 0:
                return None
            self._touch(conn, before["conversation_id"], self._now())
        return _message(before)

    def messages(self, conversation_id: str) -> builtins.list[Message]:
        """A conversation's messages, oldest first. Raises :class:`NotFoundError`."""
        with self.engine.connect() as conn:
            rows = conn.execute(sql.SELECT_MESSAGES, {"b_id": conversation_id}).mappings().all()
            if not rows and conn.execute(sql.SELECT_CONVERSATION, {"b_id": conversation_id}).first() is None:
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

    def recover_interrupted(self, reason: str = INTERRUPTED_REASON, *, skip: Iterable[str] = ()) -> int:
        """Mark every ``streaming`` message as ``error`` with ``reason``, keeping its text, except
        in the conversations ``skip`` names (their answers run in other live hall processes).

        Call once at server start, before any generation runs. Returns how many messages were marked.
        """
        now = self._now()
        skip = list(skip)
        streaming = _messages.c.status == "streaming"
        if skip:
            streaming = streaming & _messages.c.conversation_id.not_in(skip)
        with self.engine.begin() as conn:
            conn.execute(update(_conversations).where(_conversations.c.id.in_(select(_messages.c.conversation_id)
                                                                               .where(streaming))).values(updated_at=now))
            result = conn.execute(update(_messages).where(streaming).values(status="error", error=reason, updated_at=now))
        return result.rowcount
