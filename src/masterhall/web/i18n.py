"""The web pages' own words in Chinese and English, and how a page's language is chosen.

The language of a page is the ``lang`` cookie when it is ``zh`` or ``en``, else the best match
of the browser's ``Accept-Language`` header, else English. Masters' own texts (names,
taglines …) come from the catalog; the interface strings live in ``locales/<lang>.json`` (one
file per language, the same keys in each; a test checks that). Strings may hold
``{placeholders}`` filled by :func:`translate` here and by ``t()`` in the browser.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import MappingProxyType

#: The interface languages, in the order the switch shows them.
LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "en"
#: Name of the cookie that remembers a visitor's choice.
LANG_COOKIE = "lang"

LOCALES_DIR = Path(__file__).parent / "locales"


@cache
def _table(lang: str) -> MappingProxyType:
    """The strings of ``lang`` from ``locales/<lang>.json`` (read once, on first use)."""
    with (LOCALES_DIR / f"{lang}.json").open(encoding="utf-8") as fh:
        return MappingProxyType(json.load(fh))


def _strings_of(lang: str) -> MappingProxyType:
    return _table(lang if lang in LANGS else DEFAULT_LANG)


def normalize_lang(value: str | None) -> str | None:
    """``"zh"`` or ``"en"`` for a language tag such as ``zh-CN`` or ``en_US``; ``None`` otherwise."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGS else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the ``Accept-Language`` header prefers most, or ``None``."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = normalize_lang(tag)
        if lang and quality > 0 and (best is None or (quality, -index) > (best[0], best[1])):
            best = (quality, -index, lang)
    return best[2] if best else None


def choose_lang(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie's choice, else the browser's preference, else English."""
    return normalize_lang(cookie) or from_accept_language(accept_language) or DEFAULT_LANG


def strings(lang: str) -> dict[str, str]:
    """Every interface string of ``lang`` (a copy; unknown languages give English)."""
    return dict(_strings_of(lang))


def translate(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``{placeholders}`` filled; an unknown key returns itself."""
    text = _strings_of(lang).get(key)
    if text is None:
        return key
    return text.format(**values) if values else text
