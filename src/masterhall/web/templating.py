"""What every HTML page shares: the templates, the page's language and strings, the model
status, and the cards and fields of masters as the templates show them."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..accounts import LOCAL
from ..catalog.models import AVATAR_IMAGE_RE, Master
from . import i18n
from .deps import hall_of

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
#: ``import … from "./x.js"`` in our ES modules (the only form they use).
_IMPORT = re.compile(r'^import [^;]*? from "(\.{1,2}/[^"]+\.js)";', re.M)


@cache
def templates() -> Jinja2Templates:
    """The template environment, created on first use (never at import)."""
    env = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    env.env.globals.update(static_url=static_url, import_map=import_map, module_preloads=module_preloads)
    return env


def static_url(name: str) -> str:
    """URL of a file in ``static/`` with a cache-busting version (the file's modification time)."""
    try:
        version = int((WEB_DIR / "static" / name).stat().st_mtime)
    except OSError:
        version = __version__
    return f"/static/{name}?v={version}"


@cache
def module_graph(entry: str) -> tuple[str, ...]:
    """``entry`` (a module's path in ``static/``) and every module it imports, transitively."""
    seen: list[str] = []
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        try:
            source = (STATIC_DIR / name).read_text(encoding="utf-8")
        except OSError:
            continue
        base = (STATIC_DIR / name).parent
        for target in _IMPORT.findall(source):
            todo.append((base / target).resolve().relative_to(STATIC_DIR.resolve()).as_posix())
    return tuple(seen)


@cache
def _all_modules() -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(STATIC_DIR).as_posix() for p in (STATIC_DIR / "js").rglob("*.js")))


def import_map() -> str:
    """The page's import map (JSON): every ES module's plain URL → its versioned URL, so that the
    modules a page imports by relative path are cached by version like the page's own files."""
    return json.dumps({"imports": {f"/static/{name}": static_url(name) for name in _all_modules()}})


def module_preloads(entry: str) -> list[str]:
    """Versioned URLs of ``entry``'s whole module graph, for ``<link rel="modulepreload">``: the
    browser fetches every module at once instead of one import level after another."""
    return [static_url(name) for name in module_graph(entry)]


def page_lang(request: Request) -> str:
    """The language of the page for this request (cookie, then ``Accept-Language``, then English)."""
    return i18n.choose_lang(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))


def render_page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with the shared context: language, strings, model status, and the
    ``caller`` (:data:`~masterhall.accounts.LOCAL` in a hall without accounts and on the sign-in page)."""
    lang = page_lang(request)
    hall = hall_of(request)

    def t(key: str, **values) -> str:
        return i18n.translate(lang, key, **values)

    shared = {
        "lang": lang,
        "other_lang": "en" if lang == "zh" else "zh",
        "t": t,
        "status": hall.loader.to_dict(),
        "redis_down": getattr(getattr(hall, "bus", None), "state", "off") == "down",
        "js_strings": i18n.strings(lang),
        "caller": getattr(request.state, "caller", LOCAL),
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    response = templates().TemplateResponse(request, template, {**shared, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def avatar_image(master: Master) -> str | None:
    """The master's uploaded avatar picture (a checked ``data:image/…;base64`` URL), or ``None``.

    The schema validates it already; this second check makes sure a page never puts anything
    else into an ``<img src>``.
    """
    value = master.avatar_image
    return value if value and AVATAR_IMAGE_RE.fullmatch(value) else None


def card(master: Master, lang: str) -> dict:
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


def not_found(request: Request, message_key: str, suggestions: list[Master] | None = None, **values) -> HTMLResponse:
    """The friendly 404 page: a message and, when given, masters the visitor may have meant."""
    lang = page_lang(request)
    return render_page(request, "404.html", status_code=404, message=i18n.translate(lang, message_key, **values),
                       suggestions=[card(m, lang) for m in suggestions or []])
