"""Fixtures: a migrated store on SQLite and on PostgreSQL (``db_url`` from the top conftest)."""

from __future__ import annotations

import pytest

from masterhall.store import Store


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()
