"""The HTML pages of the hall: server-rendered Jinja2 templates plus a little JavaScript.

``/`` the hall (categories and master cards), ``/masters/{id}`` one master,
``/masters/{id}/chat`` a new conversation (``?q=`` sends a first message),
``/chat/{conversation_id}`` an existing conversation (a round table's too), ``/roundtable?masters=a,b,c``
a new round table (``?q=`` sends a first message), ``/lang/{lang}`` the language switch.
Everything dynamic (sending, streaming, the sidebar) is done by ``static/js/*.js`` through
``/api``. The builder's pages are in :mod:`.builder_pages`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...catalog.loader import UnknownMasterError
from ...catalog.models import Master
from ...conversations.roundtable import MAX_START
from ...errors import InvalidRequestError, NotFoundError
from .. import i18n
from ..deps import CallerDep, HallDep, RenderDep
from ..templating import avatar_image, card, not_found, page_lang, render_page
from .conversations import assistant_view

router = APIRouter(include_in_schema=False)

#: Path of the endpoint that ranks masters for a need; the hall's search uses it.
MATCH_PATH = "/api/match"


def _master_or_404(request: Request, hall, master_id: str) -> Master | HTMLResponse:
    try:
        return hall.catalog.get(master_id)
    except UnknownMasterError as exc:
        return not_found(request, "not_found_master", [hall.catalog.masters[i] for i in exc.suggestions], id=master_id)


@router.get("/", response_class=HTMLResponse)
def hall_page(request: Request, hall: HallDep) -> HTMLResponse:
    """The hall: every category with its master cards, a search box and the Master Finder."""
    lang = page_lang(request)
    categories = []
    for category in hall.catalog.categories:
        cards = [card(m, lang) for m in hall.catalog.advisors(category.id)]
        categories.append({"id": category.id, "name": category.name.get(lang), "cards": cards})
    finder = hall.catalog.masters.get("master-finder")
    total = sum(len(c["cards"]) for c in categories)
    return render_page(request, "hall.html", categories=categories, total=total,
                       finder=card(finder, lang) if finder else None, match_url=MATCH_PATH)


@router.get("/masters/{master_id}", response_class=HTMLResponse)
def master_page(request: Request, hall: HallDep, caller: CallerDep, master_id: str) -> HTMLResponse:
    """One master: description, greeting, conversation starters, a button to start chatting."""
    master = _master_or_404(request, hall, master_id)
    if isinstance(master, HTMLResponse):
        return master
    lang = page_lang(request)
    category = next((c for c in hall.catalog.categories if c.id == master.category), None)
    return render_page(request, "master.html", master=master, m=_localized(master, lang),
                       category_name=category.name.get(lang) if category else "",
                       editable=master.id not in hall.catalog.builtin_ids and hall.library.mine(master.id, caller) is not None,
                       forkable=hall.library.shows_instructions(master.id, caller))


def _localized(master: Master, lang: str) -> dict:
    """A master card's fields (:func:`~masterhall.web.templating.card`) plus what its page shows."""
    shown = {key: value for key, value in card(master, lang).items() if key != "search"}
    return {
        **shown,
        "description": master.description.get(lang),
        "greeting": master.greeting.get(lang),
        "starters": master.starters.get(lang),
        "tags": master.tags.get(lang),
    }


