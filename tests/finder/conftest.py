"""Shared fixtures for the finder tests: the hall's vector cache and one set of encoders.

Like the embedded model, the finder's vectors live in the hall's cache folder
(``MASTERHALL_CACHE_DIR`` or the user cache dir): the first run ever encodes the 42 built-in
masters (about 15 s on 2 cores), later runs read them. Vectors are keyed by a hash of the text
and model, so sharing the folder cannot mix up results. Tests that need an empty cache use
``tmp_path``.
"""

from __future__ import annotations

import pytest

from masterhall import load_catalog
from masterhall.finder import Finder, default_channels


@pytest.fixture(scope="session")
def finder_cache():
    from masterhall.backends.embedded import cache_dir

    return cache_dir()


@pytest.fixture(scope="session")
def channels():
    return default_channels()


@pytest.fixture(scope="session")
def finder(finder_cache, channels) -> Finder:
    """A finder over the built-in catalog; tests must not change it (make their own instead)."""
    return Finder(load_catalog(), cache_dir=finder_cache, channels=channels)


@pytest.fixture
def make_finder(finder, finder_cache, channels):
    """Build a fresh finder (after the session one has filled the cache)."""

    def make(masters, **kwargs) -> Finder:
        kwargs.setdefault("cache_dir", finder_cache)
        kwargs.setdefault("channels", channels)
        return Finder(masters, **kwargs)

    return make


@pytest.fixture
def shared_models(monkeypatch, channels):
    """Finders built inside the code under test (the CLI) reuse the session's loaded models."""
    import masterhall.finder.finder as finder_module

    monkeypatch.setattr(finder_module, "default_channels", lambda *encoders: channels)
