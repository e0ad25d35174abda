"""Choosing the example exchanges a turn shows the model: the closest to the person's message.

A master has 3–4 example exchanges per language. The hall shows the three nearest
(``PromptOptions.examples``; read blind, three taught the embedded 1.5B the master's method better
than one or two, README *Answer quality*), in the master's own order (the engine's choice: the
same opening for every conversation, which the KV cache can serve). Nearness is the cosine of
sentence embeddings (the Master Finder's multilingual Universal Sentence Encoder, already loaded
by the hall) or, without an encoder, the overlap of words (English) and character bigrams
(Chinese).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from typing import Protocol, Sequence

import numpy as np

from ..catalog.models import Example, Master
from .language import detect_language


def examples_in(master: Master, lang: str) -> list[Example]:
    """The master's example exchanges written in ``lang``; none when it has none in ``lang``.

    Small models copy the language of the examples they see, so an example in the other language
    would pull the reply away from the person's language (seen here: an English question answered
    in Chinese after the only English example was excluded); no example is better.
    """
    return [ex for ex in master.examples if _language_of(ex.user, ex.assistant) == lang]


@functools.lru_cache(maxsize=4096)
def _language_of(user: str, assistant: str) -> str:
    """The language of an example exchange (catalog texts: read once, not on every turn)."""
    return detect_language(user + assistant)


class ExampleSelector(Protocol):
    """Picks the examples for one turn."""

    def select(self, master: Master, lang: str, message: str, k: int) -> list[Example]:
        """Up to ``k`` of the master's examples in ``lang``, nearest to ``message`` first."""
        ...


_WORD = re.compile(r"[a-z0-9']+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_STOP = frozenset("a an the i i'm my me to of and or is are am be it in on for with that this what how do can".split())


def _features(text: str) -> set[str]:
    text = text.lower()
    words = {w for w in _WORD.findall(text) if w not in _STOP}
    han = "".join(_HAN.findall(text))
    return words | {han[i:i + 2] for i in range(len(han) - 1)}


@functools.lru_cache(maxsize=4096)
def _example_features(text: str) -> frozenset[str]:
    """:func:`_features` of an example's text (catalog texts: computed once, not on every turn)."""
    return frozenset(_features(text))


class LexicalExampleSelector:
    """Nearness by shared words and Chinese character bigrams (Jaccard); no model needed."""

    def select(self, master: Master, lang: str, message: str, k: int) -> list[Example]:
        candidates = examples_in(master, lang)
        query = _features(message)

        def score(ex: Example) -> float:
            feats = _example_features(ex.user)
            union = query | feats
            return len(query & feats) / len(union) if union else 0.0

        ranked = sorted(candidates, key=score, reverse=True)  # stable: ties keep the file's order
        return ranked[:k]


class EncoderExampleSelector:
    """Nearness by the cosine of sentence embeddings of the message and each example's user turn.

    ``encoder`` is any :class:`~masterhall.finder.encoders.Encoder` (the hall passes the Finder's
    Universal Sentence Encoder: ~1–2 ms a query on 2 cores). Example vectors are computed once per
    example text and cached. If the encoder fails, the lexical selector answers instead.
    """

    def __init__(self, encoder, fallback: ExampleSelector | None = None):
        self.encoder = encoder
        self.fallback = fallback or LexicalExampleSelector()
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _vectors_for(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = [t for t, key in zip(texts, keys) if key not in self._vectors]
        if missing:
            vectors = self.encoder.encode_documents(missing)
            with self._lock:
                for text, vector in zip(missing, vectors):
                    self._vectors[hashlib.sha1(text.encode()).hexdigest()] = vector
        return np.stack([self._vectors[key] for key in keys])

    def select(self, master: Master, lang: str, message: str, k: int) -> list[Example]:
        candidates = examples_in(master, lang)
        if len(candidates) <= k:
            return candidates
        try:
            query = self.encoder.encode_query(message)
            scores = self._vectors_for([ex.user for ex in candidates]) @ query
        except Exception:  # noqa: BLE001 - choosing examples must never break a turn
            return self.fallback.select(master, lang, message, k)
        order = np.argsort(-scores, kind="stable")[:k]
        return [candidates[i] for i in order]
