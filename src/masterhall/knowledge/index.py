"""Hybrid retrieval over one master's chunks: BM25 plus dense vectors, fused like the Finder's.

The pieces are the Finder's own: :class:`~masterhall.finder.lexical.LexicalIndex` (BM25 by
``bm25s``) over :func:`~masterhall.finder.text.tokenize` (English words, Chinese characters and
bigrams), a :class:`~masterhall.finder.dense.DenseIndex` per sentence encoder (exact cosine up
to 20,000 rows, a sign-bit pre-filter above) and
:func:`~masterhall.finder.fusion.reciprocal_rank_fusion` (k = 60). Vectors are computed once,
when a chunk is stored, and kept in the database; building this index only stacks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..finder.dense import DenseIndex, top_indices
from ..finder.encoders import Encoder
from ..finder.fusion import reciprocal_rank_fusion
from ..finder.lexical import LexicalIndex
from ..finder.text import tokenize

#: How many rows each channel ranks before fusion.
CANDIDATES = 50
#: Channel weights in the fusion (BM25 counts a little more: names and exact terms matter in
#: reference material).
WEIGHTS = {"bm25": 1.0, "dense": 1.0}


@dataclass(frozen=True)
class Hit:
    """One retrieved row: its index in the rows given, the fused score and each channel's raw
    score (``bm25``, and the cosine per encoder name)."""

    row: int
    score: float
    channels: dict


def vectors_from_bytes(blob: bytes | None, dim: int) -> np.ndarray | None:
    """A stored vector (``float32`` bytes) as an array, or ``None`` when absent or of another size."""
    if not blob or len(blob) != 4 * dim:
        return None
    return np.frombuffer(blob, dtype=np.float32)


class HybridIndex:
    """BM25 and dense search over ``texts`` (one per row).

    ``vectors``: per encoder name, an ``(len(texts), dim)`` matrix of unit rows (computed by the
    caller, usually read back from the database); encoders without vectors are skipped.
    """

    def __init__(self, texts: Sequence[str], encoders: Sequence[Encoder] = (), vectors: dict[str, np.ndarray] | None = None):
        self.size = len(texts)
        self.lexical = LexicalIndex()
        for row, text in enumerate(texts):
            self.lexical.set_doc(row, tokenize(text))
        if self.size:
            self.lexical.rebuild()
        self.encoders = [e for e in encoders if vectors and e.name in vectors]
        self.dense: dict[str, DenseIndex] = {}
        for encoder in self.encoders:
            index = DenseIndex(encoder.dim, ("x",))
            if self.size:
                index.set_rows(np.arange(self.size), {"x": vectors[encoder.name]})
            self.dense[encoder.name] = index

    def search(self, query: str, k: int = 8, *, query_vectors: dict[str, np.ndarray] | None = None) -> list[Hit]:
        """The ``k`` best rows for ``query``, best first. ``query_vectors`` (per encoder name)
        saves encoding the query again when the caller has it."""
        if not self.size or k <= 0:
            return []
        n = min(CANDIDATES, self.size)
        bm25 = self.lexical.scores(tokenize(query))
        lexical_rows = top_indices(bm25, n)
        lexical_rows = lexical_rows[bm25[lexical_rows] > 0]
        rankings = [(WEIGHTS["bm25"], lexical_rows)]
        cosines: dict[str, dict[int, float]] = {}
        for encoder in self.encoders:
            vector = (query_vectors or {}).get(encoder.name)
            if vector is None:
                vector = encoder.encode_query(query)
            rows, scores = self.dense[encoder.name].search(vector, ("x",), n)
            rankings.append((WEIGHTS["dense"], rows))
            cosines[encoder.name] = dict(zip(rows.tolist(), scores.tolist()))
        fused = reciprocal_rank_fusion(rankings, self.size)
        best = top_indices(fused, k)
        hits = []
        for row in best.tolist():
            if fused[row] <= 0:
                break
            channels = {"bm25": round(float(bm25[row]), 3)}
            channels.update({name: round(c.get(row, float("nan")), 3) for name, c in cosines.items() if row in c})
            hits.append(Hit(row, float(fused[row]), channels))
        return hits
