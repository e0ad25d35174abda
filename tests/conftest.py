"""Shared fixtures: an isolated environment, the catalog, and an engine on the fake backend."""

from __future__ import annotations

import pytest

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_catalog, load_settings


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No user config file or MASTERHALL_* variable of the machine leaks into a test."""
    import os

    for key in list(os.environ):
        if key.startswith("MASTERHALL_") and key not in ("MASTERHALL_CACHE_DIR",):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MASTERHALL_CONFIG", str(tmp_path_factory.mktemp("cfg") / "absent.toml"))


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend("fake")


@pytest.fixture
def engine(catalog, fake) -> ChatEngine:
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    return ChatEngine(catalog, registry)
