"""Context for the ``master-finder`` guide: the Finder's verdict on the user's message.

The chat engine appends the text of what a :data:`~masterhall.chat.engine.GuideContext` returns
to the guide's system prompt (and only the guide's), and keeps its recommendations with the answer.
With the Finder's matches the small model sees the few masters that fit, each with its exact name,
id and reason, and so recommends real masters instead of inventing some; when no master fits (the
Finder abstains, see :mod:`.fit`) it is told so, and to offer to create one. The same matches are
stored as the answer's ``recommendations`` and shown as master cards, so the text and the cards
agree.
"""

from __future__ import annotations

from ..catalog.loader import Catalog
from ..catalog.models import Master
from ..chat.engine import GuideBrief, GuideContext, catalog_guide_context
from .finder import Finder
from .query import FinderQueryError
from .results import FinderResult

HEADER = "## Masters who fit this message best (recommend only from this list, by name and id)"
#: The guide's instruction when the Finder finds no master who fits.
NO_FIT = (
    "## No master in this hall fits this message\n"
    "The Master Finder found no master who fits this need. If the message describes a need, say plainly in one "
    "sentence that no master here fits it, and offer to create a master for it in the builder (the hall shows a "
    "link under your answer). If it is only a greeting or unclear, ask what they need. Do not recommend, name or "
    "invent any master."
)
#: Characters of the need kept with the recommendations (it prefills the builder's new master).
MAX_NEED_CHARS = 2000
#: How a weak match is marked in the list (the model should hedge it).
WEAK_MARK = " [possible fit: say it might help, not that it fits]"


def recommendations(result: FinderResult, catalog: Catalog, k: int) -> dict:
    """The JSON-ready record of ``result`` kept with the guide's answer: ``{"query", "lang",
    "no_fit", "matches": [{"id", "name", "reason", "strength", "fit"}]}`` — at most ``k`` matches
    that have a strength, all real masters of ``catalog`` (not guides)."""
    matches = []
    for m in result.recommended:
        real = catalog.masters.get(m.master_id)
        if real is None or real.is_guide:
            continue
        matches.append({"id": real.id, "name": real.name.get(m.lang), "reason": m.reason,
                        "strength": m.strength, "fit": m.fit})
        if len(matches) == k:
            break
    return {"query": result.query[:MAX_NEED_CHARS], "lang": result.lang, "no_fit": not matches, "matches": matches}


def finder_guide_context(finder: Finder, catalog: Catalog, k: int = 3) -> GuideContext:
    """A guide context: the ``k`` best matches that fit, as ``- Name (id): reason`` (weak ones
    marked to be hedged), or :data:`NO_FIT` when none does; with the same matches as
    recommendations (:func:`recommendations`).

    Only ids present in ``catalog`` (and not a guide) are listed, in the message's language.
    For a message the finder refuses (empty, too long, binary) it falls back to
    :func:`~masterhall.chat.engine.catalog_guide_context` (the whole list, no recommendations).
    A master that is not a guide gets an empty string.
    """
    fallback = catalog_guide_context(catalog)

    def context(master: Master, user_message: str, lang: str) -> str | GuideBrief:
        if not master.is_guide:
            return ""
        try:
            result = finder.find(user_message, k=k + 3, lang=lang if lang in ("zh", "en") else None)
        except FinderQueryError:
            return fallback(master, user_message, lang)
        record = recommendations(result, catalog, k)
        if record["no_fit"]:
            return GuideBrief(NO_FIT, record)
        lines = [HEADER]
        for match in record["matches"]:
            mark = WEAK_MARK if match["strength"] == "weak" else ""
            lines.append(f"- {match['name']} ({match['id']}): {match['reason']}{mark}")
        return GuideBrief("\n".join(lines), record)

    return context
