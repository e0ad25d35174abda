"""User-created masters: drafts, publishing, forking — the builder's core (no web code)."""

from .library import BuiltinReadOnlyError, MasterLibrary, load_hall_catalog

__all__ = ["BuiltinReadOnlyError", "MasterLibrary", "load_hall_catalog"]
