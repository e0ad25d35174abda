"""The HTML pages of the hall: server-rendered Jinja2 templates plus a little JavaScript.

``/`` the hall (categories and master cards), ``/masters/{id}`` one master,
``/masters/{id}/chat`` a new conversation (``?q=`` sends a first message),
``/chat/{conversation_id}`` an existing conversation, ``/lang/{lang}`` the language switch.
The builder: ``/builder`` (your masters, import), ``/builder/new`` and ``/builder/{id}`` (the
form with its one-click test and preview). Everything dynamic (sending, streaming, the sidebar,
the builder's saving and testing) is done by ``static/*.js`` through ``/api``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..catalog.loader import UnknownMasterError
from ..catalog.models import AVATAR_IMAGE_RE, CATEGORIES, Master
from . import i18n

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(__file__).parent
#: Path of the endpoint that ranks masters for a need; the hall's search uses it once it exists.
MATCH_PATH = "/api/match"


@cache
def _templates() -> Jinja2Templates:
    """The template environment, created on first use (never at import)."""
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    templates.env.globals["static_url"] = static_url
    return templates


def static_url(name: str) -> str:
    """URL of a file in ``static/`` with a cache-busting version (the file's modification time)."""
    try:
        version = int((WEB_DIR / "static" / name).stat().st_mtime)
    except OSError:
        version = __version__
    return f"/static/{name}?v={version}"


def page_lang(request: Request) -> str:
    """The language of the page for this request (cookie, then ``Accept-Language``, then English)."""
    return i18n.choose_lang(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))


