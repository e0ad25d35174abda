"""Exact look-ups: a query that *is* a master's name, id or tag, or that names a master.

Dictionaries keyed by normalised text (see :func:`~.text.compact`), so a look-up costs a few
dictionary probes per query character whatever the size of the hall: the whole query is probed
as a name and as a tag, then every word n-gram (Latin names, whole words) and every substring
of a length some Chinese name has (Chinese names) is probed as a name.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from ..catalog.models import Master
from .text import compact, spaced

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Strength of an exact hit: the query is a name or id / is a tag / contains a name.
IS_NAME, IS_TAG, HAS_NAME = 3, 2, 1
_MAX_NAME_WORDS = 5


class NameIndex:
    """Names, ids and tags of the indexed masters, for :meth:`lookup`."""

    def __init__(self) -> None:
        self._whole: dict[str, set[str]] = defaultdict(set)  # compact name or id -> ids
        self._tags: dict[str, set[str]] = defaultdict(set)  # compact tag -> ids
        self._latin: dict[str, set[str]] = defaultdict(set)  # "aaron beck" -> ids
        self._cjk: dict[str, set[str]] = defaultdict(set)  # "苏东坡" -> ids
        self._cjk_sizes: Counter[int] = Counter()  # lengths of the keys of _cjk

    def _keys(self, master: Master) -> list[tuple[dict[str, set[str]], str]]:
        """Where ``master`` is filed (recomputed on removal rather than stored: 100,000 masters
        would otherwise keep millions of small tuples alive)."""
        keys: list[tuple[dict[str, set[str]], str]] = []
        for name in (master.name.zh, master.name.en, master.id):
            key = compact(name)
            keys.append((self._whole, key))
            if _CJK.search(name):
                if len(key) >= 2:
                    keys.append((self._cjk, key))
            elif len(key) >= 3 and name != master.id:
                keys.append((self._latin, spaced(name).strip()))
        keys += [(self._tags, compact(tag)) for tag in (*master.tags.zh, *master.tags.en)]
        return [(table, key) for table, key in keys if key]

    def put(self, master: Master) -> None:
        """Index the names, id and tags of ``master`` (call :meth:`remove` with the old version
        first when re-indexing an edited master)."""
        for table, key in self._keys(master):
            if table is self._cjk and key not in table:
                self._cjk_sizes[len(key)] += 1
            table[key].add(master.id)

    def remove(self, master: Master) -> None:
        """Forget ``master`` as it was indexed (no error if it was not)."""
        for table, key in self._keys(master):
            ids = table.get(key)
            if ids is not None:
                ids.discard(master.id)
                if not ids:
                    del table[key]
                    if table is self._cjk:
                        self._cjk_sizes[len(key)] -= 1
                        if not self._cjk_sizes[len(key)]:
                            del self._cjk_sizes[len(key)]

    def lookup(self, text: str) -> dict[str, int]:
        """Master ids the query points at, with the strength of the hit (:data:`IS_NAME`,
        :data:`IS_TAG` or :data:`HAS_NAME`; the strongest hit of each id)."""
        hits: dict[str, int] = {}

        def add(ids: set[str] | None, strength: int) -> None:
            for mid in ids or ():
                if hits.get(mid, 0) < strength:
                    hits[mid] = strength

        whole = compact(text)
        add(self._whole.get(whole), IS_NAME)
        add(self._tags.get(whole), IS_TAG)
        words = spaced(text).split()
        for n in range(1, min(_MAX_NAME_WORDS, len(words)) + 1):
            for i in range(len(words) - n + 1):
                add(self._latin.get(" ".join(words[i : i + n])), HAS_NAME)
        if self._cjk and _CJK.search(whole):
            for size in self._cjk_sizes:
                for i in range(len(whole) - size + 1):
                    add(self._cjk.get(whole[i : i + size]), HAS_NAME)
        return hits
