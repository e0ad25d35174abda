"""``create_app(settings)``: the FastAPI application of a hall, services on ``app.state.hall``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..backends.registry import BackendRegistry
from ..catalog.loader import Catalog, load_catalog
from ..chat.engine import ChatEngine
from ..config import Settings, load_settings
from ..conversations.service import ChatService
from ..finder.live import LiveFinder, live_guide_context
from ..masters.library import MasterLibrary
from ..store.repos import Store
from . import api, builder_api, openai_api
from .openai_protocol import error_body
from .services import Hall, ModelLoader

WEB_DIR = Path(__file__).parent


def build_hall(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    registry: BackendRegistry | None = None,
    store: Store | None = None,
    flush_interval_s: float = 0.5,
) -> Hall:
    """Create the services of a hall (nothing is loaded or started yet)."""
    settings = settings or load_settings()
    catalog = catalog or load_catalog()
    registry = registry or BackendRegistry(settings)
    engine = ChatEngine(catalog, registry, settings)
    store = store or Store(settings.database_url)
    loader = ModelLoader(registry)
    chat = ChatService(engine, store.conversations, flush_interval_s=flush_interval_s, wait_ready=loader.wait)
    library = MasterLibrary(catalog, store.masters)
    finder = LiveFinder(catalog)
    engine.guide_context = live_guide_context(finder, catalog)
    return Hall(settings=settings, catalog=catalog, registry=registry, engine=engine, store=store, chat=chat,
                loader=loader, library=library, finder=finder)


def create_app(hall: Hall | None = None, *, load_model: bool = True) -> FastAPI:
    """The web hall: pages, ``/api`` (JSON + SSE), ``/v1`` (OpenAI-compatible), ``/static``.

    On start-up, messages left ``streaming`` by a previous process are marked as interrupted
    (their partial text kept), published user masters join the catalog and, when ``load_model``,
    the default model loads and the Finder's index builds in the background.
    """
    hall = hall or build_hall()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hall.store.conversations.recover_interrupted()
        hall.library.load_published()
        if load_model:
            hall.loader.start()
            hall.finder.start()
        else:
            hall.loader.state, hall.loader.message = "ready", hall.registry.default_name
        yield

    app = FastAPI(title="MasterHall", version=__version__, lifespan=lifespan,
                  description="A hall of AI masters: native JSON API under /api, OpenAI-compatible API under /v1.")
    app.state.hall = hall

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        message = f"{where}: {first['msg']}" if where else first["msg"]
        if request.url.path.startswith("/v1/"):
            return JSONResponse(error_body(message, param=where or None), status_code=400)
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        if first.get("type") == "model_attributes_type":
            message = "The request body must be a JSON object sent with Content-Type: application/json."
        return JSONResponse({"error": {"code": "invalid_request", "message": message, "details": details}}, status_code=422)

    app.include_router(api.router)
    app.include_router(builder_api.router)
    app.include_router(builder_api.public_router)
    app.include_router(openai_api.router)
    pages = _pages_router()
    if pages is not None:
        app.include_router(pages)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app


def _pages_router():
    try:
        from . import pages
    except ImportError:
        return None
    return pages.router
