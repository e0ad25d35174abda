"""Which language a message is written in (the hall answers in it)."""

from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

#: Display names used in the system prompt's language rule.
LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}


def detect_language(text: str, default: str = "en") -> str:
    """Return ``"zh"`` when Chinese characters make up a fair share of the letters, else ``"en"``.

    A Han character carries roughly a word, so one Han character counts as much as four Latin
    letters; ``default`` is returned for text with neither (digits, emoji, empty).
    """
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if not han and not latin:
        return default
    return "zh" if han * 4 >= latin else "en"
