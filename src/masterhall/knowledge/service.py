"""The knowledge service: a user master's files and curated entries, indexed and retrieved.

Rules (README, *Who sees what*): a master's knowledge is managed by whoever manages the master
(its creator and the admins; :meth:`MasterLibrary.managed
<masterhall.builder.library.MasterLibrary.managed>` decides) and never shown to anyone else:
chat users get answers that cite it, not the files (their download stays the library's rule:
only files made downloadable). Built-in masters have no stored knowledge.

Indexing is incremental: a source (file or entry) is re-chunked when it changes, and only
chunks whose text is new are embedded; the others keep their stored vectors (by text hash).
Each master's in-memory :class:`~masterhall.knowledge.index.HybridIndex` is rebuilt from the
stored chunks and vectors when the store's :meth:`signature
<masterhall.store.knowledge.KnowledgeRepo.signature>` for it changes (another process may have
written), so retrieval never encodes stored text.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from ..accounts import LOCAL, Caller
from ..backends.base import ChatMessage
from ..builder.library import MasterLibrary
from ..catalog.models import Master
from ..chat.grounding import KnowledgeBrief
from ..errors import ForbiddenError, InvalidRequestError, NotFoundError
from ..finder.encoders import Encoder
from ..finder.text import tokenize
from ..store.knowledge import Entry, KnowledgeRepo, NewChunk, StoredChunk
from .answer import BUDGET_TOKENS, QA_THRESHOLD, Candidate, build_brief, dice
from .chunk import Chunk, chunk_sections, text_hash
from .index import HybridIndex, vectors_from_bytes
from .lore import SCAN_DEPTH, book_of, entries_from_book, triggered, with_book
from .parse import Section, file_format, parse_file
from .qa import pair, read_pairs

#: Chunks retrieved per turn before the budget is applied.
TOP_K = 8


def qa_text(entry: Entry) -> str:
    """The indexed text of a Q&A pair."""
    return f"Q: {entry.question}\nA: {entry.answer}"


def indexed_text(text: str, position: str) -> str:
    """What is indexed of a chunk: its heading path (not a page number) before its text, so that
    a question naming a section finds it (the chunk's text itself stays as written)."""
    return f"{position}\n{text}" if position and not position.startswith("page ") else text


class _Loaded:
    """A master's index in memory: the store signature it was built at, the chunks, the index."""

    def __init__(self, signature: str, chunks: list[StoredChunk], index: HybridIndex, entries: dict[str, Entry]):
        self.signature, self.chunks, self.index, self.entries = signature, chunks, index, entries


class KnowledgeService:
    """Files and curated entries of user masters (see the module docstring).

    ``encoders``: the sentence encoders chunks are embedded with (none: BM25 only); ``budget``
    and ``qa_threshold``: see :mod:`masterhall.knowledge.answer`.
    """

    def __init__(self, library: MasterLibrary, repo: KnowledgeRepo, encoders: Sequence[Encoder] = (), *,
                 budget: int = BUDGET_TOKENS, qa_threshold: float = QA_THRESHOLD, top_k: int = TOP_K):
        self.library = library
        self.repo = repo
        self.encoders = list(encoders)
        self.budget, self.qa_threshold, self.top_k = budget, qa_threshold, top_k
        self._loaded: dict[str, _Loaded] = {}
        #: How many chunk texts the last indexing embedded (the others kept their vectors).
        self.last_embedded = 0
        self._lock = threading.Lock()
        library.after_import.append(self._import_lorebooks)
        library.before_export.append(self._export_lorebook)

    @property
    def encoder_key(self) -> str:
        """The encoders' names joined by ``+`` (stored with each chunk's vectors)."""
        return "+".join(e.name for e in self.encoders)

    # -- files ------------------------------------------------------------------------------
    def add_file(self, master_id: str, filename: str | None, content: bytes, content_type: str | None = None,
                 downloadable: bool = False, *, caller: Caller = LOCAL) -> dict:
        """Attach a file and index it when its format is readable (see
        :mod:`~masterhall.knowledge.parse`; other files are kept, not indexed). Returns the
        file's metadata with ``chunks`` (how many) and ``indexed``. A readable format that fails
        to parse raises :class:`~masterhall.knowledge.parse.UnreadableFileError` and nothing is
        stored; ownership errors as :meth:`MasterLibrary.add_file`."""
        name = filename or "file"
        sections = self._sections(content, name, content_type)
        saved = self.library.add_file(master_id, filename, content, content_type, downloadable, caller=caller)
        count = self._index_sections(saved.master_id, saved.id, "file", saved.filename, sections)
        return {**saved.to_dict(), "chunks": count, "indexed": sections is not None}

    def replace_file(self, file_id: str, filename: str | None, content: bytes, content_type: str | None = None, *,
                     caller: Caller = LOCAL) -> dict:
        """Replace a file's content and re-index it (unchanged chunks keep their vectors)."""
        old = self.library.file(file_id, caller)
        name = filename or old.filename
        sections = self._sections(content, name, content_type or old.content_type)
        saved = self.library.replace_file(file_id, name, content, content_type, caller=caller)
        count = self._index_sections(saved.master_id, saved.id, "file", saved.filename, sections)
        return {**saved.to_dict(), "chunks": count, "indexed": sections is not None}

    def delete_file(self, file_id: str, *, caller: Caller = LOCAL) -> None:
        """Delete a file and its chunks. Raises ``NotFoundError``."""
        self.library.delete_file(file_id, caller)
        self.repo.delete_source(file_id)

    def files(self, master_id: str, *, caller: Caller = LOCAL) -> list[dict]:
        """A master's files with how many chunks each has."""
        files = self.library.files(master_id, caller)
        counts: dict[str, int] = {}
        for c in self.repo.chunks(master_id):
            counts[c.source_id] = counts.get(c.source_id, 0) + 1
        return [{**f.to_dict(), "chunks": counts.get(f.id, 0), "indexed": file_format(f.filename, f.content_type) is not None}
                for f in files]

    def chunks(self, master_id: str, source_id: str | None = None, *, caller: Caller = LOCAL) -> list[dict]:
        """A master's chunks (of one source), for the builder's preview."""
        self.library.managed(master_id, caller)
        return [c.to_dict() for c in self.repo.chunks(master_id, source_id)]

    # -- curated entries --------------------------------------------------------------------
    def entries(self, master_id: str, kind: str | None = None, *, caller: Caller = LOCAL) -> list[Entry]:
        """A master's Q&A pairs and lorebook entries (of ``kind``)."""
        self.library.managed(master_id, caller)
        return self.repo.entries(master_id, kind)

    def add_pair(self, master_id: str, question: str, answer: str, title: str = "", *, caller: Caller = LOCAL) -> Entry:
        """Add a Q&A pair and index it. Raises ``InvalidRequestError`` (``invalid_pair``)."""
        self.library.managed(master_id, caller)
        entry = self.repo.add_entries(master_id, [pair(question, answer, title)])[0]
        self._index_entry(entry)
        return entry

    def import_pairs(self, master_id: str, data: bytes, filename: str = "", *, caller: Caller = LOCAL) -> list[Entry]:
        """Add the Q&A pairs of a CSV or JSON-lines file (all or nothing; see :mod:`.qa`)."""
        self.library.managed(master_id, caller)
        entries = self.repo.add_entries(master_id, read_pairs(data, filename))
        for entry in entries:
            self._index_entry(entry)
        return entries

    def update_entry(self, entry_id: str, *, caller: Caller = LOCAL, **values) -> Entry:
        """Edit an entry (``title``, ``question``, ``answer``, ``keys``) and re-index it."""
        entry = self._own_entry(entry_id, caller)
        if entry.kind == "qa":
            pair(values.get("question") or entry.question, values.get("answer") or entry.answer,
                 values.get("title") or entry.title)
        updated = self.repo.update_entry(entry_id, **values)
        self._index_entry(updated)
        return updated

    def delete_entry(self, entry_id: str, *, caller: Caller = LOCAL) -> None:
        """Delete an entry (and its chunks). Raises ``NotFoundError``."""
        self._own_entry(entry_id, caller)
        self.repo.delete_entry(entry_id)

    def import_lorebook(self, master_id: str, book: dict, *, caller: Caller = LOCAL) -> list[Entry]:
        """Replace a master's lorebook entries with those of a ``character_book``."""
        self.library.managed(master_id, caller)
        return self.repo.add_entries(master_id, entries_from_book(book), replace_kind="lore")

    def has_knowledge(self, master_id: str) -> bool:
        """Whether a stored master has files indexed or entries (no ownership check)."""
        return self.repo.has_any(master_id)

    # -- retrieval --------------------------------------------------------------------------
    def search(self, master_id: str, query: str, *, caller: Caller = LOCAL) -> dict:
        """What a turn with ``query`` would retrieve (the builder's "what would be retrieved"
        box): the brief's debug record and its prompt section."""
        self.library.managed(master_id, caller)
        if not query.strip():
            raise InvalidRequestError("write a question to look up", code="empty_query")
        brief = self.brief_for(master_id, [], query)
        return {"query": query, "prompt": brief.text if brief else "", **(brief.debug if brief else {"candidates": []})}

    def brief(self, master: Master, history: Sequence[ChatMessage], message: str, lang: str) -> KnowledgeBrief | None:
        """The knowledge of a turn with ``master`` (a :data:`~masterhall.chat.grounding.KnowledgeContext`);
        ``None`` for a master without stored knowledge."""
        if master.id in self.library.catalog.builtin_ids:
            return None
        return self.brief_for(master.id, history, message)

    def brief_for(self, master_id: str, history: Sequence[ChatMessage], message: str) -> KnowledgeBrief | None:
        """:meth:`brief` by master id (no ownership check: the caller decided)."""
        loaded = self._index(master_id)
        if loaded is None:
            return None
        recent = [m.content for m in list(history)[-SCAN_DEPTH:]]
        lore = [Candidate("lore", e.label, "", e.answer, source_id=e.id)
                for e in triggered(list(loaded.entries.values()), [message, *recent])]
        return build_brief(self.retrieve(loaded, message), lore, budget=self.budget, qa_threshold=self.qa_threshold)

    def ranked(self, master_id: str, query: str) -> list[Candidate]:
        """What a turn retrieves for ``query``, best first (no ownership check): the Q&A pair it
        would answer from first, then the fused chunks (lorebook entries aside)."""
        loaded = self._index(master_id)
        if loaded is None:
            return []
        found = self.retrieve(loaded, query)
        first = max((c for c in found if c.kind == "qa"), key=lambda c: c.qa_score, default=None)
        if first is not None and first.qa_score >= self.qa_threshold:
            found = [first] + [c for c in found if c is not first]
        return found

    def retrieve(self, loaded: _Loaded, query: str) -> list[Candidate]:
        """The best chunks of a loaded index for ``query`` as candidates, best first."""
        vectors = {e.name: e.encode_query(query) for e in loaded.index.encoders}
        terms = tokenize(query)
        out = []
        for hit in loaded.index.search(query, self.top_k, query_vectors=vectors):
            c = loaded.chunks[hit.row]
            cand = Candidate(c.source_kind, c.source_name, c.position, c.text, hit.score, hit.channels, source_id=c.source_id)
            entry = loaded.entries.get(c.source_id)
            if c.source_kind == "qa" and entry is not None:
                cosine = max([v for k, v in hit.channels.items() if k != "bm25" and v == v] or [0.0])
                cand.question, cand.answer = entry.question, entry.answer
                cand.qa_score = max(dice(terms, tokenize(entry.question)), cosine)
            out.append(cand)
        return out

    # -- internals --------------------------------------------------------------------------
    def _own_entry(self, entry_id: str, caller: Caller) -> Entry:
        entry = self.repo.entry(entry_id)
        if entry is None:
            raise NotFoundError(f"entry {entry_id} not found")
        try:
            self.library.managed(entry.master_id, caller)
        except (NotFoundError, ForbiddenError):  # like files: what is not yours does not exist
            raise NotFoundError(f"entry {entry_id} not found") from None
        return entry

    def _sections(self, content: bytes, filename: str, content_type: str | None) -> list[Section] | None:
        if file_format(filename, content_type) is None:
            return None
        return parse_file(content, filename, content_type)

    def _index_entry(self, entry: Entry) -> int:
        if entry.kind != "qa":
            return 0
        return self._index_sections(entry.master_id, entry.id, "qa", entry.label, [Section(qa_text(entry))], whole=True)

    def _index_sections(self, master_id: str, source_id: str, kind: str, name: str, sections: list[Section] | None,
                        whole: bool = False) -> int:
        """Chunk ``sections`` and store them as ``source_id``'s chunks, embedding only texts
        whose hash has no stored vectors yet. ``whole``: one chunk (a Q&A pair)."""
        if sections is None:
            self.repo.delete_source(source_id)
            return 0
        chunks = [Chunk(sections[0].text, "", 0)] if whole else chunk_sections(sections)
        key = self.encoder_key
        known = self.repo.vectors_by_hash(master_id, key) if key else {}
        texts = [indexed_text(c.text, c.position) for c in chunks]
        hashes = [text_hash(t) for t in texts]
        fresh = [(h, t) for h, t in dict(zip(hashes, texts)).items() if h not in known]
        if fresh and self.encoders:
            parts = [e.encode_documents([t for _, t in fresh]).astype(np.float32) for e in self.encoders]
            for (h, _), row in zip(fresh, np.concatenate(parts, axis=1)):
                known[h] = row.tobytes()
        new = [NewChunk(c.text, c.position, c.ordinal, h, known.get(h) if key else None) for c, h in zip(chunks, hashes)]
        self.last_embedded = len(fresh) if self.encoders else 0
        return self.repo.replace_chunks(master_id, source_id, kind, name, new, key)

    def _index(self, master_id: str) -> _Loaded | None:
        """The master's loaded index, rebuilt when the store changed; ``None`` when it has no knowledge."""
        signature = self.repo.signature(master_id)
        if signature is None:
            self._loaded.pop(master_id, None)
            return None
        with self._lock:
            loaded = self._loaded.get(master_id)
            if loaded is not None and loaded.signature == signature:
                return loaded
        chunks = self.repo.chunks(master_id, with_vectors=True)
        entries = {e.id: e for e in self.repo.entries(master_id)}
        index = HybridIndex([indexed_text(c.text, c.position) for c in chunks], self.encoders, self._matrices(chunks))
        loaded = _Loaded(signature, chunks, index, entries)
        with self._lock:
            self._loaded[master_id] = loaded
        return loaded

    def _matrices(self, chunks: list[StoredChunk]) -> dict[str, np.ndarray]:
        """Per encoder, the chunks' stored vectors (chunks without usable ones are embedded now)."""
        if not self.encoders or not chunks:
            return {}
        total = sum(e.dim for e in self.encoders)
        rows = [vectors_from_bytes(c.vectors, total) if c.encoder == self.encoder_key else None for c in chunks]
        missing = [i for i, r in enumerate(rows) if r is None]
        if missing:
            parts = [e.encode_documents([indexed_text(chunks[i].text, chunks[i].position) for i in missing])
                     for e in self.encoders]
            for i, row in zip(missing, np.concatenate(parts, axis=1)):
                rows[i] = row.astype(np.float32)
        full = np.vstack(rows)
        out, start = {}, 0
        for e in self.encoders:
            out[e.name] = full[:, start:start + e.dim]
            start += e.dim
        return out

    def _import_lorebooks(self, masters: Sequence[Master], caller: Caller) -> None:
        for master in masters:
            book = book_of(master)
            if book is not None:
                self.import_lorebook(master.id, book, caller=caller)

    def _export_lorebook(self, master: Master) -> Master:
        if master.id in self.library.catalog.builtin_ids or self.library.get(master.id) is None:
            return master
        return with_book(master, self.repo.entries(master.id, "lore"))
