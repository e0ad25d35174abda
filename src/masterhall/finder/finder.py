"""The Master Finder: answer a free-text need with the masters who fit, best first.

Hybrid, offline retrieval over every master's names, tagline, description, tags and conversation
starters, in Chinese and English:

* ``use`` — dense: Universal Sentence Encoder Multilingual v3, one vector per master and
  language for the whole profile passage; a query is compared with both languages (the model
  is cross-lingual) and the better cosine counts.
* ``e5`` — dense: multilingual-e5-small; per master and language the mean of the embeddings of
  its tags and of its starters (each mean normalised, then both summed and normalised); a query
  is compared with the profile in its own language.
* ``bm25`` — lexical: BM25 (bm25s) over both languages, Chinese as characters and bigrams.
* ``name`` — exact: the query *is* a master's name, id or tag, or names a master ("苏东坡",
  "GTD", "CBT", "ask Socrates").

The ranked lists are fused by weighted reciprocal rank fusion (Cormack et al. 2009, ``k = 60``).
Measured on this catalog (``bench/README.md``): USE and e5 alone are close (USE better at top-3
in Chinese), fused they gain a few points; BM25 is strong in Chinese and, with the name channel,
makes exact look-ups come first.

Vectors are cached on disk by a fingerprint of the text they encode (see :mod:`.vectors`), so a
restart re-reads them and an edit re-encodes only what changed; :meth:`Finder.upsert` and
:meth:`Finder.remove` make changes visible to the next query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from .. import paths
from ..catalog.models import Master
from .dense import DenseIndex, top_indices
from .encoders import E5Encoder, Encoder, UseEncoder
from .fit import Evidence, Strength, fit_of, strength_of
from .fusion import reciprocal_rank_fusion
from .lexical import LexicalIndex
from .names import IS_TAG, NameIndex
from .query import LANGS, clean_query, query_language
from .reasons import format_reason, pick_tags
from .results import FinderResult, Match
from .text import compact, fingerprint, lexical_tokens, profile_text, profile_units, tokenize
from .vectors import VectorStore, store_folder

Recipe = Literal["profile", "centroid"]
#: Characters of a query the sentence encoders read (e5 reads at most 512 tokens anyway, and
#: its cost grows with length); BM25 and the name look-up read the whole query.
DENSE_QUERY_CHARS = 512


@dataclass
class DenseChannel:
    """A dense retriever: ``encoder`` embeds each master by ``recipe``.

    ``recipe``: ``"profile"`` (one passage per language, :func:`~.text.profile_text`) or
    ``"centroid"`` (mean of tag and starter embeddings, :func:`~.text.profile_units`).
    ``cross_lingual``: compare a query with both languages' vectors (else only its own).
    """

    name: str
    encoder: Encoder
    recipe: Recipe = "profile"
    cross_lingual: bool = True


def vector_key(channel: DenseChannel, master: Master, lang: str) -> str:
    """Cache key of ``master``'s vector for ``channel`` in ``lang``: a fingerprint of the encoder
    (name and version), the recipe and exactly the text it reads."""
    if channel.recipe == "profile":
        return fingerprint(channel.encoder.name, "profile-v1", profile_text(master, lang))
    tags, starters = profile_units(master, lang)
    return fingerprint(channel.encoder.name, "centroid-v1", tags, starters)


def tag_key(encoder_name: str, tag: str) -> str:
    """Cache key of one tag's embedding (used to pick the tags named in reasons)."""
    return fingerprint(encoder_name, "tag-v1", tag)


def default_channels(use: Encoder | None = None, e5: Encoder | None = None) -> list[DenseChannel]:
    """USE on whole profiles (cross-lingual) and e5 on tag/starter centroids (same language);
    ``use`` / ``e5``: encoders to share (the hall's), else new ones."""
    return [
        DenseChannel("use", use or UseEncoder(), "profile", cross_lingual=True),
        DenseChannel("e5", e5 or E5Encoder(), "centroid", cross_lingual=False),
    ]


