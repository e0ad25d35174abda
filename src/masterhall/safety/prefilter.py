"""What a regular expression needs in a text before it can match there, read from the pattern.

The safety rules are searched on every turn, the Chinese ones on English messages too (and the
other way round), where most of them cannot match: every match of a Chinese rule holds a Han
character. :func:`needs` proves that from the pattern's parse tree (Python's own ``re`` parser),
so the rules can skip a text that lacks such a character without changing any result — no list
kept by hand, and a pattern it cannot read is simply never skipped.
"""

from __future__ import annotations

import re

try:  # the ``re`` module's own parser (private, stable since Python 3.11)
    from re import _constants as C
    from re import _parser
except ImportError:  # pragma: no cover - a Python whose ``re`` moved them: no rule is ever skipped
    C = _parser = None

#: Code point ranges (inclusive) of "any character outside ASCII".
NON_ASCII: tuple[tuple[int, int], ...] = ((0x80, 0x10FFFF),)
#: Code point ranges of the ASCII letters.
ASCII_LETTERS: tuple[tuple[int, int], ...] = ((0x41, 0x5A), (0x61, 0x7A))

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)} if C is not None else set()


def needs(pattern: re.Pattern, ranges: tuple[tuple[int, int], ...]) -> bool:
    """True when every match of ``pattern`` holds at least one character of ``ranges`` (so a text
    without one cannot match); False when it may not, or when that cannot be told (case-insensitive
    patterns, character classes by category, back-references: never a wrong True)."""
    if _parser is None or pattern.flags & re.IGNORECASE:
        return False
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - a parser of another Python version: assume nothing
        return False
    return _sequence(tree, ranges)


def _inside(code: int, ranges) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _sequence(items, ranges) -> bool:
    return any(_item(op, av, ranges) for op, av in items)


def _item(op, av, ranges) -> bool:
    if op is C.LITERAL:
        return _inside(av, ranges)
    if op is C.IN:
        return bool(av) and all((o is C.LITERAL and _inside(v, ranges))
                                or (o is C.RANGE and any(lo <= v[0] and v[1] <= hi for lo, hi in ranges)) for o, v in av)
    if op is C.BRANCH:
        return all(_sequence(branch, ranges) for branch in av[1])
    if op is C.SUBPATTERN:
        group, add_flags, _del_flags, sub = av
        return not add_flags & re.IGNORECASE and _sequence(sub, ranges)
    if op in _REPEATS:
        low, _high, sub = av
        return low >= 1 and _sequence(sub, ranges)
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _sequence(av, ranges)
    return False  # assertions, any character, categories, references: may match without one


def has_any(text: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Whether ``text`` holds a character of ``ranges`` (:data:`NON_ASCII` or :data:`ASCII_LETTERS`)."""
    if ranges is NON_ASCII:
        return not text.isascii()
    if ranges is ASCII_LETTERS:
        return _LETTER.search(text) is not None
    return any(_inside(ord(c), ranges) for c in text)


_LETTER = re.compile(r"[A-Za-z]")
