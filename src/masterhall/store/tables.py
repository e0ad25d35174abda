"""The database tables: ``conversations`` and their ``messages``, user masters and their files,
and the accounts (``users``, ``sessions``, ``api_keys``) that own them (SQLAlchemy 2 declarative).

Timestamps are stored as UTC and always read back as timezone-aware UTC ``datetime`` values,
on SQLite (which has no time zones) as on PostgreSQL (``timestamptz``). Schema changes go
through an Alembic revision in ``store/migrations/versions/``; a test checks that the
migrations and these classes agree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Message roles, as in OpenAI-style chat APIs.
ROLES = ("user", "assistant", "system")
#: Message states: ``streaming`` while generated, then ``complete``, ``stopped`` (the user
#: stopped it) or ``error`` (the backend failed, or the server stopped mid-generation).
STATUSES = ("complete", "streaming", "stopped", "error")

#: Constraint and index names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    """A new conversation id: a random UUID4 as 32 lower-case hex digits."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A ``DateTime`` that takes and returns timezone-aware UTC values.

    Binding a naive ``datetime`` raises ``ValueError`` (it would be ambiguous). On SQLite the
    value is stored as naive UTC text; on PostgreSQL as ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware value")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of the store's tables (``Base.metadata`` is what Alembic compares)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


#: Account roles: an ``admin`` manages members and sees every draft and file; a ``member``
#: sees what they own and what is published.
ROLES_OF_USERS = ("admin", "member")


class UserRow(Base):
    """One row of ``users``: a local account.

    ``name``: the login name (unique, case-sensitive as stored). ``password_hash``: an argon2id
    hash in PHC string form (``$argon2id$v=19$…``). ``disabled``: a disabled account cannot sign
    in and its sessions and keys stop working. ``last_login_at``: ``None`` until the first login.
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES_OF_USERS), name="role"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="member")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column()


class SessionRow(Base):
    """One row of ``sessions``: a signed-in browser. ``id`` is the SHA-256 (64 hex digits) of the
    random token in the session cookie, so a copy of the database does not hold usable cookies.
    Deleted with its user."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKeyRow(Base):
    """One row of ``api_keys``: a person's key for ``Authorization: Bearer …``.

    ``key_hash``: SHA-256 (64 hex digits) of the whole key (keys are long random strings, shown
    once). ``prefix``: the key's first characters, shown in lists so a person can tell keys apart.
    ``revoked_at``: set when revoked (the row stays for the record). Deleted with its user.
    """

    __tablename__ = "api_keys"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class ConversationRow(Base):
    """One row of ``conversations``: a chat with one master.

    ``id``: 32 hex digits (UUID4). ``owner_id``: the person who started it (``None`` while the
    hall has no accounts; assigned to the first admin when one is created). ``master_id``: catalog id of the master. ``title``: shown in
    the list (``None`` until the first user message gives one). ``model``: label of the
    backend/model last used, e.g. ``embedded/qwen2.5-0.5b`` (free text, nullable). ``members``: the
    master ids seated at a round table, in the order they joined (JSON list; ``None`` for a chat
    with one master, whose ``master_id`` is then its only master; a round table's ``master_id`` is
    the master it started with).
    """

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    master_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    members: Mapped[list | None] = mapped_column(JSON)


class MessageRow(Base):
    """One row of ``messages``, deleted with its conversation (``ON DELETE CASCADE``).

    ``id`` grows with every insert and is never reused (SQLite ``AUTOINCREMENT``), so it gives
    the order of a conversation's messages. ``error`` is the reason when ``status`` is
    ``error``. ``prompt_tokens`` / ``completion_tokens`` are counts; ``ttft_s`` is seconds to the
    first token; ``tokens_per_s`` is the decoding speed. All four are ``None`` when unknown.
    ``finish_reason`` is the backend's (``stop``, ``length``, ``cancelled``, ``error``, ``guard``)
    for an assistant message. ``safety`` records what the safety guard decided for the turn (JSON
    object: kind, level, source, rule or score), ``notes`` what the hall did to the prompt (JSON
    list of strings, e.g. history left out to fit the context window); both ``None`` when empty.
    ``recommendations``: the masters a guide's answer recommends (JSON object, see
    :class:`~masterhall.chat.engine.GuideBrief`), shown as master cards; ``None`` for other answers.
    ``citations``: the knowledge an answer drew on (JSON list of ``{source, kind, position,
    snippet}``, see :mod:`masterhall.knowledge`); ``None`` when it drew on none.
    ``master_id``: the master who wrote an assistant message at a round table (``None``: the
    conversation's own master).
    """

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="complete")
    error: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    ttft_s: Mapped[float | None] = mapped_column(Float)
    tokens_per_s: Mapped[float | None] = mapped_column(Float)
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    safety: Mapped[dict | None] = mapped_column(JSON)
    notes: Mapped[list | None] = mapped_column(JSON)
    recommendations: Mapped[dict | None] = mapped_column(JSON)
    citations: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    master_id: Mapped[str | None] = mapped_column(String(100))