@dataclass
class FinderConfig:
    """Tuning of the finder; the defaults are what was measured best (``bench/README.md``).

    ``weights``: RRF weight per channel (``use``, ``e5``, ``bm25``, ``name``; 0 turns a channel
    off — a dense channel with weight 0 is not even built). ``lang_weights``: per query language,
    weights that replace those of ``weights`` (BM25 on characters and bigrams is a much stronger
    signal for Chinese than word BM25 is for English: alone it put a right master first for
    85–92% of the Chinese evaluation queries against 65–71% of the English ones, see
    ``bench/README.md``). ``rrf_k``: the RRF
    constant. ``window``: ranks per channel that count in the fusion. ``exact_limit`` /
    ``prefilter``: dense search is exact up to that many masters, above it a sign-bit pass keeps
    ``prefilter`` candidates (see :mod:`.dense`). ``reason_channel``: the dense channel whose tag
    embeddings pick the tags named in reasons. ``warm_reasons_limit``: tag embeddings are
    computed when the index is built for catalogs up to this many masters, else on first use.
    """

    weights: dict[str, float] = field(default_factory=lambda: {"use": 1.0, "e5": 1.0, "bm25": 0.15, "name": 2.0})
    lang_weights: dict[str, dict[str, float]] = field(default_factory=lambda: {"zh": {"bm25": 0.5}})
    rrf_k: float = 60.0
    window: int = 100
    exact_limit: int = 20_000
    prefilter: int = 2_048
    reason_channel: str = "use"
    warm_reasons_limit: int = 5_000

    def weight(self, channel: str, lang: str | None = None) -> float:
        """The weight of ``channel`` for queries in ``lang`` (0 when not listed)."""
        override = self.lang_weights.get(lang or "", {})
        return float(override.get(channel, self.weights.get(channel, 0.0)))


@dataclass
class FinderStats:
    """Counters since the finder was made: texts ``encoded`` by a model, vectors ``reused`` from
    the cache, and ``masters`` indexed now."""

    encoded: int = 0
    reused: int = 0
    masters: int = 0


@dataclass
class _Entry:
    master: Master
    digest: str


