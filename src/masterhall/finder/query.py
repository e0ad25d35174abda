"""Check a free-text need before it reaches the index, and pick the language to answer in.

A query is refused with :class:`FinderQueryError` (a ``ValueError``) when it is empty, longer
than :data:`MAX_QUERY_CHARS`, not UTF-8 text, or carries control / binary characters; the
message says what is wrong and how to fix it, so the CLI and the web app can show it as is.
"""

from __future__ import annotations

import unicodedata

from ..chat.language import detect_language

#: Longest accepted query, in characters (Unicode code points).
MAX_QUERY_CHARS = 10_000
#: Languages the finder answers in (the catalog's two languages).
LANGS: tuple[str, ...] = ("zh", "en")
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class FinderQueryError(ValueError):
    """The query cannot be searched: empty, too long (> 10,000 characters) or not plain text."""


def clean_query(query: object) -> str:
    """Return ``query`` stripped of surrounding white space, or raise :class:`FinderQueryError`.

    ``bytes`` are accepted only when they decode as UTF-8. Refused: anything else that is not
    ``str``; text that is empty once stripped; more than :data:`MAX_QUERY_CHARS` characters;
    control characters other than tab / newline / carriage return (e.g. NUL), unpaired
    surrogates, and U+FFFD (the mark of bytes that were not valid text).
    """
    if isinstance(query, (bytes, bytearray, memoryview)):
        try:
            query = bytes(query).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FinderQueryError(
                f"The query is binary data, not UTF-8 text (bad byte at offset {exc.start}). "
                "Describe your need in plain words."
            ) from None
    if not isinstance(query, str):
        raise FinderQueryError(f"The query must be text, not {type(query).__name__}.")
    text = query.strip()
    if not text:
        raise FinderQueryError("The query is empty. Describe in a few words what you need help with.")
    if len(text) > MAX_QUERY_CHARS:
        raise FinderQueryError(
            f"The query is too long: {len(text):,} characters (at most {MAX_QUERY_CHARS:,}). "
            "Describe your need in a sentence or two."
        )
    for position, char in enumerate(text):
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char == "\ufffd":
            raise FinderQueryError(
                f"The query contains binary or control characters (U+{ord(char):04X} at position "
                f"{position}). Send plain text."
            )
    return text


def query_language(text: str, lang: str | None = None) -> str:
    """The language to answer in: ``lang`` if given (``"zh"`` or ``"en"``), else detected.

    Detection is the chat engine's rule (:func:`masterhall.chat.language.detect_language`), so
    the finder and the masters agree on the language of a message. Raises
    :class:`FinderQueryError` for any other ``lang``.
    """
    if lang is None:
        return detect_language(text)
    if lang not in LANGS:
        raise FinderQueryError(f"Unknown language {lang!r}: use 'zh' or 'en' (or leave it out to detect it).")
    return lang
