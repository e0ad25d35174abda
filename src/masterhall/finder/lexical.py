"""BM25 over the masters' texts (both languages), for exact names and terms.

The index is built by ``bm25s`` (Lù 2024), which precomputes every (term, document) BM25 weight
into a sparse column-per-term matrix (Robertson & Zaragoza 2009 for BM25 itself; the Lucene
variant: ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf / (tf + k1 (1 - b + b dl/avgdl))``).
A query's scores are the sum of its terms' columns; we add them with plain fancy indexing (the
documents of one column are distinct), which is faster than ``np.add.at``. Terms that occur in
more than ``max_df`` of the documents are skipped on large indexes: their IDF is near zero and
their columns are the longest (the usual "stop-word by document frequency" cut).

bm25s indexes are static, so changes go to a small *delta* (in the spirit of Lucene's segments):
an added or edited document is scored directly with the same formula and the main index's
statistics (N, df, average length), and its old version in the main index is masked. The main
index is rebuilt from the kept term ids once the delta holds more than 64 documents and more
than 1% of them (at most 1,000), so an edit costs microseconds, not a rebuild, and scoring the
delta stays a few vectorised passes (see ``bench/README.md``).
"""

from __future__ import annotations

import numpy as np


class LexicalIndex:
    """BM25 over term lists, one per row; ``k1``, ``b``: the BM25 constants (bm25s defaults).

    Documents are kept as ``int32`` arrays of term ids (a few bytes per term, not a Python string
    each), over a vocabulary that only grows. ``max_df``: on indexes larger than ``prune_above``
    documents, query terms found in more than this share of the documents are ignored.
    ``delta_share`` / ``delta_max``: the main index is rebuilt when more than
    ``max(64, min(delta_max, delta_share × rows))`` documents changed since it was built.
    """

    def __init__(
        self,
        *,
        k1: float = 1.5,
        b: float = 0.75,
        max_df: float = 0.2,
        prune_above: int = 5_000,
        delta_share: float = 0.01,
        delta_max: int = 1_000,
    ):
        self.k1, self.b = k1, b
        self.max_df = max_df
        self.prune_above = prune_above
        self.delta_share = delta_share
        self.delta_max = delta_max
        self._vocab: dict[str, int] = {}
        self._docs: list[np.ndarray] = []
        # Main (bm25s) index: its CSC arrays, per-term df, N and average length, and which row
        # each of its documents now is (-1: masked, the row changed or went away).
        self._main: dict | None = None
        self._df = np.zeros(0, np.int64)
        self._n_main = 0
        self._avgdl = 1.0
        self._main_row = np.zeros(0, np.int64)
        self._doc_of_row: list[int] = []  # row -> main document, -1 if none
        self._delta: set[int] = set()
        self._delta_arrays: tuple[np.ndarray, ...] | None = None  # cached concatenation

    def __len__(self) -> int:
        return len(self._docs)

    def _ids(self, tokens: list[str]) -> np.ndarray:
        vocab = self._vocab
        for term in set(tokens).difference(vocab):
            vocab[term] = len(vocab)
        return np.fromiter(map(vocab.__getitem__, tokens), np.int32, len(tokens))

    def _mask(self, row: int) -> None:
        doc = self._doc_of_row[row]
        if doc >= 0:
            self._main_row[doc] = -1
            self._doc_of_row[row] = -1

    def set_doc(self, row: int, tokens: list[str]) -> None:
        """Put ``tokens`` at ``row`` (``row == len(self)`` appends)."""
        self._delta_arrays = None
        ids = self._ids(tokens)
        if row == len(self._docs):
            self._docs.append(ids)
            self._doc_of_row.append(-1)
        else:
            self._docs[row] = ids
            self._mask(row)
        self._delta.add(row)

    def move_doc(self, src: int, dst: int) -> None:
        """Move the document of row ``src`` onto row ``dst`` (whose document is dropped)."""
        self._delta_arrays = None
        self._mask(dst)
        self._docs[dst] = self._docs[src]
        doc = self._doc_of_row[src]
        self._doc_of_row[dst] = doc
        if doc >= 0:
            self._main_row[doc] = dst
        self._doc_of_row[src] = -1
        self._delta.discard(dst)
        if src in self._delta:
            self._delta.discard(src)
            self._delta.add(dst)

    def truncate(self, size: int) -> None:
        """Forget rows from ``size`` on."""
        self._delta_arrays = None
        for row in range(size, len(self._docs)):
            self._mask(row)
            self._delta.discard(row)
        del self._docs[size:]
        del self._doc_of_row[size:]

    def rebuild(self) -> None:
        """Build the main bm25s index over every document now; the delta empties."""
        self._delta_arrays = None
        import bm25s

        self._delta = set()
        n = len(self._docs)
        self._doc_of_row = list(range(n))
        self._main_row = np.arange(n, dtype=np.int64)
        self._n_main = n
        if not n:
            self._main = None
            return
        vocab = dict(self._vocab)  # bm25s adds its empty-document term to the dict it is given
        empty = vocab.setdefault("", len(vocab))
        corpus = [doc.tolist() or [empty] for doc in self._docs]
        model = bm25s.BM25(k1=self.k1, b=self.b)
        model.index((corpus, vocab), show_progress=False)
        self._main = model.scores
        self._df = np.diff(model.scores["indptr"])
        self._avgdl = float(np.mean([len(doc) for doc in corpus]))

    @property
    def nbytes(self) -> int:
        """Bytes of the sparse score matrix and the term-id documents."""
        docs = sum(d.nbytes for d in self._docs)
        if self._main is None:
            return docs
        return docs + int(sum(self._main[k].nbytes for k in ("data", "indices", "indptr")))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every row for the query ``tokens`` (``float32``, ``(len(self),)``)."""
        n = len(self._docs)
        if self._main is None or len(self._delta) > max(64, min(self.delta_max, self.delta_share * n)):
            self.rebuild()
        out = np.zeros(n, np.float32)
        if self._main is None or not tokens:
            return out
        vocab = self._vocab
        terms = [vocab[t] for t in tokens if t in vocab]  # repeats count again, as in bm25s
        limit = self.max_df * self._n_main if self._n_main > self.prune_above else self._n_main + 1
        data, indices, indptr = self._main["data"], self._main["indices"], self._main["indptr"]
        known = len(indptr) - 1
        main = np.zeros(self._n_main, np.float32)
        kept = []
        for tid in terms:
            if tid < known and self._df[tid] > limit:
                continue
            kept.append(tid)
            if tid < known:
                start, end = indptr[tid], indptr[tid + 1]
                main[indices[start:end]] += data[start:end]
        alive = self._main_row >= 0
        out[self._main_row[alive]] = main[alive]
        if self._delta and kept:
            self._score_delta(np.array(kept, np.int64), out)
        return out

    def _score_delta(self, terms: np.ndarray, out: np.ndarray) -> None:
        """Write the BM25 scores of the delta rows into ``out``: the main index's df plus the
        delta documents' own, N the current number of documents, the main average length."""
        if self._delta_arrays is None:
            rows = np.array(sorted(self._delta), np.int64)
            docs = [self._docs[r] for r in rows]
            lengths = np.array([len(d) for d in docs], np.int64)
            concat = np.concatenate(docs) if docs else np.zeros(0, np.int32)
            owner = np.repeat(np.arange(len(rows)), lengths)
            self._delta_arrays = (rows, concat, owner, lengths)
        rows, concat, owner, lengths = self._delta_arrays
        unique, counts = np.unique(terms, return_counts=True)
        pos = np.minimum(np.searchsorted(unique, concat), len(unique) - 1)
        hit = unique[pos] == concat
        tf = np.zeros((len(rows), len(unique)), np.float64)
        np.add.at(tf, (owner[hit], pos[hit]), 1.0)
        df = (tf > 0).sum(axis=0).astype(np.float64)
        known = unique < len(self._df)
        df[known] += self._df[unique[known]]
        n = max(len(self._docs), 1)
        weight = np.log1p((n - df + 0.5) / (df + 0.5)) * counts
        norm = self.k1 * (1 - self.b + self.b * np.maximum(lengths, 1) / self._avgdl)
        scores = (weight * tf / (tf + norm[:, None])).sum(axis=1)
        out[rows] = scores.astype(np.float32)
