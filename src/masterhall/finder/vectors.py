"""A persisted map from text fingerprints to vectors, one folder per encoder (model + version).

Layout: ``<cache_dir>/finder/<encoder name>/seg-<time>-<pid>-<rand>.vec.npy`` (``float32``,
``(n, dim)``) and its ``….key.npy`` (``S32``: the 128-bit hex fingerprints of what was encoded).
New vectors are appended as a new segment — each file is written under a temporary name and then
renamed, keys last, so a reader never sees half a segment and two processes never overwrite each
other — and when there are more than :data:`MAX_SEGMENTS` they are merged into one. The idea is
that of a log-structured store (O'Neil et al. 1996): an edit costs a small write, not a rewrite.

Vectors on disk are memory-mapped, not loaded: only the keys are read into memory, so a hall
of 100,000 masters does not hold a second copy of its vectors (the finder's index has one).
A damaged or unreadable segment is skipped (its vectors are encoded again), never fatal.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import numpy as np

#: Segments kept before they are merged into one.
MAX_SEGMENTS = 16


class VectorStore:
    """Vectors of one encoder by fingerprint, on disk (if ``folder`` is set) and in memory.

    ``folder=None`` keeps everything in memory only. ``dim`` is checked on every put and on load.
    """

    def __init__(self, folder: Path | None, dim: int):
        self.folder = folder
        self.dim = dim
        self._where: dict[str, tuple[int, int]] = {}  # key -> (segment, row); segment -1: memory
        self._segments: list[np.ndarray | None] = []  # memory-mapped (n, dim) arrays, None: closed
        self._stems: list[str] = []  # their file names without ".key.npy" / ".vec.npy"
        self._memory: list[np.ndarray] = []  # vectors put since the last save, by row
        self._unsaved: list[str] = []
        if folder is not None:
            self._load()

    # -- reading -------------------------------------------------------------------------------
    def _load(self) -> None:
        assert self.folder is not None
        if not self.folder.is_dir():
            return
        for key_path in sorted(self.folder.glob("seg-*.key.npy")):
            vec_path = key_path.with_name(key_path.name.replace(".key.npy", ".vec.npy"))
            try:
                keys = np.load(key_path, allow_pickle=False).astype(str).tolist()
                vectors = np.load(vec_path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):  # damaged cache files only cost re-encoding
                continue
            if vectors.dtype != np.float32 or vectors.shape != (len(keys), self.dim):
                continue
            seg = len(self._segments)
            self._segments.append(vectors)
            self._stems.append(key_path.name[: -len(".key.npy")])
            for row, key in enumerate(keys):
                self._where[key] = (seg, row)

    def _segment(self, seg: int) -> np.ndarray:
        array = self._segments[seg]
        if array is None:
            assert self.folder is not None
            array = np.load(self.folder / f"{self._stems[seg]}.vec.npy", mmap_mode="r", allow_pickle=False)
            self._segments[seg] = array
        return array

    def release(self) -> None:
        """Unmap the segment files (they are mapped again on the next read): after a large
        build this returns the pages read from the cache files to the operating system."""
        self._segments = [None] * len(self._segments)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def get(self, key: str) -> np.ndarray | None:
        """A copy of the vector stored under ``key`` (shape ``(dim,)``), or ``None``."""
        where = self._where.get(key)
        if where is None:
            return None
        seg, row = where
        source = self._memory[row] if seg < 0 else self._segment(seg)[row]
        return np.array(source, dtype=np.float32)

    def get_many(self, keys: list[str]) -> np.ndarray:
        """``(len(keys), dim)`` vectors; raises ``KeyError`` for a missing key. Rows of one
        segment are read in file order (one pass over the mapped file)."""
        out = np.empty((len(keys), self.dim), np.float32)
        by_segment: dict[int, list[tuple[int, int]]] = {}
        for i, key in enumerate(keys):
            seg, row = self._where[key]
            by_segment.setdefault(seg, []).append((row, i))
        for seg, pairs in by_segment.items():
            pairs.sort()
            rows = np.fromiter((r for r, _ in pairs), np.int64, len(pairs))
            dest = np.fromiter((i for _, i in pairs), np.int64, len(pairs))
            if seg < 0:
                out[dest] = np.stack([self._memory[r] for r in rows])
            else:
                out[dest] = self._segment(seg)[rows]
        return out

    # -- writing -------------------------------------------------------------------------------
    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        """Add ``vectors`` (``(len(keys), dim)``) under ``keys``; :meth:`save` persists them.

        Raises ``ValueError`` when the shape does not match.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected vectors of shape ({len(keys)}, {self.dim}), got {vectors.shape}")
        for key, vector in zip(keys, vectors):
            self._where[key] = (-1, len(self._memory))
            self._memory.append(vector.copy())
            self._unsaved.append(key)

    def save(self) -> int:
        """Write the vectors added since the last save as one new segment; returns how many.

        Merges all segments into one when there are more than :data:`MAX_SEGMENTS`. Does nothing
        without a folder. Errors writing the cache (full disk, read-only folder) are ignored: the
        cache is an optimisation.
        """
        keys = [k for k in dict.fromkeys(self._unsaved) if self._where[k][0] < 0]
        self._unsaved = []
        if self.folder is None or not keys:
            return 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(keys, self.get_many(keys))
            if len(list(self.folder.glob("seg-*.key.npy"))) > MAX_SEGMENTS:
                self._compact()
        except OSError:
            return 0
        return len(keys)

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        assert self.folder is not None
        stem = f"seg-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        vec_path = self.folder / f"{stem}.vec.npy"
        key_path = self.folder / f"{stem}.key.npy"
        for path, array in ((vec_path, vectors.astype(np.float32)), (key_path, np.array(keys, dtype="S32"))):
            tmp = self.folder / f".{path.name}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)
            os.replace(tmp, path)
        seg = len(self._segments)
        self._segments.append(np.load(vec_path, mmap_mode="r", allow_pickle=False))
        self._stems.append(stem)
        for row, key in enumerate(keys):
            self._where[key] = (seg, row)
        if all(s >= 0 for s, _ in self._where.values()):
            self._memory = []

    def _compact(self) -> None:
        """Merge the segments this store knows into one new segment and delete their files
        (segments another process wrote meanwhile are left alone)."""
        assert self.folder is not None
        old = list(self._stems)
        keys = list(self._where)
        merged = self.get_many(keys)
        self._segments, self._stems, self._where, self._memory = [], [], {}, []
        self._write(keys, merged)
        for stem in old:
            for suffix in (".key.npy", ".vec.npy"):  # keys first: a reader skips the segment
                (self.folder / f"{stem}{suffix}").unlink(missing_ok=True)


def store_folder(cache_root: Path, encoder_name: str) -> Path:
    """``<cache_root>/finder/<encoder_name>`` with the name made safe for a file system."""
    return cache_root / "finder" / re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_name)