#: States of a user-created master: only ``published`` ones appear in the hall, the APIs and
#: the Finder; a ``draft`` is seen by its creator in the builder only.
MASTER_STATUSES = ("draft", "published")


class UserMasterRow(Base):
    """One row of ``user_masters``: a master made (or imported, or forked) by a creator.

    ``id`` is the master id (same rules as the catalog's). ``data`` holds the master as JSON,
    validated by :class:`masterhall.catalog.Master` on every write and read. ``forked_from``
    names the built-in or user master it was copied from (nullable). ``owner_id``: the creator
    (``None`` while the hall has no accounts). ``instructions_visible``: whether people other than
    the creator (and admins) may read a published master's instructions (default hidden).
    """

    __tablename__ = "user_masters"
    __table_args__ = (CheckConstraint(_in("status", MASTER_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instructions_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    forked_from: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class MasterFileRow(Base):
    """One row of ``master_files``: a file a creator attached to a user master (its knowledge).

    ``public_id``: the file's id in URLs and APIs, 32 random hex digits (UUID4), so that nobody
    finds a file by counting (``id`` stays internal). ``downloadable``: whether chat users may
    download it (off unless the creator turns it on). ``size`` in bytes. Deleted with its master.
    """

    __tablename__ = "master_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    master_id: Mapped[str] = mapped_column(String(64), ForeignKey("user_masters.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    downloadable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


#: Kinds of curated knowledge entries: a question and its answer, or a lorebook entry (its
#: ``keys`` trigger it when a message contains one).
KNOWLEDGE_ENTRY_KINDS = ("qa", "lore")


class KnowledgeEntryRow(Base):
    """One row of ``knowledge_entries``: a curated Q&A pair or a lorebook entry of a user master.

    ``public_id``: 32 random hex digits (the id in URLs). ``title``: shown in citations (a Q&A
    pair's defaults to its question). ``keys``: a lorebook entry's trigger words (JSON list).
    ``extra``: the entry's other lorebook fields, kept for export. ``ordinal``: display order.
    Deleted with its master.
    """

    __tablename__ = "knowledge_entries"
    __table_args__ = (CheckConstraint(_in("kind", KNOWLEDGE_ENTRY_KINDS), name="kind"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    master_id: Mapped[str] = mapped_column(String(64), ForeignKey("user_masters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="qa")
    title: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    keys: Mapped[list | None] = mapped_column(JSON)
    extra: Mapped[dict | None] = mapped_column(JSON)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KnowledgeRevisionRow(Base):
    """One row of ``knowledge_revisions``: a random token (32 hex digits) replaced at every change
    of a master's chunks or entries, so that a process holding the master's index in memory sees
    with one primary-key read whether it is still current. Deleted with its master."""

    __tablename__ = "knowledge_revisions"

    master_id: Mapped[str] = mapped_column(String(64), ForeignKey("user_masters.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[str] = mapped_column(String(32))


class KnowledgeChunkRow(Base):
    """One row of ``knowledge_chunks``: a retrievable piece of a master's knowledge.

    ``source_id``: the public id of the file or entry it comes from; ``source_kind``: ``file``,
    ``qa`` or ``lore``; ``source_name``: the file name or entry title (for citations);
    ``position``: ``page N``, a heading path or ``""``; ``ordinal``: order within the source.
    ``text_hash``: SHA-256 of ``text`` (unchanged chunks keep their vectors on re-indexing);
    ``vectors``: each encoder's ``float32`` vector, concatenated in the order of ``encoder``
    (encoder names joined by ``+``). Deleted with its master.
    """

    __tablename__ = "knowledge_chunks"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    master_id: Mapped[str] = mapped_column(String(64), ForeignKey("user_masters.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(String(32), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_name: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[str] = mapped_column(Text, default="")
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    encoder: Mapped[str] = mapped_column(String(200), default="")
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
