"""A hall on the fake backend with three people in its database: members A and B, and an admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from masterhall import FakeBackend, load_settings
from masterhall.accounts import Caller
from masterhall.hall import Hall, build_hall
from masterhall.store import Store


@dataclass
class People:
    a: Caller
    b: Caller
    admin: Caller


@pytest.fixture
def hall(db_url, fake: FakeBackend):
    store = Store(db_url)
    h = build_hall(load_settings(backend="fake"), store=store, flush_interval_s=0.0)
    h.registry.register(fake)
    yield h
    store.close()


@pytest.fixture
def people(hall: Hall, accounts) -> People:
    engine = hall.store.engine
    return People(accounts(engine, "alice"), accounts(engine, "bob"), accounts(engine, "root", "admin"))
