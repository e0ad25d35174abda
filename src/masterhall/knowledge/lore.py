"""Character-card lorebooks (``character_book``) as keyword-triggered knowledge entries, and back.

A V2/V3 card's ``character_book`` holds ``entries``, each with trigger ``keys`` and ``content``
(plus ``enabled``, ``constant``, ``case_sensitive``, ``insertion_order``, ``comment``, ``name``,
``secondary_keys``, ``extensions`` …; Character Card V2 specification). Imported, each entry
becomes a ``lore`` entry of the master: ``keys``, ``content`` as its ``answer``, its ``name`` or
``comment`` as its title, every other field kept in ``extra``. An entry takes part in a turn
when one of its keys occurs in the new message or the last messages before it (case-insensitive
unless ``case_sensitive``), or always when ``constant``; disabled entries never do. Exported,
the entries are written back into the card's book, whose own fields (``name``, ``scan_depth``,
``token_budget`` …) are kept as imported.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

from ..catalog.models import Master
from ..store.knowledge import Entry

#: How many earlier messages (besides the new one) are scanned for keys (the book's
#: ``scan_depth`` wins when it has one).
SCAN_DEPTH = 2
_OWN = ("keys", "content")


def book_of(master: Master) -> dict | None:
    """The ``character_book`` kept from an imported card (``extensions.card``), or ``None``."""
    card = (master.extensions or {}).get("card") or {}
    data = ((card.get("unmapped") or {}).get("data") or {}) if isinstance(card, dict) else {}
    book = data.get("character_book") if isinstance(data, dict) else None
    return book if isinstance(book, dict) else None


def entries_from_book(book: dict) -> list[dict]:
    """The book's entries as entry dicts (``kind="lore"``, ``title``, ``answer``, ``keys``,
    ``extra``) for :meth:`~masterhall.store.knowledge.KnowledgeRepo.add_entries`; entries
    without content or keys (and not ``constant``) are skipped."""
    out = []
    for raw in book.get("entries") or []:
        if not isinstance(raw, dict):
            continue
        keys = [str(k) for k in raw.get("keys") or [] if str(k).strip()]
        content = str(raw.get("content") or "")
        if not content.strip() or not (keys or raw.get("constant")):
            continue
        title = str(raw.get("name") or raw.get("comment") or (keys[0] if keys else ""))
        out.append({"kind": "lore", "title": title, "answer": content, "keys": keys,
                    "extra": {k: v for k, v in raw.items() if k not in _OWN}})
    return out


def book_entry(entry: Entry) -> dict[str, Any]:
    """A lore entry as a ``character_book`` entry (its kept fields, then keys and content; an
    edited title goes back to ``name`` when the entry had one, else to ``comment``)."""
    raw = dict(entry.extra)
    raw["keys"] = list(entry.keys)
    raw["content"] = entry.answer
    raw.setdefault("enabled", True)
    raw.setdefault("insertion_order", entry.ordinal)
    raw.setdefault("extensions", {})
    raw["name" if "name" in raw else "comment"] = entry.title
    return raw


def with_book(master: Master, entries: Sequence[Entry]) -> Master:
    """``master`` (a copy) whose kept ``character_book`` holds ``entries`` (lore ones): the
    book's own fields are kept; a master without a book gets one. Unchanged without lore entries
    and without a book."""
    lore = [e for e in entries if e.kind == "lore"]
    book = book_of(master)
    if not lore and book is None:
        return master
    extensions = copy.deepcopy(master.extensions or {})
    card = extensions.setdefault("card", {})
    data = card.setdefault("unmapped", {}).setdefault("data", {})
    new_book = copy.deepcopy(book) if book is not None else {"extensions": {}}
    new_book["entries"] = [book_entry(e) for e in lore]
    data["character_book"] = new_book
    return master.model_copy(update={"extensions": extensions})


def triggered(entries: Sequence[Entry], texts: Sequence[str]) -> list[Entry]:
    """The enabled lore ``entries`` whose keys occur in ``texts`` (the new message first), or that
    are ``constant``, in their order."""
    joined = "\n".join(texts)
    folded = joined.casefold()
    out = []
    for entry in entries:
        if entry.kind != "lore" or entry.extra.get("enabled", True) is False:
            continue
        if entry.extra.get("constant"):
            out.append(entry)
            continue
        sensitive = bool(entry.extra.get("case_sensitive"))
        if any((k in joined) if sensitive else (k.casefold() in folded) for k in entry.keys if k):
            out.append(entry)
    return out
