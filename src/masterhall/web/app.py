"""``create_app(hall)``: the FastAPI application of a hall — the hall's services on
``app.state.hall`` (routes get them through :data:`~masterhall.web.deps.HallDep`)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..config import Settings
from ..hall import Hall, build_hall
from ..metrics import Metrics
from . import errors
from .auth import AuthMiddleware
from .limits import BodyLimitMiddleware
from .render import MarkdownRenderer
from .routers import ROUTERS
from .security import SecurityMiddleware

WEB_DIR = Path(__file__).parent


class StaticAssets(StaticFiles):
    """``static/``: a versioned URL (``?v=``, see ``templating.static_url`` and the pages' import
    map) is cached for good; a plain one is revalidated at every use (answered 304 when unchanged)."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if versioned else "no-cache"
        return response


class RequestMetrics:
    """Counts every HTTP request by method, area and status (:meth:`~masterhall.metrics.Metrics.observe_request`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.observe_request(scope["method"], scope.get("path", ""), message["status"])
            await send(message)

        await self.app(scope, receive, counted)


def worker_app() -> FastAPI:
    """The app of one worker of ``masterhall serve --workers N`` (uvicorn imports it by name in
    each worker process): a hall on the settings of the environment, started in the background."""
    from ..config import load_settings

    return create_app(build_hall(load_settings()))


def create_app(hall: Hall | None = None, *, load_model: bool = True, background: bool = True) -> FastAPI:
    """The web hall: pages, ``/api`` (JSON + SSE), ``/v1`` (OpenAI-compatible), ``/static``.

    ``hall`` defaults to :func:`~masterhall.hall.build_hall` on the settings. On start-up the
    hall starts (:meth:`~masterhall.hall.Hall.start`): interrupted answers are marked, published
    user masters join the catalog and, when ``load_model``, the default model loads, the
    Finder's index builds and the safety guard encodes its exemplar bank in the background
    (``/api/status`` shows the guard's ``state``; with ``background=False`` the caller starts them:
    :meth:`~masterhall.hall.Hall.start_background`). Request bodies are capped
    (:class:`~masterhall.web.limits.BodyLimitMiddleware`, limits from the settings).

    Security (README, *Security*): the hall's backend registry goes strict (no request can name
    a model file), and :class:`~masterhall.web.security.SecurityMiddleware` wraps everything
    (outermost) — Host allow-list, same-origin writes, Fetch-Metadata checks and security headers;
    inside it :class:`~masterhall.web.auth.AuthMiddleware` puts the caller on ``request.state``
    (and, once the hall has accounts, refuses requests without a session or API key).
    Text responses are gzipped (not Server-Sent Events); versioned static files are cached for good.
    """
    hall = hall or build_hall()
    registry = getattr(hall, "registry", None)  # absent only on the bare Hall the docs test builds
    if registry is not None:
        registry.allow_paths = False  # requests name configured backends only, never a model file

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hall.start(load_model=load_model, background=background)
        yield

    app = FastAPI(title="MasterHall", version=__version__, lifespan=lifespan,
                  description="A hall of AI masters: native JSON API under /api, OpenAI-compatible API under /v1.")
    app.state.hall = hall
    app.state.render = MarkdownRenderer(lambda: hall.catalog.masters)
    errors.install(app)
    settings = getattr(hall, "settings", None) or Settings.model_construct()
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticAssets(directory=WEB_DIR / "static"), name="static")

    # gzip for text (pages, CSS, JS, JSON) over 1 KiB; never for an answer's stream: Starlette leaves
    # text/event-stream alone (tests/web/test_delivery.py checks it still arrives event by event)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)

    app.add_middleware(AuthMiddleware, accounts=lambda: getattr(hall, "accounts", None))
    metrics = getattr(hall, "metrics", None)
    if metrics is not None:
        app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(SecurityMiddleware, settings=lambda: hall.settings)
    return app
