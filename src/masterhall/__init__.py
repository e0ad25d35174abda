"""MasterHall: a self-hosted hall of AI masters on open models.

Public API::

    from masterhall import load_catalog, load_settings, BackendRegistry, ChatEngine

    settings = load_settings()
    engine = ChatEngine(load_catalog(), BackendRegistry(settings))
    turn = engine.stream("socrates", [], "What is virtue?")
    for delta in turn:
        print(delta, end="")
    print(turn.reply.usage)
"""

from .backends import Backend, BackendError, BackendRegistry, ChatMessage, FakeBackend, Usage
from .catalog import Catalog, CatalogError, Master, SamplingParams, UnknownMasterError, load_catalog
from .chat import ChatEngine, ContextTooLongError, Reply, Turn
from .config import Settings, load_settings
from .safety import SafetyGuard

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendError",
    "BackendRegistry",
    "Catalog",
    "CatalogError",
    "ChatEngine",
    "ChatMessage",
    "ContextTooLongError",
    "FakeBackend",
    "Master",
    "Reply",
    "SafetyGuard",
    "SamplingParams",
    "Settings",
    "Turn",
    "UnknownMasterError",
    "Usage",
    "load_catalog",
    "load_settings",
]
