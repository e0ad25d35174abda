"""An index of a master's texts for the copy watch: the longest suffix of a growing answer that
occurs in one of a chosen subset of the texts, one character at a time, in constant time.

It is a generalized suffix automaton over every text an answer could copy from the master
(instructions, reply recipe, every example's two sides), with a bit set per state saying which
texts contain that state's strings; a turn passes the subset it shows (its selected examples) as a
mask. :class:`~masterhall.chat.checks.EchoWatch` reads it instead of searching the texts once or
twice per character (an answer of 90 characters over 2,000 characters of sources: ~25 µs instead
of ~150 µs), with the same results. Built once per master's set of texts (a few milliseconds for
a few thousand characters, on a thread of its own: a master's first turn searches as before) and
kept in a small cache (:func:`index_for`; about 300 bytes a character of the texts).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

#: How many characters of indexed texts :func:`index_for` keeps in all (least recently used dropped
#: first; ~330 bytes a character, so ~80 MB): the 42 built-in masters' texts (~4,000 characters each)
#: fit with room for user masters, so a busy hall does not rebuild indexes it drops.
CACHE_CHARS = 250_000
#: Texts longer than this in all (characters) get no index (a user master's long texts: ~300 bytes
#: and ~1.5 µs of build per character; the copy watch then searches them as before).
MAX_INDEX_CHARS = 50_000


class SubstringIndex:
    """A generalized suffix automaton of ``texts`` (each text on its own: no match spans two).

    ``bit(text)`` is the bit of a text (``None`` for a text not indexed); a mask is an OR of
    bits. :meth:`step` follows one character. Immutable once built, so one index may serve
    several turns on several threads at once.
    """

    def __init__(self, texts: Sequence[str]):
        self._bits: dict[str, int] = {}
        nexts: list[dict[str, int]] = [{}]
        link: list[int] = [-1]
        length: list[int] = [0]
        mask: list[int] = [0]

        def new(size: int, edges: dict[str, int], parent: int) -> int:
            nexts.append(edges)
            link.append(parent)
            length.append(size)
            mask.append(0)
            return len(nexts) - 1

        def split(p: int, c: str, q: int) -> int:
            """A clone of ``q`` of length ``length[p] + 1``; ``p`` and its suffixes that led to ``q`` by ``c`` now lead to it."""
            clone = new(length[p] + 1, dict(nexts[q]), link[q])
            while p != -1 and nexts[p].get(c) == q:
                nexts[p][c] = clone
                p = link[p]
            link[q] = clone
            return clone

        def extend(last: int, c: str) -> int:
            q = nexts[last].get(c)
            if q is not None:  # the text so far already occurs (in an earlier text)
                return q if length[last] + 1 == length[q] else split(last, c, q)
            cur = new(length[last] + 1, {}, 0)
            p = last
            while p != -1 and c not in nexts[p]:
                nexts[p][c] = cur
                p = link[p]
            if p != -1:
                q = nexts[p][c]
                link[cur] = q if length[p] + 1 == length[q] else split(p, c, q)
            return cur

        for text in texts:
            if not text or text in self._bits:
                continue
            bit = 1 << len(self._bits)
            self._bits[text] = bit
            last = 0
            for c in text:
                last = extend(last, c)
                mask[last] |= bit
        for state in sorted(range(1, len(nexts)), key=length.__getitem__, reverse=True):
            mask[link[state]] |= mask[state]  # a state's strings occur wherever its longer extensions do
        # one flat table (state << 21 | code point -> state) holds the edges in ~40% of the memory of a dict per state
        self._edges = {state << 21 | ord(c): t for state, edges in enumerate(nexts) for c, t in edges.items()}
        self._link, self._length, self._mask = link, length, mask
        self._states = len(nexts)

    def __len__(self) -> int:
        """Number of states."""
        return self._states

    def mask_of(self, texts: Sequence[str]) -> int | None:
        """The mask of ``texts`` (empty ones ignored), or ``None`` when one of them is not indexed."""
        mask = 0
        for text in texts:
            if text:
                bit = self._bits.get(text)
                if bit is None:
                    return None
                mask |= bit
        return mask

    def step(self, state: int, size: int, c: str, mask: int) -> tuple[int, int]:
        """From ``(state, size)`` — the longest suffix of some text that occurs in the texts of
        ``mask``, ``size`` characters long, in ``state`` — to the same for that text plus ``c``."""
        state, size, _ = self.walk(state, size, c, mask)
        return state, size

    def walk(self, state: int, size: int, chars: str, mask: int, until: int | None = None) -> tuple[int, int, int]:
        """:meth:`step` for each of ``chars`` in turn; stops early after the first character that
        makes ``size`` reach ``until``. Returns the state, the size and how many characters were read."""
        edges, link, length, masks = self._edges, self._link, self._length, self._mask
        read = 0
        for c in chars:
            code = ord(c)
            read += 1
            while True:
                nxt = edges.get(state << 21 | code)
                if nxt is not None:
                    state, size = nxt, size + 1
                    while state and not masks[state] & mask:  # in other texts only: a shorter suffix
                        state = link[state]
                        size = length[state]
                    break
                if not state:
                    size = 0
                    break
                state = link[state]
                size = length[state]
            if until is not None and size >= until:
                break
        return state, size, read


_cache: OrderedDict[tuple[str, ...], SubstringIndex] = OrderedDict()
_building: set[tuple[str, ...]] = set()
_lock = threading.Lock()


def index_for(texts: Sequence[str], *, wait: bool = True) -> SubstringIndex | None:
    """The index of ``texts``, built on first use and kept (at most :data:`CACHE_CHARS` characters of them).

    ``wait=False``: ``None`` while it is not built yet, and then it is built on a thread of its
    own (a turn goes on without it instead of waiting a few milliseconds for it; later turns have it).
    Always ``None`` for texts over :data:`MAX_INDEX_CHARS` characters in all.
    """
    key = tuple(texts)
    if sum(map(len, key)) > MAX_INDEX_CHARS:
        return None
    with _lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
        if not wait:
            if key not in _building:
                _building.add(key)
                threading.Thread(target=_build, args=(key,), name="substring-index", daemon=True).start()
            return None
    return _build(key)


def _build(key: tuple[str, ...]) -> SubstringIndex:
    try:
        index = SubstringIndex(key)
        with _lock:
            _cache[key] = index
            kept = sum(sum(map(len, k)) for k in _cache)
            while kept > CACHE_CHARS and len(_cache) > 1:
                dropped, _ = _cache.popitem(last=False)
                kept -= sum(map(len, dropped))
        return index
    finally:
        with _lock:
            _building.discard(key)
