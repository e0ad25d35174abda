"""One-line reasons: which of a master's strengths (its tags) match the need, in its language.

A tag is chosen for the reason by how close its embedding is to the query's (cosine, same encoder
as the search), plus a bonus for every search term it shares with the query, so that a tag the
person literally used ("失眠", "GTD") comes first. Up to three tags are named.
"""

from __future__ import annotations

import numpy as np

from ..catalog.models import Master
from .text import tokenize

#: Tags named in a reason.
MAX_TAGS = 3
#: Weight of the share of a tag's terms found in the query, next to the cosine (in [-1, 1]).
LEXICAL_BONUS = 0.5


def pick_tags(
    tags: list[str],
    query_terms: set[str],
    query_vec: np.ndarray | None,
    tag_vecs: np.ndarray | None,
    n: int = MAX_TAGS,
    skip: set[str] | None = None,
) -> list[str]:
    """The ``n`` tags of ``tags`` that best match the query, best first.

    ``tag_vecs`` (``(len(tags), dim)``, unit rows) and ``query_vec`` may be ``None``: then only
    shared terms count, and ties keep the catalog's order (the master's main strengths first).
    Tags in ``skip`` (e.g. the master's own name) are named only when they share a term with
    the query.
    """
    scores = np.zeros(len(tags))
    if tag_vecs is not None and query_vec is not None and len(tags):
        scores += tag_vecs @ query_vec
    shared = np.zeros(len(tags), bool)
    for i, tag in enumerate(tags):
        terms = set(tokenize(tag))
        if terms:
            overlap = len(terms & query_terms) / len(terms)
            scores[i] += LEXICAL_BONUS * overlap
            shared[i] = overlap > 0
    order = [i for i in sorted(range(len(tags)), key=lambda i: (-scores[i], i)) if shared[i] or tags[i] not in (skip or ())]
    chosen: list[str] = []
    for i in order:
        if all(tags[i].lower() not in c.lower() and c.lower() not in tags[i].lower() for c in chosen):
            chosen.append(tags[i])
        if len(chosen) == n:
            break
    return chosen


def format_reason(master: Master, lang: str, tags: list[str], named: bool, confident: bool = True) -> str:
    """The reason line in ``lang``: e.g. ``"Matches your need: insomnia, waking at night"`` /
    ``"契合你的需要：失眠、半夜醒来"``; a master asked for by name says so first. When not
    ``confident`` (a weak match, see :mod:`.fit`) the line is hedged: ``"Might help: …"`` /
    ``"可能相关：…"``."""
    name = master.name.get(lang)
    if lang == "zh":
        strengths = "、".join(tags)
        if named:
            return f"你点名了{name}；擅长：{strengths}" if strengths else f"你点名了{name}"
        if not confident:
            return f"可能相关：{strengths}" if strengths else f"可能相关：{master.tagline.zh}"
        return f"契合你的需要：{strengths}" if strengths else master.tagline.zh
    strengths = ", ".join(tags)
    if named:
        return f"You asked for {name} by name; strengths: {strengths}" if strengths else f"You asked for {name} by name"
    if not confident:
        return f"Might help: {strengths}" if strengths else f"Might help: {master.tagline.en}"
    return f"Matches your need: {strengths}" if strengths else master.tagline.en
