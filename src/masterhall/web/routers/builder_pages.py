"""The builder's pages: ``/builder`` (your masters, import), ``/builder/new`` and
``/builder/{id}`` (the form with its one-click test and preview), ``/builder/{id}/knowledge``
(its files, Q&A pairs and the "what would be retrieved" box). Saving, testing and importing
are done by ``static/js/builder/*.js`` through ``/api/builder``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ...catalog.models import CATEGORIES
from ...chat.language import detect_language
from ...interop import EXPORT_FORMATS, IMPORT_FORMATS
from .. import i18n
from ..deps import CallerDep, HallDep
from ..templating import not_found, page_lang, render_page

router = APIRouter(include_in_schema=False)


def _categories(lang: str) -> list[dict]:
    return [{"id": c.id, "name": c.name.get(lang)} for c in CATEGORIES]


@router.get("/builder", response_class=HTMLResponse)
def builder_list_page(request: Request, hall: HallDep, caller: CallerDep) -> HTMLResponse:
    """Your masters (drafts and published; an admin's list has everyone's) with their actions, and the import form."""
    lang = page_lang(request)
    page = {
        "lang": lang,
        "masters": [um.to_dict() for um in hall.library.list(caller=caller)],
        "categories": _categories(lang),
        "export_formats": list(EXPORT_FORMATS),
    }
    return render_page(request, "builder_list.html", page=page, categories=page["categories"],
                       import_formats=list(IMPORT_FORMATS), title=i18n.translate(lang, "builder_title"))


def prefill(need: str) -> dict:
    """The fields a new master starts with when it is made for ``need`` (the Finder found no
    master who fits): the need as its description, in the need's language, and instructions that
    start from it (the creator edits both)."""
    lang = detect_language(need)
    return {
        "description": {"zh": need if lang == "zh" else "", "en": need if lang != "zh" else ""},
        "instructions": (f"You are a master who helps people with this need:\n{need}\n\n"
                         "Ask one short question when the need is unclear, then give clear, practical steps. "
                         "Answer in the language the person writes in."),
    }


def _builder_page(request: Request, hall, stored, need: str | None = None) -> HTMLResponse:
    """The builder form for a new master (``stored`` is ``None``; ``need`` prefills it, see
    :func:`prefill`) or a stored user master."""
    lang = page_lang(request)
    backends = list(hall.registry.names())
    model = stored.master.model if stored else None
    if model and model not in backends:
        backends.append(model)
    page = {
        "lang": lang,
        "mode": "edit" if stored else "new",
        "master": stored.master.model_dump(mode="json") if stored else (prefill(need) if need else None),
        "status": stored.status if stored else "draft",
        "forked_from": stored.forked_from if stored else None,
        "categories": _categories(lang),
        "backends": backends,
        "default_backend": hall.registry.default_name,
        "export_formats": list(EXPORT_FORMATS),
    }
    title = stored.master.name.get(lang) if stored else i18n.translate(lang, "builder_new_title")
    return render_page(request, "builder_edit.html", page=page, title=title, categories=page["categories"],
                       backends=backends, default_backend=hall.registry.default_name,
                       export_formats=page["export_formats"], stored=stored)


@router.get("/builder/new", response_class=HTMLResponse)
def builder_new_page(request: Request, hall: HallDep, need: str | None = Query(None, max_length=2000)) -> HTMLResponse:
    """The builder form for a new master; ``need`` (what no master fits) prefills it."""
    return _builder_page(request, hall, None, (need or "").strip() or None)


@router.get("/builder/{master_id}/knowledge", response_class=HTMLResponse)
def builder_knowledge_page(request: Request, hall: HallDep, caller: CallerDep, master_id: str) -> HTMLResponse:
    """A master's knowledge (files, chunks, Q&A pairs, lorebook, the look-up box): its creator's and the admins'."""
    stored = hall.library.mine(master_id, caller)
    if stored is None:
        return not_found(request, "builder_not_found", id=master_id)
    lang = page_lang(request)
    title = stored.master.name.get(lang)
    page = {"lang": lang, "master_id": stored.id}
    return render_page(request, "builder_knowledge.html", page=page, title=title, stored=stored)


@router.get("/builder/{master_id}", response_class=HTMLResponse)
def builder_edit_page(request: Request, hall: HallDep, caller: CallerDep, master_id: str) -> HTMLResponse:
    """The builder form for one of your masters (an admin: anyone's); built-ins are read-only (fork them)."""
    stored = hall.library.mine(master_id, caller)
    if stored is None:
        if master_id in hall.catalog.builtin_ids:
            return not_found(request, "builder_builtin", [hall.catalog.masters[master_id]], id=master_id)
        return not_found(request, "builder_not_found", id=master_id)
    return _builder_page(request, hall, stored)
