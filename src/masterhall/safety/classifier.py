"""The semantic layer: a logistic regression over a sentence vector and cue features, trained at
start-up on the exemplar bank shipped with the package (``data/bank.jsonl``).

Why this shape: a keyword list only knows the phrasings it lists, while a multilingual sentence
encoder places "I've handed my dog to my sister … nobody has to deal with me after this week"
near the bank's farewells and arrangements in either language. Sentence vectors mostly encode
*topic*, though, and a move abroad ("I gave my plants away, moving to Berlin") shares its topic
with a farewell; so a handful of cue families (finality, arrangements, burden, resolve, sleep
forever, and the harmless reasons: travel, work, figures of speech — :func:`.rules.cue_features`)
sit next to the vector, and the model learns their weights from the bank. The model is plain
L2-regularised logistic regression fitted by gradient descent in numpy (Cox 1958; no solver
library needed at this size: ~1,800 rows × ~525 features, a few seconds on 2 cores).

The bank's vectors are computed when the guard starts (about 5–20 s for ~1,800 texts with USE on
2 cores, see ``bench/safety.py``) and the fit — weights and the bank's vectors — is kept in memory
and, with ``cache_dir``, in ``<cache_dir>/safety/fit-<key>.npz`` (the key covers the encoder's
name and version, the bank, the cue patterns (:data:`.rules.CUE_VERSION`) and the fit's
settings), so a restart reads it in well under a second.
The score blends the regression with a vote of the nearest exemplars (:data:`KNN_WEIGHT`): the
regression generalises, the vote keeps ordinary messages close to ordinary exemplars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from .rules import CUE_NAMES, CUE_VERSION, cue_features


@dataclass(frozen=True)
class Exemplar:
    """One line of the bank: ``text``, whether it is a ``crisis``, its ``kind`` and ``lang``."""

    text: str
    crisis: bool
    kind: str
    lang: str


def load_bank(name: str = "bank.jsonl") -> list[Exemplar]:
    """The exemplar bank shipped in ``masterhall/safety/data/`` (raises ``OSError`` if missing)."""
    text = resources.files("masterhall.safety").joinpath("data", name).read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [Exemplar(r["text"], bool(r["crisis"]), r.get("kind", ""), r.get("lang", "")) for r in rows]


#: Fits made in this process (see :meth:`CrisisClassifier.fit`).
_FITS: dict[tuple, tuple] = {}

#: Share of the nearest-exemplar vote in the score (the rest: the logistic regression), and how
#: many exemplars vote (similarity-weighted, softmax temperature 0.05).
KNN_WEIGHT = 0.7
KNN_K = 10
KNN_TEMPERATURE = 0.05

#: The kind of a crisis the classifier found: a similarity-weighted vote of this many nearest crisis
#: exemplars (softmax temperature :data:`KIND_TEMPERATURE`); a kind with less than
#: :data:`KIND_MIN_SHARE` of the vote is not trusted (the guard then answers with the general help,
#: which names the crisis line and the emergency numbers), nor abuse or sexual violence with less
#: than :data:`VICTIM_MIN_SHARE` (their help speaks to a victim: "it is not your fault", the police —
#: wrong for a person in despair, a worse mistake than the general help for a victim). Chosen on the
#: dev splits (caught crises whose help is of their kind: nearest exemplar 0.95 / 0.84, this 0.97 / 0.88;
#: suicidal messages greeted as a victim: 5 / 4 → 0 / 0). With the bank of 3,557 (family and partner
#: crises and ordinary lines added) 0.6 greeted one suicidal dev message as a victim ("手机合约退了，电脑也给
#: 室友了" → abuse at 0.67 of the vote); 0.7 none (right kind 0.95 / 0.86).
KIND_K = 9
KIND_TEMPERATURE = 0.1
KIND_MIN_SHARE = 0.5
VICTIM_MIN_SHARE = 0.7

#: Weight of the cue features next to a unit-length sentence vector (chosen on the dev split).
CUE_SCALE = 1.0


class CrisisClassifier:
    """``score(text) -> float`` in [0, 1]: how likely ``text`` is a crisis message.

    ``encoder``: anything with ``encode_documents(texts) -> (n, dim)`` and ``encode_query(text)
    -> (dim,)`` returning unit rows (the Finder's :class:`~masterhall.finder.UseEncoder`).
    ``bank``: the exemplars (default :func:`load_bank`). ``l2``, ``steps``, ``rate``: the fit.
    Fitting happens in :meth:`fit` (call once; :class:`~masterhall.safety.guard.SafetyGuard`
    does it at start-up). ``kind_of(vector)`` names the nearest crisis exemplar's kind, ``kind_vote(vector)``
    the kind the nearest ones agree on.
    """

    def __init__(self, encoder, bank: Sequence[Exemplar] | None = None, *, l2: float = 1e-4, steps: int = 3000, rate: float = 4.0,
                 cache_dir: Path | None = None):
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.bank = list(bank) if bank is not None else load_bank()
        self.l2, self.steps, self.rate = l2, steps, rate
        self.weights: np.ndarray | None = None
        self.bias = 0.0
        self._crisis_vecs: np.ndarray | None = None
        self._crisis_kinds: list[str] = []
        self._vecs = np.zeros((0, 1), np.float32)
        self._labels = np.zeros(0, np.float32)
        self.fit_seconds = 0.0

    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` has run."""
        return self.weights is not None

    def features(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim + cues)``: the sentence vectors with the scaled cue features appended."""
        cues = np.stack([cue_features(t) for t in texts]) if texts else np.zeros((0, len(CUE_NAMES)), np.float32)
        return np.hstack([vectors.astype(np.float32), CUE_SCALE * cues])

    def fit(self) -> "CrisisClassifier":
        """Encode the bank and fit the weights (balanced classes). Returns ``self``.

        A fit is kept for the life of the process, keyed by the encoder's name, the bank and the
        fit's settings: a second hall in the same process (tests, a CLI command) reuses it.
        """
        import hashlib
        import time

        start = time.perf_counter()
        texts = [e.text for e in self.bank]
        key = (getattr(self.encoder, "name", repr(self.encoder)), self.l2, self.steps, self.rate, CUE_SCALE, CUE_VERSION,
               hashlib.sha256("\n".join(f"{int(e.crisis)}{e.kind}{e.text}" for e in self.bank).encode()).hexdigest())
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        if key not in _FITS and self.cache_dir is not None:
            loaded = _load_fit(self.cache_dir / "safety" / f"fit-{digest}.npz")
            if loaded is not None:
                _FITS[key] = loaded
        if key in _FITS:
            self.weights, self.bias, self._crisis_vecs, self._crisis_kinds, self._vecs, self._labels = _FITS[key]
            self.fit_seconds = time.perf_counter() - start
            return self
        vectors = self.encoder.encode_documents(texts)
        x = self.features(vectors, texts).astype(np.float64)
        y = np.array([e.crisis for e in self.bank], np.float64)
        pos = max(y.sum(), 1.0)
        neg = max(len(y) - y.sum(), 1.0)
        sample = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
        w = np.zeros(x.shape[1])
        b = 0.0
        for _ in range(self.steps):
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            g = (p - y) * sample
            w -= self.rate * (x.T @ g / len(y) + self.l2 * w)
            b -= self.rate * g.mean()
        self.weights, self.bias = w.astype(np.float32), float(b)
        crisis_rows = [i for i, e in enumerate(self.bank) if e.crisis]
        self._crisis_vecs = vectors[crisis_rows]
        self._crisis_kinds = [self.bank[i].kind for i in crisis_rows]
        self._vecs, self._labels = vectors.astype(np.float32), y.astype(np.float32)
        _FITS[key] = (self.weights, self.bias, self._crisis_vecs, self._crisis_kinds, self._vecs, self._labels)
        if self.cache_dir is not None:
            _save_fit(self.cache_dir / "safety" / f"fit-{digest}.npz", _FITS[key])
        self.fit_seconds = time.perf_counter() - start
        return self

    def score_vector(self, vector: np.ndarray, text: str) -> float:
        """The crisis probability of ``text`` whose sentence vector is ``vector``."""
        if self.weights is None:
            raise RuntimeError("CrisisClassifier.fit() has not run")
        feats = self.features(vector[None, :], [text])[0]
        linear = float(1.0 / (1.0 + np.exp(-(feats @ self.weights + self.bias))))
        if not KNN_WEIGHT:
            return linear
        sims = self._vecs @ vector
        top = np.argpartition(-sims, KNN_K)[:KNN_K]
        weights = np.exp((sims[top] - sims[top].max()) / KNN_TEMPERATURE)  # nearer exemplars count more
        neighbours = float((weights * self._labels[top]).sum() / weights.sum())
        return (1.0 - KNN_WEIGHT) * linear + KNN_WEIGHT * neighbours

    def score(self, text: str) -> tuple[float, np.ndarray]:
        """``(probability, sentence vector)`` of ``text`` (one encoder call, ~2–6 ms with USE)."""
        vector = self.encoder.encode_query(text)
        return self.score_vector(vector, text), vector

    def nearest_similarity(self, vector: np.ndarray) -> float:
        """Cosine similarity of ``vector`` to its nearest exemplar in the bank (either label)."""
        return float((self._vecs @ vector).max()) if len(self._vecs) else 0.0

    def kind_of(self, vector: np.ndarray) -> str:
        """The kind of the crisis exemplar nearest to ``vector`` (cosine)."""
        if self._crisis_vecs is None or not len(self._crisis_kinds):
            return "suicide"
        return self._crisis_kinds[int(np.argmax(self._crisis_vecs @ vector))]

    def kind_vote(self, vector: np.ndarray) -> tuple[str, float]:
        """``(kind, share)``: the kind most of the :data:`KIND_K` crisis exemplars nearest to
        ``vector`` share, nearer ones weighing more, and its share of the vote (0-1)."""
        if self._crisis_vecs is None or not len(self._crisis_kinds):
            return "suicide", 0.0
        sims = self._crisis_vecs @ vector
        top = np.argsort(-sims)[: min(KIND_K, len(sims))]
        weights = np.exp((sims[top] - sims[top].max()) / KIND_TEMPERATURE)
        votes: dict[str, float] = {}
        for i, w in zip(top, weights):
            kind = self._crisis_kinds[int(i)]
            votes[kind] = votes.get(kind, 0.0) + float(w)
        kind = max(votes, key=votes.get)
        return kind, votes[kind] / float(weights.sum())

    def kinds_near(self, vector: np.ndarray, n: int = 3) -> list[str]:
        """The kinds of the ``n`` crisis exemplars nearest to ``vector``, nearest first."""
        if self._crisis_vecs is None or not len(self._crisis_kinds):
            return ["suicide"]
        sims = self._crisis_vecs @ vector
        top = np.argsort(-sims)[: min(n, len(sims))]
        return [self._crisis_kinds[int(i)] for i in top]


def _save_fit(path: Path, fit: tuple) -> None:
    """Write a fit (weights, bias, crisis vectors and kinds, bank vectors and labels); a cache
    that cannot be written only costs the next start a new fit."""
    weights, bias, crisis_vecs, kinds, vecs, labels = fit
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, weights=weights, bias=np.array([bias]), crisis_vecs=crisis_vecs, kinds=np.array(kinds, dtype=str),
                     vecs=vecs, labels=labels)
        tmp.replace(path)
    except OSError:
        pass


def _load_fit(path: Path) -> tuple | None:
    """A fit written by :func:`_save_fit`, or ``None`` (missing or damaged: fit again)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return (data["weights"], float(data["bias"][0]), data["crisis_vecs"], [str(k) for k in data["kinds"]],
                    data["vecs"], data["labels"])
    except (OSError, ValueError, KeyError):
        return None
