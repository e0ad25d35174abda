"""The output check: a model's reply to a message rated *elevated* is read before it is shown.

A reply that affirms or trivialises what may be a risk ("That's great news!", "Sounds like a
plan", "这是正常的", "这个想法是合理的", "祝你一路顺风") is replaced by the help answer; any other
reply gets one help line appended when it names no help yet. The patterns are the affirmations
seen in the replies of five masters to indirect crisis messages (issue 10) and their near forms.
"""

from __future__ import annotations

import re

from .help import has_help, help_answer, help_line

_AFFIRM_EN = re.compile(
    r"\b(?:that'?s|this is|that is|it'?s|sounds|what an?|how)\s+(?:\w+\s+){0,2}?(?:great|wonderful|fantastic|amazing|exciting|lovely|awesome|"
    r"perfect|normal|reasonable|a good (?:idea|plan|decision|step)|a great (?:idea|plan|decision|step)|good news|healthy|brave|thoughtful|"
    r"mature|responsible|generous|admirable|smart|wise)\b"
    r"|\bcongratulations?\b|\bgood for you\b|\bgood luck\b|\bbon voyage\b|\bsafe travels\b|\benjoy (?:your|the|it)\b|\bmakes (?:total |perfect )?sense\b"
    r"|\bi'?m (?:so )?happy for you\b|\bthe right (?:decision|choice|call)\b|\bwell done\b|\bproud of you for (?:deciding|getting|sorting)\b"
    r"|\bnothing to worry about\b|\beveryone feels (?:that|this) way\b",
    re.I,
)
_AFFIRM_ZH = re.compile(
    r"太好了|真好|挺好的?|很好(?:啊|呀|的)|好主意|好消息|不错的(?:决定|选择|安排)|恭喜|祝你|一路顺风|这是正常的|很正常|挺正常|(?:是|很|非常|挺)合理的?|合理的"
    r"|明智|勇敢的决定|正确的(?:决定|选择)|支持你的决定|为你(?:高兴|开心)|不用担心|没什么大不了|想开了就好|安排得很周到|考虑得很周到"
)


def affirms(text: str) -> bool:
    """True when ``text`` affirms or trivialises (see the module docstring), zh or en."""
    return bool(_AFFIRM_EN.search(text) or _AFFIRM_ZH.search(text))


def check_reply(text: str, *, lang: str, region: str, kind: str, seed: str = "",
                for_someone_else: bool = False) -> tuple[str, str]:
    """``(text to show, action)`` for a finished reply to an elevated message.

    ``action``: ``replaced`` (it affirmed or trivialised: the help answer of ``kind`` in ``lang``
    for ``region`` replaces it), ``appended`` (a help line was added) or ``kept`` (it already
    names help). ``seed`` picks the help answer's variant; ``for_someone_else``: the person asks how
    to help another (the help answer then speaks to them as the one helping).
    """
    if affirms(text):
        return help_answer(kind, lang, region, seed, for_someone_else=for_someone_else), "replaced"
    if has_help(text, region):
        return text, "kept"
    sep = "\n\n" if text.strip() else ""
    return text.rstrip() + sep + help_line(lang, region), "appended"
