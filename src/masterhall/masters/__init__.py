"""User-created masters: drafts, publishing, forking — the builder's core (no web code)."""

from .library import BuiltinReadOnlyError, MasterLibrary

__all__ = ["BuiltinReadOnlyError", "MasterLibrary"]
