"""The composition root: the one place that builds a hall's parts and wires them together.

The command line, the web app, the benchmarks and the tests all get their services here::

    from masterhall.hall import build_hall

    hall = build_hall()                       # settings from the config file and environment
    hall.start(load_model=False)              # what a server does once at start
    gen = hall.chat.send("What is virtue?", master_id="socrates", listener=print)
    gen.done.wait()
    hall.close()

Nothing is loaded or started by :func:`build_hall` itself (no model, no thread, no index); the
database is opened and migrated. Parts: ``settings``; ``catalog`` (built-in masters, joined by the
published user masters); ``registry`` (backends by name) and ``loader`` (the default model's
loading state); ``engine`` (one turn: prompt, guard, stream); ``store`` (the database); ``pool``
(the threads every streamed turn runs on); ``chat`` (stored conversations and unstored turns);
``library`` (user masters: builder, import, export, files); ``trial`` (test runs of drafts);
``finder`` (the Master Finder, kept in step with the catalog, also the guide's context);
``safety`` (the crisis guard every turn passes through; its semantic layer reads sentences with
the Finder's own USE encoder — one copy of the model in memory, loaded once per process);
``accounts`` (people, sessions and API keys: :class:`~masterhall.accounts.service.AccountService`);
``knowledge`` (user masters' files and Q&A, indexed and retrieved for each turn with citations:
:class:`~masterhall.knowledge.KnowledgeService`; it embeds with the Finder's USE encoder).
``roundtable`` (several masters in one conversation, their chair scoring members with the Finder).
``metrics`` (Prometheus counters of requests and turns: :mod:`masterhall.metrics`);
``bus`` (the Redis several hall processes share, or a local stand-in: :mod:`masterhall.cluster`),
through which Stop, live answers, catalog changes and sign-in limits reach every process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import paths
from .accounts.service import AccountService
from .backends.embedded import Progress
from .backends.loader import ModelLoader
from .backends.registry import BackendRegistry
from .builder.library import MasterLibrary
from .builder.trial import Trial
from .catalog.loader import Catalog, load_catalog
from .chat.engine import ChatEngine
from .cluster.bus import LocalBus, make_bus
from .cluster.limits import SharedLoginLimiter
from .cluster.turns import SharedTurns
from .config import Settings, load_settings
from .conversations.chair import Chair
from .conversations.roundtable import RoundTable
from .conversations.service import ChatService
from .conversations.turns import TurnPool
from .finder.live import LiveFinder, live_guide_context, live_relevance
from .knowledge.service import KnowledgeService
from .metrics import Metrics
from .safety.guard import SafetyGuard
from .store.db import Store


@dataclass
class Hall:
    """The services of one hall (see the module docstring for each part)."""

    settings: Settings
    catalog: Catalog
    registry: BackendRegistry
    loader: ModelLoader
    engine: ChatEngine
    store: Store
    pool: TurnPool
    chat: ChatService
    library: MasterLibrary
    trial: Trial
    finder: LiveFinder
    safety: SafetyGuard
    accounts: AccountService
    knowledge: KnowledgeService
    roundtable: RoundTable
    bus: LocalBus = field(default_factory=LocalBus)
    metrics: Metrics = field(default_factory=Metrics)

    def start(self, *, load_model: bool = True, background: bool = True) -> None:
        """What a server does once when it starts: messages left ``streaming`` by a previous
        process are marked as interrupted (their text kept), the published user masters join the
        catalog and, when ``load_model``, the default model loads and the Finder's index builds
        in the background, and so does the safety guard's classifier (else the hall is marked ready
        at once; the guard then prepares on the first turn). With ``background=False`` the caller
        starts those later with :meth:`start_background` (``masterhall serve`` does, once the server
        answers: loading the embedded model holds Python's interpreter lock for seconds, which would
        otherwise delay the server's start by as much)."""
        self.bus.start()
        self.store.conversations.recover_interrupted(skip=self.chat.shared.running_elsewhere())
        self.library.load_published()
        if not load_model:
            self.loader.skip()
        elif background:
            self.start_background()

    def start_background(self) -> None:
        """Begin loading the default model, building the Finder's index and preparing the safety
        guard's classifier, each in a thread."""
        self.loader.start()
        self.finder.start()
        self.safety.start()

    def readiness(self) -> dict:
        """Whether this process can serve turns: ``{"ready", "database", "model", "redis",
        "warning", "pools"}``. Ready when the database answers, the default model is loaded and
        every pool made so far has a server up; Redis down is a ``warning``, not unreadiness (the
        process still serves, with Stop working on its own answers only)."""
        try:
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            database = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            database = f"error: {type(exc).__name__}"
        if self.bus.shared:
            self.bus.call(lambda r: r.ping(), timeout_s=1.0)
        pools = {b.name: b.servers() for b in self.registry.created() if hasattr(b, "servers")}
        ready = (database == "ok" and self.loader.state == "ready"
                 and all(any(s["up"] for s in servers) for servers in pools.values()))
        return {"ready": ready, "database": database, "model": self.loader.state, "redis": self.bus.state,
                "warning": self.bus.warning, "pools": pools}

    def close(self) -> None:
        """Release the database connections and the bus."""
        self.bus.close()
        self.store.close()


def build_hall(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    registry: BackendRegistry | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    flush_interval_s: float = 0.5,
) -> Hall:
    """Create the services of a hall; nothing is loaded or started yet.

    ``settings`` default to :func:`~masterhall.config.load_settings`; ``catalog`` to the
    built-in masters; ``registry`` to the settings' backends; ``store`` to
    ``settings.database_url`` (opened and migrated here: raises what
    :class:`~masterhall.store.Store` raises). ``progress(done, total)`` is called while the
    embedded model is assembled on first use; ``flush_interval_s`` is how often a growing answer
    is written. Published user masters join the catalog with :meth:`Hall.start` or
    ``hall.library.load_published()``.
    """
    settings = settings or load_settings()
    catalog = catalog or load_catalog()
    registry = registry or BackendRegistry(settings, progress=progress)
    if progress is not None:
        registry.progress = progress
    store = store or Store(settings.database_url)
    encoders = shared_encoders() if settings.safety_semantic else {}
    safety = SafetyGuard(encoders.get("use"), region=settings.crisis_region, cache_dir=paths.cache_dir())
    engine = ChatEngine(catalog, registry, settings, safety=safety)
    loader = ModelLoader(registry)
    pool = TurnPool()
    bus = make_bus(settings.redis_url, settings.redis_prefix)
    running: list = []
    metrics = Metrics(registry.created, lambda: running[0].running() if running else 0, lambda: bus.state)
    chat = ChatService(engine, store.conversations, pool=pool, loader=loader, flush_interval_s=flush_interval_s,
                       shared=SharedTurns(bus), observe=metrics.observe_turn)
    running.append(chat)
    finder = LiveFinder(catalog, factory=_finder_factory) if encoders else LiveFinder(catalog)
    engine.guide_context = live_guide_context(finder, catalog)
    library = MasterLibrary(catalog, store.masters)
    knowledge = KnowledgeService(library, store.knowledge, [encoders["use"]] if encoders else [])
    engine.knowledge = knowledge.brief
    trial = Trial(engine, pool, manages=lambda master_id, caller: library.mine(master_id, caller) is not None,
                  has_knowledge=knowledge.has_knowledge)
    if bus.shared:  # a publish on one process reaches the catalog (and Finder) of every other
        library.on_change = lambda ids: bus.publish("catalog", {"ids": ids})
        bus.subscribe("catalog", lambda message: [library.refresh(i) for i in message.get("ids", [])])
    accounts = AccountService(store.accounts, limiter=SharedLoginLimiter(bus) if bus.shared else None)
    return Hall(settings=settings, catalog=catalog, registry=registry, loader=loader, engine=engine, store=store,
                pool=pool, chat=chat, library=library, trial=trial, finder=finder, safety=safety,
                accounts=accounts, knowledge=knowledge,
                roundtable=RoundTable(chat, Chair(live_relevance(finder, catalog), settings.roundtable_speakers),
                                      preread=settings.roundtable_preread),
                bus=bus, metrics=metrics)


_ENCODERS: dict = {}


def shared_encoders() -> dict:
    """The sentence encoders of this process, by channel name (``use``, ``e5``): made once and
    shared by every hall's Finder and safety guard, so each model is loaded at most once.
    Empty when the encoder packages are missing (the guard then runs on its rules)."""
    if not _ENCODERS:
        from .finder.encoders import E5Encoder, EncoderUnavailableError, UseEncoder

        try:
            _ENCODERS.update(use=UseEncoder(), e5=E5Encoder())
        except EncoderUnavailableError:
            return {}
    return _ENCODERS


def _finder_factory(masters):
    """Build the Finder on the shared encoders."""
    from .finder.finder import Finder, default_channels

    enc = shared_encoders()
    return Finder(masters, channels=default_channels(enc["use"], enc["e5"]))
