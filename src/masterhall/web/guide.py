"""The guide's recommendations as the web shows them: master cards with a "talk to" link, or
"no master fits" with a link to create one in the builder (prefilled with the need).

Only masters of the hall *now* become cards: an id that is not a real master (a stale record, a
master since removed) is left out, so a card always leads to a master who exists.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ..catalog.loader import Catalog
from .templating import avatar_image

#: The builder page that creates a master; ``?need=`` prefills it (see :mod:`.routers.builder_pages`).
BUILDER_NEW = "/builder/new"


def create_url(need: str) -> str:
    """The builder's new-master page prefilled with ``need`` (cut to 2,000 characters)."""
    return f"{BUILDER_NEW}?{urlencode({'need': need.strip()[:2000]})}"


def talk_url(master_id: str, need: str | None = None) -> str:
    """A new conversation with ``master_id``; with ``need``, sent as its first message."""
    base = f"/masters/{master_id}/chat"
    return f"{base}?{urlencode({'q': need.strip()})}" if need and need.strip() else base


def guide_cards(recommendations: dict | None, catalog: Catalog) -> dict | None:
    """What the chat page shows under a guide's answer, from the answer's stored
    ``recommendations`` (see :func:`masterhall.finder.guide.recommendations`): ``{"no_fit",
    "create_url" (when no_fit), "matches": [{"id", "name", "avatar", "avatar_image", "reason",
    "strength", "url"}]}``, real masters only; ``None`` when there is nothing to show."""
    if not isinstance(recommendations, dict):
        return None
    lang = recommendations.get("lang") if recommendations.get("lang") in ("zh", "en") else "en"
    need = str(recommendations.get("query") or "")
    matches = []
    for item in recommendations.get("matches") or []:
        master = catalog.masters.get(str(item.get("id", ""))) if isinstance(item, dict) else None
        if master is None or master.is_guide:
            continue
        matches.append({"id": master.id, "name": master.name.get(lang), "avatar": master.avatar,
                        "avatar_image": avatar_image(master), "reason": str(item.get("reason") or ""),
                        "strength": item.get("strength"), "url": talk_url(master.id, need)})
    cards: dict = {"no_fit": not matches, "matches": matches}
    if not matches:
        cards["create_url"] = create_url(need)
    return cards