def _chat_page(request: Request, hall, render, master: Master, transcript=None, q: str | None = None,
               members: list[str] | None = None) -> HTMLResponse:
    """The chat page: the conversation (if any) and everything the script needs, as JSON."""
    lang = page_lang(request)
    messages = []
    for msg in transcript.messages if transcript else []:
        if msg.role == "system":
            continue
        view = assistant_view(hall, render, msg.content, msg.recommendations, master.is_guide) \
            if msg.role == "assistant" else {"html": None, "cards": None}
        messages.append({"id": msg.id, "role": msg.role, "content": msg.content, "status": msg.status,
                         "error": msg.error, "finish_reason": msg.finish_reason, "notes": msg.notes, "citations": msg.citations,
                         "master_id": msg.master_id, **view})
    conversation = transcript.conversation if transcript else None
    masters = {m.id: {"avatar": m.avatar, "avatar_image": avatar_image(m), "name": m.name.get(lang),
                      "names": [m.name.en, m.name.zh], "guide": m.is_guide} for m in hall.catalog}
    page = {
        "lang": lang,
        "master": _localized(master, lang),
        "conversation": conversation.to_dict() if conversation else None,
        "messages": messages,
        "generating": transcript.generating if transcript else False,
        "stopping": transcript.stopping if transcript else False,
        "initial": (q or "").strip() or None,
        "masters": masters,
        "members": (conversation.members if conversation else members) or None,
    }
    title = (conversation.title if conversation and conversation.title else None) or master.name.get(lang)
    table = [masters[i] for i in page["members"] or [] if i in masters]
    return render_page(request, "chat.html", master=master, m=page["master"], page=page, title=title, table=table)


@router.get("/masters/{master_id}/chat", response_class=HTMLResponse)
def new_chat_page(request: Request, hall: HallDep, render: RenderDep, master_id: str,
                  q: str | None = Query(None, max_length=32000)) -> HTMLResponse:
    """A new conversation with a master; ``q`` is sent as the first message."""
    master = _master_or_404(request, hall, master_id)
    if isinstance(master, HTMLResponse):
        return master
    return _chat_page(request, hall, render, master, q=q)


@router.get("/roundtable", response_class=HTMLResponse)
def new_round_table_page(request: Request, hall: HallDep, render: RenderDep,
                         masters: list[str] = Query([], max_length=8),
                         q: str | None = Query(None, max_length=32000)) -> HTMLResponse:
    """A new round table with ``masters`` (``?masters=a,b`` or ``?masters=a&masters=b``, as the
    hall's picker form sends them); ``q`` is sent as the first message. An unknown master: the
    not-found page (with the masters meant); fewer than 2 or more than
    :data:`~masterhall.conversations.roundtable.MAX_START` different masters (or the guide): a
    ``400`` page that says so and leads back to the hall's picker."""
    ids = [i.strip() for value in masters for i in value.split(",") if i.strip()]
    for master_id in ids:
        master = _master_or_404(request, hall, master_id)
        if isinstance(master, HTMLResponse):
            return master
    try:
        seated = hall.roundtable.seat(ids, maximum=MAX_START)
    except InvalidRequestError:
        count = len({m.id for m in map(hall.catalog.get, ids) if not m.is_guide})  # the guide has no seat
        return render_page(request, "404.html", status_code=400, heading=i18n.translate(page_lang(request),
                           "round_table_refused_title"), message=i18n.translate(page_lang(request), "not_found_table",
                                                                                n=count),
                           back=("/#table-picker", "round_table_pick_back"))
    return _chat_page(request, hall, render, hall.catalog.get(seated[0]), q=q, members=seated)


@router.get("/chat/{conversation_id}", response_class=HTMLResponse)
def conversation_page(request: Request, hall: HallDep, caller: CallerDep, render: RenderDep,
                      conversation_id: str) -> HTMLResponse:
    """An existing conversation of the caller's, as stored (a reload shows everything, partial answers too)."""
    try:
        transcript = hall.chat.get(conversation_id, caller=caller)
    except NotFoundError:
        return not_found(request, "not_found_conversation")
    master = hall.catalog.masters.get(transcript.conversation.master_id)
    if master is None:
        return not_found(request, "not_found_master", id=transcript.conversation.master_id)
    return _chat_page(request, hall, render, master, transcript)


def _safe_next(target: str | None) -> str:
    """Only same-site paths may be redirected to (no ``//host`` or ``http://…``)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/robots.txt")
async def robots() -> Response:
    """A self-hosted hall is not for search engines: every crawler is asked to stay out (public,
    also in a hall with accounts)."""
    return Response("User-agent: *\nDisallow: /\n", media_type="text/plain")


@router.get("/lang/{lang}")
def switch_lang(lang: str, next: str | None = None) -> Response:
    """Remember the interface language in the ``lang`` cookie and go back to ``next``."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    chosen = i18n.normalize_lang(lang)
    if chosen:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax")
    return response