class Finder:
    """Index of masters answering free-text needs; see the module docstring for the method.

    ``masters``: any iterable of :class:`~masterhall.catalog.Master` (guides are skipped: they are
    never recommended). ``cache_dir``: root of the vector cache (default: the hall's cache dir,
    ``MASTERHALL_CACHE_DIR`` or the user cache dir; ``persist=False`` keeps vectors in memory
    only). ``channels``: dense retrievers (default :func:`default_channels`). Building encodes
    what the cache lacks: about 15 s for the 42 built-in masters on 2 cores the first time,
    well under a second afterwards. Thread-safe: queries and updates take one lock (queries are
    served one at a time, about 20 ms each on 2 cores).
    """

    def __init__(
        self,
        masters: Iterable[Master],
        *,
        config: FinderConfig | None = None,
        cache_dir: Path | None = None,
        persist: bool = True,
        channels: Sequence[DenseChannel] | None = None,
    ):
        self.config = config or FinderConfig()
        self.stats = FinderStats()
        if persist and cache_dir is None:
            cache_dir = paths.cache_dir()
        self.cache_dir = cache_dir if persist else None
        chosen = list(channels) if channels is not None else default_channels()
        self.channels = [c for c in chosen if any(self.config.weight(c.name, lang) > 0 for lang in LANGS)]
        self._stores: dict[str, VectorStore] = {}
        for ch in self.channels:
            folder = store_folder(self.cache_dir, ch.encoder.name) if self.cache_dir else None
            if ch.encoder.name not in self._stores:
                self._stores[ch.encoder.name] = VectorStore(folder, ch.encoder.dim)
        self._dense = {
            ch.name: DenseIndex(ch.encoder.dim, LANGS, exact_limit=self.config.exact_limit, prefilter=self.config.prefilter)
            for ch in self.channels
        }
        self._lexical = LexicalIndex()
        self._names = NameIndex()
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._entries: list[_Entry] = []
        self._lock = threading.RLock()
        advisors = [m for m in masters if not m.is_guide]
        unique = list({m.id: m for m in advisors}.values())
        with self._lock:
            self._put(unique)
            if len(unique) <= self.config.warm_reasons_limit:
                self._tag_vectors(unique, LANGS)
            self._save()
            for store in self._stores.values():
                store.release()
            self._lexical.rebuild()

    # -- size and membership ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, master_id: object) -> bool:
        return master_id in self._rows

    def ids(self) -> list[str]:
        """Ids of the indexed masters, in row order."""
        return list(self._ids)

    def dense_index(self, channel: str) -> DenseIndex:
        """The dense index of ``channel`` (read it, don't change it: for benchmarks and tools).

        Raises ``KeyError`` for a channel that is not built."""
        return self._dense[channel]

    @property
    def nbytes(self) -> int:
        """Approximate bytes held by the dense and lexical indexes."""
        return sum(d.nbytes for d in self._dense.values()) + self._lexical.nbytes

    # -- vectors ---------------------------------------------------------------------------------
    def _reason_channel(self) -> DenseChannel | None:
        for ch in self.channels:
            if ch.name == self.config.reason_channel:
                return ch
        return None

    def _cached(self, encoder: Encoder, keys: list[str], texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` under ``keys``, encoding (in one batch) only the missing ones."""
        store = self._stores[encoder.name]
        missing = [i for i, key in enumerate(keys) if key not in store]
        if missing:
            todo = list(dict.fromkeys(keys[i] for i in missing))
            text_of = {keys[i]: texts[i] for i in missing}
            store.put(todo, encoder.encode_documents([text_of[k] for k in todo]))
            self.stats.encoded += len(todo)
        self.stats.reused += len(keys) - len(missing)
        return store.get_many(keys)

    def _profile_vectors(self, ch: DenseChannel, masters: list[Master]) -> dict[str, np.ndarray]:
        enc = ch.encoder
        out: dict[str, np.ndarray] = {}
        for lang in LANGS:
            keys = [vector_key(ch, m, lang) for m in masters]
            if ch.recipe == "profile":
                store = self._stores[enc.name]
                texts = [profile_text(m, lang) if k not in store else "" for k, m in zip(keys, masters)]
                out[lang] = self._cached(enc, keys, texts)
                continue
            units = [profile_units(m, lang) for m in masters]
            store = self._stores[enc.name]
            todo = [i for i, key in enumerate(keys) if key not in store]
            self.stats.reused += len(keys) - len(todo)
            if todo:
                flat = [t for i in todo for part in units[i] for t in part]
                vecs = enc.encode_documents(flat)
                self.stats.encoded += len(flat)
                pos = 0
                cents = []
                for i in todo:
                    tags, starters = units[i]
                    parts = []
                    for part in (tags, starters):
                        block = vecs[pos : pos + len(part)]
                        pos += len(part)
                        mean = block.mean(axis=0)
                        parts.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
                    total = np.sum(parts, axis=0)
                    cents.append(total / max(float(np.linalg.norm(total)), 1e-12))
                store.put([keys[i] for i in todo], np.stack(cents))
            out[lang] = store.get_many(keys)
        return out

    def _tag_vectors(self, masters: list[Master], langs: Sequence[str]) -> dict[tuple[str, str], np.ndarray]:
        """Reason-channel embeddings of the masters' tags, by ``(master id, lang)``."""
        ch = self._reason_channel()
        if ch is None or not masters:
            return {}
        enc = ch.encoder
        keys: list[str] = []
        texts: list[str] = []
        spans: list[tuple[str, str, int, int]] = []
        for m in masters:
            for lang in langs:
                tags = m.tags.get(lang)
                spans.append((m.id, lang, len(keys), len(keys) + len(tags)))
                texts += tags
                keys += [tag_key(enc.name, t) for t in tags]
        vecs = self._cached(enc, keys, texts)
        return {(mid, lang): vecs[a:b] for mid, lang, a, b in spans}

    def _save(self) -> None:
        for store in self._stores.values():
            store.save()

    # -- updates ---------------------------------------------------------------------------------
    @staticmethod
    def _digest(master: Master) -> str:
        return fingerprint(master.model_dump(include={"name", "tagline", "description", "tags", "starters", "category"}))

    def _put(self, masters: list[Master]) -> None:
        """Index ``masters`` (new or changed ones; unchanged ones are skipped)."""
        digests = {m.id: self._digest(m) for m in masters}
        fresh = [m for m in masters if m.id not in self._rows or self._entries[self._rows[m.id]].digest != digests[m.id]]
        if not fresh:
            return
        vectors = {ch.name: self._profile_vectors(ch, fresh) for ch in self.channels}
        rows = []
        for m in fresh:
            row = self._rows.get(m.id)
            entry = _Entry(m, digests[m.id])
            if row is not None:
                self._names.remove(self._entries[row].master)
            self._names.put(m)
            if row is None:
                row = len(self._ids)
                self._ids.append(m.id)
                self._rows[m.id] = row
                self._entries.append(entry)
            else:
                self._entries[row] = entry
            self._lexical.set_doc(row, lexical_tokens(m))
            rows.append(row)
        for ch in self.channels:
            self._dense[ch.name].set_rows(np.array(rows), vectors[ch.name])
        self.stats.masters = len(self._ids)

    def upsert(self, master: Master) -> bool:
        """Add or re-index ``master``; the next query sees it. Returns False when nothing changed.

        Only texts not already cached are encoded. A guide is not indexed (adding one removes
        any advisor of the same id).
        """
        with self._lock:
            if master.is_guide:
                self.remove(master.id)
                return False
            before = self._entries[self._rows[master.id]].digest if master.id in self._rows else None
            self._put([master])
            changed = before != self._entries[self._rows[master.id]].digest or before is None
            if changed:
                if len(self._ids) <= self.config.warm_reasons_limit:
                    self._tag_vectors([master], LANGS)
                self._save()
            return changed

    def remove(self, master_id: str) -> bool:
        """Forget ``master_id``; the next query no longer returns it. False if it was not indexed."""
        with self._lock:
            row = self._rows.pop(master_id, None)
            if row is None:
                return False
            self._names.remove(self._entries[row].master)
            last = len(self._ids) - 1
            if row != last:
                moved = self._ids[last]
                self._ids[row] = moved
                self._rows[moved] = row
                self._entries[row] = self._entries[last]
                for index in self._dense.values():
                    index.move_row(last, row)
                self._lexical.move_doc(last, row)
            self._ids.pop()
            self._entries.pop()
            for index in self._dense.values():
                index.truncate(last)
            self._lexical.truncate(last)
            self.stats.masters = len(self._ids)
            return True

    # -- queries ---------------------------------------------------------------------------------
    def _exact_rows(self, text: str) -> tuple[np.ndarray, set[int]]:
        """Rows the query points at, strongest first — the whole query is a name or id, a tag, or
        the query contains a full name (see :mod:`.names`) — and the rows named by name."""
        hits = [(strength, self._rows[mid]) for mid, strength in self._names.lookup(text).items() if mid in self._rows]
        hits.sort(key=lambda h: (-h[0], h[1]))
        return np.array([row for _, row in hits], dtype=np.int64), {row for s, row in hits if s != IS_TAG}

    def _rank(self, text: str, lang: str, window: int):
        """Run every channel and fuse: ``(fused scores, ceiling, rows named by name, USE query
        vector or None, query terms, evidence)``; ``ceiling`` is the fused score of a row ranked
        first by every channel that returned something; ``evidence`` holds the raw signals the
        fit is computed from (see :mod:`.fit`): dense cosines by channel and row, the BM25 scores
        of every row and the rows the name channel pointed at."""
        cfg = self.config
        rankings: list[tuple[float, np.ndarray]] = []
        cosines: dict[str, dict[int, float]] = {}  # channel → row → cosine, for the rows it returned
        reason_vec: np.ndarray | None = None
        head = text[:DENSE_QUERY_CHARS]
        for ch in self.channels:
            if cfg.weight(ch.name, lang) <= 0 and ch.name != cfg.reason_channel:
                continue
            qvec = ch.encoder.encode_query(head)
            if ch.name == cfg.reason_channel:
                reason_vec = qvec
            langs = LANGS if ch.cross_lingual else (lang,)
            rows, scores = self._dense[ch.name].search(qvec, langs, window)
            cosines[ch.name] = dict(zip(rows.tolist(), scores.tolist()))
            rankings.append((cfg.weight(ch.name, lang), rows))
        terms = tokenize(text)
        lexical = np.zeros(len(self._ids), np.float32)
        if cfg.weight("bm25", lang) > 0 and terms:
            lexical = self._lexical.scores(terms)
            rows = top_indices(lexical, window)
            rankings.append((cfg.weight("bm25", lang), rows[lexical[rows] > 0]))
        by_name: set[int] = set()
        named = np.zeros(0, np.int64)
        if cfg.weight("name", lang) > 0:
            named, by_name = self._exact_rows(text)
            if len(named):
                rankings.append((cfg.weight("name", lang), named))
        fused = reciprocal_rank_fusion(rankings, len(self._ids), cfg.rrf_k)
        ceiling = sum(w for w, rows in rankings if w > 0 and len(rows)) / (cfg.rrf_k + 1)
        evidence = Evidence(cosines, lexical, {int(r) for r in named}, len(terms))
        return fused, ceiling, by_name, reason_vec, terms, evidence

    def _reason(self, m: Master, lang: str, terms: set[str], qvec, tag_vecs, named: bool, strength: Strength | None) -> str:
        """The one-line reason for ``m``: its tags closest to the query (see :mod:`.reasons`);
        tags that are just the master's name are left out; hedged unless ``strength`` is strong."""
        own = {compact(m.name.zh), compact(m.name.en)}
        own_tags = {t for t in m.tags.get(lang) if compact(t) in own or compact(m.name.get(lang)) in compact(t)}
        tags, vecs = list(m.tags.get(lang)), tag_vecs.get((m.id, lang))
        if named and own_tags:  # the reason already says the name
            keep = [i for i, t in enumerate(tags) if t not in own_tags]
            tags = [tags[i] for i in keep]
            vecs = vecs[keep] if vecs is not None else None
        chosen = pick_tags(tags, terms, qvec, vecs, skip=own_tags)
        return format_reason(m, lang, chosen, named, confident=strength == "strong")

    def match(self, query: str, k: int = 5, lang: str | None = None) -> list[Match]:
        """The ``k`` masters that fit ``query`` best, best first (fewer if fewer are indexed),
        each with its ``fit`` and ``strength`` (see :meth:`find` for the verdict).

        ``lang`` (``"zh"``/``"en"``) is the language of the reasons and of the e5 comparison;
        ``None`` detects it from the query. Raises :class:`~.query.FinderQueryError` (a
        ``ValueError``) for an empty, over-long (> 10,000 characters) or binary query or an
        unknown ``lang``, and ``ValueError`` for ``k < 1``.
        """
        return self.find(query, k, lang).matches

    def find(self, query: str, k: int = 5, lang: str | None = None) -> FinderResult:
        """Like :meth:`match`, with the verdict: ``no_fit`` when the best match's fit is under
        :data:`~.fit.THRESHOLD` (also when nothing is indexed). Raises what :meth:`match` raises."""
        text = clean_query(query)
        lang = query_language(text, lang)
        if k < 1:
            raise ValueError("k must be at least 1")
        with self._lock:
            if not self._ids:
                return FinderResult(query, lang, [], True)
            fused, ceiling, by_name, qvec, terms, evidence = self._rank(text, lang, max(self.config.window, k))
            best = [int(r) for r in top_indices(fused, k) if fused[r] > 0]
            masters = [self._entries[r].master for r in best]
            tag_vecs = self._tag_vectors(masters, (lang,)) if qvec is not None else {}
            self._save()  # tag vectors encoded just now, if any
            fits = [1.0 if row in evidence.named else fit_of(evidence.features(row)) for row in best]
            strengths = [strength_of(f) for f in fits]
            if strengths and strengths[0] is None:  # the verdict is the best match's (what the fit was calibrated on)
                strengths = [None] * len(strengths)
            matches = [
                Match(
                    master_id=m.id,
                    name=m.name.get(lang),
                    score=round(min(1.0, float(fused[row] / ceiling)), 4) if ceiling else 0.0,
                    reason=self._reason(m, lang, set(terms), qvec, tag_vecs, row in by_name, strength),
                    lang=lang,
                    fit=fit,
                    strength=strength,
                )
                for row, m, fit, strength in zip(best, masters, fits, strengths)
            ]
            return FinderResult(query, lang, matches, not matches or matches[0].strength is None)

    def features(self, query: str, lang: str | None = None) -> np.ndarray:
        """The fit features (:data:`~.fit.FEATURES`) of the best match for ``query`` (``(5,)``;
        zeros when nothing is indexed): what :mod:`.fit` is calibrated on. Raises what
        :meth:`match` raises."""
        text = clean_query(query)
        lang = query_language(text, lang)
        with self._lock:
            if not self._ids:
                return np.zeros(5)
            fused, _, _, _, _, evidence = self._rank(text, lang, self.config.window)
            return evidence.features(int(top_indices(fused, 1)[0]))
