"""Cutting sections into chunks that fit a prompt: paragraphs, then sentences, packed up to a
token size, each chunk keeping its section's position.

Sizes are in *estimated* tokens (:func:`estimate_tokens`: one per Han character, one per four
other characters — Qwen's and most BPE vocabularies come close on Chinese and English prose), so
that chunking needs no model. A paragraph that fits is kept whole; a longer one is split at
sentence ends (``.!?`` and ``。！？；``), and a sentence longer than a chunk at the size itself.
Consecutive chunks of one section share their boundary sentence when it is short
(``overlap_tokens``), so a fact that straddles two chunks is whole in one of them.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Iterable

from ..chat.checks import han_count
from .parse import Section

#: Largest chunk, in estimated tokens.
CHUNK_TOKENS = 160
#: A boundary sentence up to this size is repeated at the start of the next chunk.
OVERLAP_TOKENS = 40

_SENTENCE = re.compile(r"(?<=[.!?。！？；])(?=\s|[^\s.!?])")


def estimate_tokens(text: str) -> int:
    """Estimated tokens of ``text``: Han characters one each, other characters four to a token."""
    han = han_count(text)
    return han + math.ceil((len(text) - han) / 4)


def text_hash(text: str) -> str:
    """SHA-256 (hex) of a chunk's text: chunks whose text is unchanged keep their vectors."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A piece of a source: its ``text``, ``position`` (page or heading path) and ``ordinal``
    (its order in the source, from 0)."""

    text: str
    position: str
    ordinal: int

    @property
    def hash(self) -> str:
        """:func:`text_hash` of the text."""
        return text_hash(self.text)


def _split_long(sentence: str, size: int) -> list[str]:
    """A sentence over ``size`` estimated tokens cut into pieces of at most that size (at spaces
    when there are any); the pieces keep their spacing, so joined they give the sentence back."""
    pieces, current = [], ""
    for word in re.split(r"(?=\s)", sentence) if " " in sentence.strip() else list(sentence):
        if current.strip() and estimate_tokens(current + word) > size:
            pieces.append(current)
            current = ""
        current += word
    if current.strip():
        pieces.append(current)
    return pieces


def _units(text: str, size: int) -> list[tuple[str, bool]]:
    """Paragraphs that fit, else their sentences (long ones cut): the pieces chunks are packed
    from, each with whether it starts a paragraph. A sentence keeps the spacing before it, so a
    chunk's text is a verbatim stretch of the source (the leak cut compares answers with it)."""
    units: list[tuple[str, bool]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if estimate_tokens(paragraph) <= size:
            units.append((paragraph, True))
            continue
        first = True
        for sentence in _SENTENCE.split(paragraph):
            if not sentence.strip():
                continue
            for piece in [sentence] if estimate_tokens(sentence) <= size else _split_long(sentence, size):
                units.append((piece, first))
                first = False
    return units


def _join(units: list[tuple[str, bool]]) -> str:
    return "".join(("\n\n" + u.lstrip() if starts else u) if i else u.strip() for i, (u, starts) in enumerate(units)).strip()


def chunk_sections(sections: Iterable[Section], size: int = CHUNK_TOKENS, overlap_tokens: int = OVERLAP_TOKENS) -> list[Chunk]:
    """The chunks of ``sections``, in order; each at most ``size`` estimated tokens (a
    paragraph is never split when it fits). Raises ``ValueError`` for ``size < 8``."""
    if size < 8:
        raise ValueError("a chunk must hold at least 8 tokens")
    chunks: list[Chunk] = []
    for section in sections:
        current: list[tuple[str, bool]] = []
        tokens = 0
        for unit in _units(section.text, size):
            cost = estimate_tokens(unit[0])
            if current and tokens + cost > size:
                chunks.append(Chunk(_join(current), section.position, len(chunks)))
                last = current[-1]
                keep = estimate_tokens(last[0]) <= overlap_tokens and estimate_tokens(last[0]) + cost <= size
                current, tokens = ([last], estimate_tokens(last[0])) if keep else ([], 0)
            current.append(unit)
            tokens += cost
        if current:
            chunks.append(Chunk(_join(current), section.position, len(chunks)))
    return chunks
