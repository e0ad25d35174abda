"""The services a running hall holds on ``app.state.hall`` (created once per app, never at import)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from ..backends.registry import BackendRegistry
from ..catalog.loader import Catalog
from ..chat.engine import ChatEngine
from ..config import Settings
from ..conversations.service import ChatService
from ..finder.live import LiveFinder
from ..masters.library import MasterLibrary
from ..store.repos import Store
from .render import MarkdownRenderer


class ModelLoader:
    """Loads the default backend's model in a background thread so the server is ready at once.

    ``state``: ``loading``, ``ready`` or ``error`` (``message`` says why). :meth:`wait` blocks a
    turn until its backend is loaded, reporting through a callback while it waits.
    """

    def __init__(self, registry: BackendRegistry):
        self.registry = registry
        self.state = "loading"
        self.message = "The model is loading…"

    def start(self) -> None:
        """Begin loading the default backend in a daemon thread."""
        threading.Thread(target=self._load_default, name="model-loader", daemon=True).start()

    def _load_default(self) -> None:
        try:
            backend = self.registry.get()
            load = getattr(backend, "load", None)
            if load is not None:
                load()
            self.state, self.message = "ready", f"{backend.name} · {backend.model}"
        except Exception as exc:  # noqa: BLE001 - reported on the page and in /api/status
            self.state, self.message = "error", str(exc)

    def wait(self, backend, on_wait: Callable[[], None]) -> None:
        """Return once ``backend`` is loaded; calls ``on_wait`` first if that takes a while.

        Raises :class:`~masterhall.backends.BackendError` (``unavailable``) if loading failed.
        """
        if getattr(backend, "loaded", True):
            return
        on_wait()
        load = getattr(backend, "load", None)
        if load is not None:
            load()  # loading is idempotent and serialized per engine

    def to_dict(self) -> dict:
        """``{"state": …, "message": …}`` for the status endpoint."""
        return {"state": self.state, "message": self.message}


@dataclass
class Hall:
    """Everything the web layer calls: settings, catalog, backends, chat engine, storage, user masters, the Finder."""

    settings: Settings
    catalog: Catalog
    registry: BackendRegistry
    engine: ChatEngine
    store: Store
    chat: ChatService
    loader: ModelLoader
    library: MasterLibrary
    finder: LiveFinder
    render: MarkdownRenderer = field(default_factory=MarkdownRenderer)
