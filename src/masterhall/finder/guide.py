"""Context for the ``master-finder`` guide: the finder's top matches for the user's message.

The chat engine appends what a :data:`~masterhall.chat.engine.GuideContext` returns to the
guide's system prompt (and only the guide's). With the finder's matches the small model sees the
few masters that fit, each with its exact name, id and reason, and so recommends real masters
instead of inventing some.
"""

from __future__ import annotations

from ..catalog.loader import Catalog
from ..catalog.models import Master
from ..chat.engine import GuideContext, catalog_guide_context
from .finder import Finder
from .query import FinderQueryError

HEADER = "## Masters who fit this message best (recommend only from this list, by name and id)"


def finder_guide_context(finder: Finder, catalog: Catalog, k: int = 5) -> GuideContext:
    """A guide context listing the ``k`` best matches as ``- Name (id): reason``.

    Only ids present in ``catalog`` (and not a guide) are listed, in the message's language.
    For a message the finder refuses (empty, too long, binary) or when nothing matches, it falls
    back to :func:`~masterhall.chat.engine.catalog_guide_context` (the whole list). A master
    that is not a guide gets an empty string.
    """
    fallback = catalog_guide_context(catalog)

    def context(master: Master, user_message: str, lang: str) -> str:
        if not master.is_guide:
            return ""
        try:
            matches = finder.match(user_message, k=k + 3, lang=lang if lang in ("zh", "en") else None)
        except FinderQueryError:
            return fallback(master, user_message, lang)
        lines = [HEADER]
        for match in matches:
            real = catalog.masters.get(match.master_id)
            if real is None or real.is_guide:
                continue
            lines.append(f"- {real.name.get(match.lang)} ({real.id}): {match.reason}")
            if len(lines) > k:
                break
        if len(lines) == 1:
            return fallback(master, user_message, lang)
        return "\n".join(lines)

    return context
