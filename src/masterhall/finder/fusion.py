"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

Each retriever contributes ``weight / (k + rank)`` to a document it ranks (rank 1 = best);
documents it does not rank get nothing. The paper's ``k = 60`` damps the difference between the
very first ranks so that no single retriever dominates; weights (a common extension, e.g.
Elasticsearch's weighted RRF) let a channel count more or less.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def reciprocal_rank_fusion(rankings: Sequence[tuple[float, np.ndarray]], size: int, k: float = 60.0) -> np.ndarray:
    """Fused scores, shape ``(size,)``, for ``rankings`` = ``[(weight, rows best first), ...]``.

    Rows within one ranking must be distinct. Raises ``ValueError`` for ``k < 0``.
    """
    if k < 0:
        raise ValueError("the RRF constant k must be >= 0")
    fused = np.zeros(size, np.float64)
    for weight, rows in rankings:
        if weight == 0 or len(rows) == 0:
            continue
        ranks = np.arange(1, len(rows) + 1, dtype=np.float64)
        fused[np.asarray(rows, dtype=np.int64)] += weight / (k + ranks)
    return fused