def _render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with the shared context: language, strings, model status."""
    lang = page_lang(request)
    hall = request.app.state.hall

    def t(key: str, **values) -> str:
        return i18n.translate(lang, key, **values)

    shared = {
        "lang": lang,
        "other_lang": "en" if lang == "zh" else "zh",
        "t": t,
        "status": hall.loader.to_dict(),
        "js_strings": i18n.strings(lang),
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    response = _templates().TemplateResponse(request, template, {**shared, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def avatar_image(master: Master) -> str | None:
    """The master's uploaded avatar picture (a checked ``data:image/…;base64`` URL), or ``None``.

    The schema validates it already; this second check makes sure a page never puts anything
    else into an ``<img src>``.
    """
    value = master.avatar_image
    return value if value and AVATAR_IMAGE_RE.fullmatch(value) else None


def _card(master: Master, lang: str) -> dict:
    """What a master card shows, plus the text the client-side search looks in (both languages)."""
    haystack = " ".join([
        master.id, master.name.zh, master.name.en, master.tagline.zh, master.tagline.en,
        *master.tags.zh, *master.tags.en,
    ]).lower()
    return {
        "id": master.id,
        "avatar": master.avatar,
        "avatar_image": avatar_image(master),
        "name": master.name.get(lang),
        "tagline": master.tagline.get(lang),
        "search": haystack,
    }


def _not_found(request: Request, message_key: str, suggestions: list[Master] | None = None, **values) -> HTMLResponse:
    lang = page_lang(request)
    return _render(request, "404.html", status_code=404, message=i18n.translate(lang, message_key, **values),
                   suggestions=[_card(m, lang) for m in suggestions or []])


def _master_or_404(request: Request, master_id: str) -> Master | HTMLResponse:
    catalog = request.app.state.hall.catalog
    try:
        return catalog.get(master_id)
    except UnknownMasterError as exc:
        return _not_found(request, "not_found_master", [catalog.masters[i] for i in exc.suggestions], id=master_id)


@router.get("/", response_class=HTMLResponse)
def hall_page(request: Request) -> HTMLResponse:
    """The hall: every category with its master cards, a search box and the Master Finder."""
    lang = page_lang(request)
    catalog = request.app.state.hall.catalog
    categories = []
    for category in catalog.categories:
        cards = [_card(m, lang) for m in catalog.advisors(category.id)]
        categories.append({"id": category.id, "name": category.name.get(lang), "cards": cards})
    finder = catalog.masters.get("master-finder")
    total = sum(len(c["cards"]) for c in categories)
    return _render(request, "hall.html", categories=categories, total=total,
                   finder=_card(finder, lang) if finder else None,
                   match_url=MATCH_PATH)


@router.get("/masters/{master_id}", response_class=HTMLResponse)
def master_page(request: Request, master_id: str) -> HTMLResponse:
    """One master: description, greeting, conversation starters, a button to start chatting."""
    master = _master_or_404(request, master_id)
    if isinstance(master, HTMLResponse):
        return master
    lang = page_lang(request)
    hall = request.app.state.hall
    category = next((c for c in hall.catalog.categories if c.id == master.category), None)
    return _render(request, "master.html", master=master, m=_localized(master, lang),
                   category_name=category.name.get(lang) if category else "",
                   editable=master.id not in hall.catalog.builtin_ids and hall.library.get(master.id) is not None)


def _localized(master: Master, lang: str) -> dict:
    return {
        "id": master.id,
        "avatar": master.avatar,
        "avatar_image": avatar_image(master),
        "name": master.name.get(lang),
        "tagline": master.tagline.get(lang),
        "description": master.description.get(lang),
        "greeting": master.greeting.get(lang),
        "starters": master.starters.get(lang),
        "tags": master.tags.get(lang),
    }


def _chat_page(request: Request, master: Master, conversation=None, q: str | None = None) -> HTMLResponse:
    """The chat page: the conversation (if any) and everything the script needs, as JSON."""
    lang = page_lang(request)
    hall = request.app.state.hall
    messages, generating = [], False
    if conversation is not None:
        for msg in hall.store.conversations.messages(conversation.id):
            if msg.role == "system":
                continue
            messages.append({
                "id": msg.id, "role": msg.role, "content": msg.content, "status": msg.status, "error": msg.error,
                "html": hall.render(msg.content) if msg.role == "assistant" else None,
            })
        generating = hall.chat.active(conversation.id) is not None
    masters = {m.id: {"avatar": m.avatar, "avatar_image": avatar_image(m), "name": m.name.get(lang)} for m in hall.catalog}
    page = {
        "lang": lang,
        "master": _localized(master, lang),
        "conversation": conversation.to_dict() if conversation else None,
        "messages": messages,
        "generating": generating,
        "initial": (q or "").strip() or None,
        "masters": masters,
    }
    title = (conversation.title if conversation and conversation.title else None) or master.name.get(lang)
    return _render(request, "chat.html", master=master, m=page["master"], page=page, title=title)


@router.get("/masters/{master_id}/chat", response_class=HTMLResponse)
def new_chat_page(request: Request, master_id: str, q: str | None = Query(None, max_length=32000)) -> HTMLResponse:
    """A new conversation with a master; ``q`` is sent as the first message."""
    master = _master_or_404(request, master_id)
    if isinstance(master, HTMLResponse):
        return master
    return _chat_page(request, master, q=q)


@router.get("/chat/{conversation_id}", response_class=HTMLResponse)
def conversation_page(request: Request, conversation_id: str) -> HTMLResponse:
    """An existing conversation, as stored (a reload shows everything, partial answers too)."""
    hall = request.app.state.hall
    conversation = hall.store.conversations.get(conversation_id)
    if conversation is None:
        return _not_found(request, "not_found_conversation")
    master = hall.catalog.masters.get(conversation.master_id)
    if master is None:
        return _not_found(request, "not_found_master", id=conversation.master_id)
    return _chat_page(request, master, conversation)


def _safe_next(target: str | None) -> str:
    """Only same-site paths may be redirected to (no ``//host`` or ``http://…``)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/lang/{lang}")
def switch_lang(lang: str, next: str | None = None) -> Response:
    """Remember the interface language in the ``lang`` cookie and go back to ``next``."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    chosen = i18n.normalize_lang(lang)
    if chosen:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax")
    return response


# ---- the builder ---------------------------------------------------------------------------

def _categories(lang: str) -> list[dict]:
    return [{"id": c.id, "name": c.name.get(lang)} for c in CATEGORIES]


@router.get("/builder", response_class=HTMLResponse)
def builder_list_page(request: Request) -> HTMLResponse:
    """Your masters (drafts and published) with their actions, and the import form."""
    from ..interop import EXPORT_FORMATS, IMPORT_FORMATS

    lang = page_lang(request)
    hall = request.app.state.hall
    page = {
        "lang": lang,
        "masters": [um.to_dict() for um in hall.library.list()],
        "categories": _categories(lang),
        "export_formats": list(EXPORT_FORMATS),
    }
    return _render(request, "builder_list.html", page=page, categories=page["categories"],
                   import_formats=list(IMPORT_FORMATS), title=i18n.translate(lang, "builder_title"))


def _builder_page(request: Request, stored) -> HTMLResponse:
    """The builder form for a new master (``stored`` is ``None``) or a stored user master."""
    from ..interop import EXPORT_FORMATS

    lang = page_lang(request)
    hall = request.app.state.hall
    backends = list(hall.registry.names())
    model = stored.master.model if stored else None
    if model and model not in backends:
        backends.append(model)
    page = {
        "lang": lang,
        "mode": "edit" if stored else "new",
        "master": stored.master.model_dump(mode="json") if stored else None,
        "status": stored.status if stored else "draft",
        "forked_from": stored.forked_from if stored else None,
        "categories": _categories(lang),
        "backends": backends,
        "default_backend": hall.registry.default_name,
        "export_formats": list(EXPORT_FORMATS),
    }
    title = stored.master.name.get(lang) if stored else i18n.translate(lang, "builder_new_title")
    return _render(request, "builder_edit.html", page=page, title=title, categories=page["categories"],
                   backends=backends, default_backend=hall.registry.default_name,
                   export_formats=page["export_formats"], stored=stored)


@router.get("/builder/new", response_class=HTMLResponse)
def builder_new_page(request: Request) -> HTMLResponse:
    """The builder form for a new master."""
    return _builder_page(request, None)


@router.get("/builder/{master_id}", response_class=HTMLResponse)
def builder_edit_page(request: Request, master_id: str) -> HTMLResponse:
    """The builder form for one of your masters; built-ins are read-only (fork them)."""
    hall = request.app.state.hall
    stored = hall.library.get(master_id)
    if stored is None:
        if master_id in hall.catalog.builtin_ids:
            return _not_found(request, "builder_builtin", [hall.catalog.masters[master_id]], id=master_id)
        return _not_found(request, "builder_not_found", id=master_id)
    return _builder_page(request, stored)
