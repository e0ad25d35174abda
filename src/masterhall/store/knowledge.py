"""A master's knowledge in the database: curated entries (Q&A pairs, lorebook entries) and the
retrievable chunks of files and entries, with their vectors. See :mod:`masterhall.knowledge`.

Every method commits before it returns. Ids shown outside are the 32-hex-digit public ids.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, insert, select, update

from ..errors import NotFoundError
from .tables import KnowledgeChunkRow, KnowledgeEntryRow, KnowledgeRevisionRow, new_id, utcnow

_entries = KnowledgeEntryRow.__table__
_chunks = KnowledgeChunkRow.__table__
_revisions = KnowledgeRevisionRow.__table__


def _bump(conn, master_id: str) -> None:
    """Give ``master_id`` a new revision token, in the caller's transaction (an upsert)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    token = new_id()
    statement = upsert(_revisions).values(master_id=master_id, revision=token)
    conn.execute(statement.on_conflict_do_update(index_elements=["master_id"], set_={"revision": token}))


@dataclass(frozen=True)
class Entry:
    """A curated Q&A pair (``kind="qa"``) or lorebook entry (``kind="lore"``: ``answer`` is its
    content, ``keys`` its trigger words, ``extra`` its other lorebook fields)."""

    id: str
    master_id: str
    kind: str
    title: str
    question: str
    answer: str
    keys: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    ordinal: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        """The name citations use: the title, else the question, else the first key."""
        return self.title or self.question or (self.keys[0] if self.keys else "")

    def to_dict(self) -> dict:
        """JSON-ready (timestamps as ISO 8601)."""
        return {"id": self.id, "master_id": self.master_id, "kind": self.kind, "title": self.title,
                "question": self.question, "answer": self.answer, "keys": list(self.keys), "extra": dict(self.extra),
                "ordinal": self.ordinal, "created_at": self.created_at.isoformat() if self.created_at else None,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


@dataclass(frozen=True)
class StoredChunk:
    """A stored chunk (see :class:`~masterhall.store.tables.KnowledgeChunkRow`); ``id`` is the
    internal row id (chunks are never addressed from outside)."""

    id: int
    source_id: str
    source_kind: str
    source_name: str
    position: str
    ordinal: int
    text: str
    text_hash: str
    encoder: str = ""
    vectors: bytes | None = None

    def to_dict(self) -> dict:
        """JSON-ready, without the vectors."""
        return {"source_id": self.source_id, "source_kind": self.source_kind, "source_name": self.source_name,
                "position": self.position, "ordinal": self.ordinal, "text": self.text}


@dataclass(frozen=True)
class NewChunk:
    """A chunk to store: text, position, ordinal, hash and its vectors (``None``: none)."""

    text: str
    position: str
    ordinal: int
    text_hash: str
    vectors: bytes | None = None


def _entry(row) -> Entry:
    return Entry(row.public_id, row.master_id, row.kind, row.title, row.question, row.answer, list(row.keys or []),
                 dict(row.extra or {}), row.ordinal, row.created_at, row.updated_at)


_CHUNK_COLS = [_chunks.c.id, _chunks.c.source_id, _chunks.c.source_kind, _chunks.c.source_name, _chunks.c.position,
               _chunks.c.ordinal, _chunks.c.text, _chunks.c.text_hash]


class KnowledgeRepo:
    """Entries and chunks of user masters."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- entries ------------------------------------------------------------------------------
    def entries(self, master_id: str, kind: str | None = None) -> builtins.list[Entry]:
        """A master's entries (of ``kind`` when given), in display order."""
        query = select(_entries).where(_entries.c.master_id == master_id).order_by(_entries.c.ordinal, _entries.c.id)
        if kind is not None:
            query = query.where(_entries.c.kind == kind)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def entry(self, entry_id: str) -> Entry | None:
        """One entry by public id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_entries).where(_entries.c.public_id == entry_id)).first()
        return None if row is None else _entry(row)

    def add_entries(self, master_id: str, items: builtins.list[dict], *, replace_kind: str | None = None) -> builtins.list[Entry]:
        """Add entries (dicts of ``kind``, ``title``, ``question``, ``answer``, ``keys``,
        ``extra``) after the master's others, in one transaction; ``replace_kind`` first deletes
        the master's entries of that kind (and their chunks). Returns the new entries."""
        now, ids = utcnow(), []
        with self.engine.begin() as conn:
            if replace_kind is not None:
                old = select(_entries.c.public_id).where(_entries.c.master_id == master_id, _entries.c.kind == replace_kind)
                conn.execute(delete(_chunks).where(_chunks.c.source_id.in_(old)))
                conn.execute(delete(_entries).where(_entries.c.master_id == master_id, _entries.c.kind == replace_kind))
            start = conn.execute(select(func.coalesce(func.max(_entries.c.ordinal), -1))
                                 .where(_entries.c.master_id == master_id)).scalar_one() + 1
            _bump(conn, master_id)
            for n, item in enumerate(items):
                public_id = new_id()
                ids.append(public_id)
                conn.execute(insert(_entries).values(
                    public_id=public_id, master_id=master_id, kind=item.get("kind", "qa"), title=item.get("title") or "",
                    question=item.get("question") or "", answer=item.get("answer") or "", keys=item.get("keys") or None,
                    extra=item.get("extra") or None, ordinal=start + n, created_at=now, updated_at=now))
        return [e for e in self.entries(master_id) if e.id in set(ids)]

    def update_entry(self, entry_id: str, **values) -> Entry:
        """Change an entry's ``title``, ``question``, ``answer``, ``keys`` (others ignored);
        raises :class:`NotFoundError`."""
        values = {k: v for k, v in values.items() if k in ("title", "question", "answer", "keys") and v is not None}
        with self.engine.begin() as conn:
            done = conn.execute(update(_entries).where(_entries.c.public_id == entry_id).values(**values, updated_at=utcnow()))
            if done.rowcount:
                _bump(conn, conn.execute(select(_entries.c.master_id).where(_entries.c.public_id == entry_id)).scalar_one())
        if not done.rowcount:
            raise NotFoundError(f"entry {entry_id} not found")
        return self.entry(entry_id)  # type: ignore[return-value]

    def delete_entry(self, entry_id: str) -> bool:
        """Delete an entry and its chunks; False when there was none."""
        with self.engine.begin() as conn:
            master_id = conn.execute(select(_entries.c.master_id).where(_entries.c.public_id == entry_id)).scalar()
            if master_id is None:
                return False
            _bump(conn, master_id)
            conn.execute(delete(_chunks).where(_chunks.c.source_id == entry_id))
            return bool(conn.execute(delete(_entries).where(_entries.c.public_id == entry_id)).rowcount)

    # -- chunks -------------------------------------------------------------------------------
    def chunks(self, master_id: str, source_id: str | None = None, *, with_vectors: bool = False) -> builtins.list[StoredChunk]:
        """A master's chunks (of one source when given), by source then ordinal."""
        cols = _CHUNK_COLS + ([_chunks.c.encoder, _chunks.c.vectors] if with_vectors else [])
        query = select(*cols).where(_chunks.c.master_id == master_id).order_by(_chunks.c.id)
        if source_id is not None:
            query = query.where(_chunks.c.source_id == source_id)
        with self.engine.connect() as conn:
            return [StoredChunk(**r._mapping) for r in conn.execute(query)]

    def vectors_by_hash(self, master_id: str, encoder: str) -> dict[str, bytes]:
        """The stored vectors of a master's chunks made by ``encoder``, by text hash (for reuse)."""
        query = select(_chunks.c.text_hash, _chunks.c.vectors).where(
            _chunks.c.master_id == master_id, _chunks.c.encoder == encoder, _chunks.c.vectors.is_not(None))
        with self.engine.connect() as conn:
            return {h: v for h, v in conn.execute(query)}

    def replace_chunks(self, master_id: str, source_id: str, kind: str, name: str, chunks: builtins.list[NewChunk],
                       encoder: str) -> int:
        """Replace one source's chunks with ``chunks`` in one transaction; returns how many."""
        now = utcnow()
        with self.engine.begin() as conn:
            _bump(conn, master_id)
            conn.execute(delete(_chunks).where(_chunks.c.master_id == master_id, _chunks.c.source_id == source_id))
            if chunks:
                conn.execute(insert(_chunks), [
                    {"master_id": master_id, "source_id": source_id, "source_kind": kind, "source_name": name,
                     "position": c.position, "ordinal": c.ordinal, "text": c.text, "text_hash": c.text_hash,
                     "encoder": encoder, "vectors": c.vectors, "created_at": now} for c in chunks])
        return len(chunks)

    def delete_source(self, source_id: str) -> int:
        """Delete a source's chunks; returns how many."""
        with self.engine.begin() as conn:
            for (master_id,) in conn.execute(select(_chunks.c.master_id).where(_chunks.c.source_id == source_id).distinct()):
                _bump(conn, master_id)
            return conn.execute(delete(_chunks).where(_chunks.c.source_id == source_id)).rowcount

    def has_any(self, master_id: str) -> bool:
        """Whether the master has any chunk or entry."""
        with self.engine.connect() as conn:
            return any(conn.execute(select(t.c.id).where(t.c.master_id == master_id).limit(1)).first() is not None
                       for t in (_chunks, _entries))

    def signature(self, master_id: str) -> str | None:
        """The master's revision token: it changes whenever its chunks or entries change (one
        primary-key read); ``None`` when it never had any (or they went with a re-import)."""
        with self.engine.connect() as conn:
            return conn.execute(select(_revisions.c.revision).where(_revisions.c.master_id == master_id)).scalar()
