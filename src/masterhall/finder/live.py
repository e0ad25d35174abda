"""A Finder that follows a live catalog: built on first use (or in the background at start-up),
then kept in step with every master published, edited or removed — no restart needed."""

from __future__ import annotations

import threading
from typing import Callable

from ..catalog.loader import Catalog
from ..catalog.models import Master


class LiveFinder:
    """Owns the hall's :class:`~masterhall.finder.Finder` for ``catalog``.

    ``factory(masters) -> Finder`` builds it (default: ``Finder(masters)``). :meth:`get` builds
    it once (thread-safe; callers wait for a build in progress); catalog changes made before or
    during the build are applied when it ends. ``state``: ``idle``, ``building``, ``ready`` or
    ``error`` (``error_message`` says why).
    """

    def __init__(self, catalog: Catalog, factory: Callable | None = None):
        self.catalog = catalog
        self._factory = factory
        self._finder = None
        self._lock = threading.Lock()
        self._pending: dict[str, Master | None] = {}
        self.state = "idle"
        self.error_message: str | None = None
        catalog.subscribe(self._on_change)

    @property
    def ready(self) -> bool:
        """True once the index is built."""
        return self._finder is not None

    def start(self) -> None:
        """Build in a background thread (server start-up)."""
        threading.Thread(target=self._safe_get, name="finder-build", daemon=True).start()

    def _safe_get(self) -> None:
        try:
            self.get()
        except Exception:  # noqa: BLE001 - recorded in state / error_message
            pass

    def get(self):
        """The built Finder (building it now if needed). Raises what building raises."""
        if self._finder is not None:
            return self._finder
        with self._lock:
            if self._finder is None:
                self.state = "building"
                try:
                    factory = self._factory or _default_factory
                    finder = factory(list(self.catalog.masters.values()))
                except Exception as exc:
                    self.state, self.error_message = "error", str(exc)
                    raise
                for master_id, master in self._pending.items():
                    _apply(finder, master_id, master)
                self._pending.clear()
                self._finder = finder
                self.state = "ready"
        return self._finder

    def _on_change(self, master_id: str, master: Master | None) -> None:
        if self._finder is not None:
            _apply(self._finder, master_id, master)
            return
        with self._lock:
            if self._finder is None:
                self._pending[master_id] = master
                return
        _apply(self._finder, master_id, master)


def _apply(finder, master_id: str, master: Master | None) -> None:
    if master is None:
        finder.remove(master_id)
    elif not master.is_guide:
        finder.upsert(master)


def _default_factory(masters):
    from .finder import Finder

    return Finder(masters)


def live_guide_context(live: LiveFinder, catalog: Catalog):
    """Guide context for the ``master-finder``: the Finder's best matches for the message (see
    :func:`~masterhall.finder.guide.finder_guide_context`), or the whole catalog list while the
    Finder cannot be built."""
    from ..chat.engine import catalog_guide_context
    from .guide import finder_guide_context

    fallback = catalog_guide_context(catalog)

    def context(master: Master, user_message: str, lang: str):
        try:
            finder = live.get()
        except Exception:  # noqa: BLE001 - the guide still works from the plain list
            return fallback(master, user_message, lang)
        return finder_guide_context(finder, catalog)(master, user_message, lang)

    return context
