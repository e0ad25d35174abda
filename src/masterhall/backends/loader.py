"""Loading the default model in the background, and waiting for a backend to be ready.

A server answers HTTP at once while the default backend's model loads (seconds for the embedded
GGUF, longer the first time it is assembled); a turn that needs a backend still loading waits
for it and says so. Nothing here knows about HTTP: the web app shows :attr:`ModelLoader.state`,
the chat service calls :meth:`ModelLoader.wait`.
"""

from __future__ import annotations

import threading
from typing import Callable, Literal

from .base import Backend
from .registry import BackendRegistry

LoadState = Literal["loading", "ready", "error"]


class ModelLoader:
    """Loads the default backend's model in a background thread so the hall is usable at once.

    ``state``: ``loading``, ``ready`` or ``error`` (``message`` says why, or names the backend
    and model once ready).
    """

    def __init__(self, registry: BackendRegistry):
        self.registry = registry
        self.state: LoadState = "loading"
        self.message = "The model is loading…"

    def start(self) -> None:
        """Begin loading the default backend in a daemon thread."""
        threading.Thread(target=self._load_default, name="model-loader", daemon=True).start()

    def skip(self) -> None:
        """Mark the hall ready without loading anything (tests, and halls that load on first use)."""
        self.state, self.message = "ready", self.registry.default_name

    def _load_default(self) -> None:
        try:
            backend = self.registry.get()
            load = getattr(backend, "load", None)
            if load is not None:
                load()
            self.state, self.message = "ready", f"{backend.name} · {backend.model}"
        except Exception as exc:  # noqa: BLE001 - reported on the page and in /api/status
            self.state, self.message = "error", str(exc)

    def wait(self, backend: Backend, on_wait: Callable[[], None]) -> None:
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
