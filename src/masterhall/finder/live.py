"""A Finder that follows a live catalog: built on first use (or in the background at start-up),
then kept in step with every master published, edited or removed — no restart needed."""

from __future__ import annotations

import threading
from typing import Callable

from ..catalog.loader import Catalog
from ..catalog.models import Master


class LiveFinder:
    """Owns the hall's :class:`~masterhall.finder.Finder` for ``catalog``.

    ``factory(masters) -> Finder`` builds it (default: ``Finder(masters)``; about 15–30 s on
    2 cores when the vector cache is cold). :meth:`get` builds it once (thread-safe; callers wait
    for a build in progress) and :meth:`wait` waits at most a given time; :meth:`search` never
    waits: while the index builds it answers from names and BM25 alone (a lexical Finder built in
    well under a second) and says so. A catalog change is recorded under a short lock and never
    waits for a build: changes made before or during the build are applied when it ends.
    ``state``: ``idle``, ``building``, ``ready`` or ``error`` (``error_message`` says why).
    """

    def __init__(self, catalog: Catalog, factory: Callable | None = None):
        self.catalog = catalog
        self._factory = factory
        self._finder = None
        self._quick = None
        self._build_lock = threading.Lock()  # held for the whole build
        self._lock = threading.Lock()  # short: pending changes, the swap to ready, the quick index
        self._built = threading.Event()
        self._pending: dict[str, Master | None] = {}
        self.state = "idle"
        self.error_message: str | None = None
        catalog.subscribe(self._on_change)

    @property
    def ready(self) -> bool:
        """True once the index is built."""
        return self._finder is not None

    def start(self) -> None:
        """Build in a background thread (server start-up, or the first search); no-op when
        the index is built or a build is under way."""
        with self._lock:
            if self._finder is not None or self.state == "building":
                return
            self.state = "building"
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
        with self._build_lock:
            if self._finder is None:
                self.state = "building"
                try:
                    factory = self._factory or _default_factory
                    finder = factory(list(self.catalog.snapshot().values()))
                except Exception as exc:
                    self.state, self.error_message = "error", str(exc)
                    self._built.set()
                    raise
                # Apply what changed meanwhile, then publish; a change that arrives between
                # the two is pended again (it sees _finder None) and applied by the next pass.
                while True:
                    with self._lock:
                        pending, self._pending = self._pending, {}
                        if not pending:
                            self._finder = finder
                            self._quick = None
                            self.state, self.error_message = "ready", None
                            break
                    for master_id, master in pending.items():
                        _apply(finder, master_id, master)
                self._built.set()
        return self._finder

    def wait(self, timeout_s: float):
        """The built Finder, starting a build if none is under way and waiting at most
        ``timeout_s`` seconds for it; None when it is not ready by then or building failed."""
        if self._finder is None:
            self.start()
            self._built.wait(timeout_s)
        return self._finder

    def search(self, query: str, k: int = 5, lang: str | None = None, *, build: bool = True):
        """``(FinderResult, state)`` without waiting for the index: the full Finder's answer when
        it is ready (``state == "ready"``), else — starting the build if needed (unless ``build``
        is false) — the answer of names and BM25 alone, whose fits are not calibrated (``state``
        is ``building``, ``idle`` or ``error``). Raises
        :class:`~masterhall.finder.query.FinderQueryError` for a bad query."""
        finder = self._finder
        if finder is not None:
            return finder.find(query, k=k, lang=lang), "ready"
        if self.state != "error" and build:
            self.start()
        return self._quick_finder().find(query, k=k, lang=lang), self.state

    def _quick_finder(self):
        with self._lock:
            quick = self._quick
        if quick is None:
            from .finder import Finder

            quick = Finder(self.catalog.snapshot().values(), channels=[], persist=False)
            with self._lock:
                if self._finder is None:
                    self._quick = quick
        return quick

    def _on_change(self, master_id: str, master: Master | None) -> None:
        with self._lock:
            finder = self._finder
            if finder is None:
                self._pending[master_id] = master
                self._quick = None
                return
        _apply(finder, master_id, master)


def _apply(finder, master_id: str, master: Master | None) -> None:
    if master is None:
        finder.remove(master_id)
    elif not master.is_guide:
        finder.upsert(master)


def _default_factory(masters):
    from .finder import Finder

    return Finder(masters)


def live_relevance(live: LiveFinder, catalog: Catalog):
    """A round table's :data:`~masterhall.conversations.chair.Relevance`: each member's Finder
    score for the message (see :class:`~masterhall.finder.results.Match`; 0 for a member not
    among the matches). Never waits for the index nor starts building it: before it is built
    (the server builds it at start), names and BM25 score alone."""

    def relevance(message: str, members):
        result, _ = live.search(message, k=max(len(catalog), 1), build=False)
        wanted = set(members)
        return {m.master_id: m.score for m in result.matches if m.master_id in wanted}

    return relevance


#: How long the guide's turn waits for the Finder's first build before it answers from the
#: whole catalog list (a cold build takes 15–30 s on 2 cores; a warm one about a second).
GUIDE_WAIT_S = 20.0


def live_guide_context(live: LiveFinder, catalog: Catalog):
    """Guide context for the ``master-finder``: the Finder's best matches for the message (see
    :func:`~masterhall.finder.guide.finder_guide_context`), or the whole catalog list while the
    Finder is not built within :data:`GUIDE_WAIT_S` or cannot be built."""
    from ..chat.engine import catalog_guide_context
    from .guide import finder_guide_context

    fallback = catalog_guide_context(catalog)

    def context(master: Master, user_message: str, lang: str):
        finder = live.wait(GUIDE_WAIT_S)
        if finder is None:  # still indexing, or it failed: the guide works from the plain list
            return fallback(master, user_message, lang)
        return finder_guide_context(finder, catalog)(master, user_message, lang)

    return context
