"""A hall on the fake backend over each test database (SQLite and PostgreSQL, see ``db_url``)."""

from __future__ import annotations

import pytest

from masterhall import FakeBackend, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store


@pytest.fixture
def hall(db_url, fake: FakeBackend):
    store = Store(db_url)
    h = build_hall(load_settings(backend="fake"), store=store, flush_interval_s=0.0)
    h.registry.register(fake)
    yield h
    store.close()
