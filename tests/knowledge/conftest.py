"""A hall (fake backend, SQLite and PostgreSQL) whose knowledge embeds with a small counting
encoder, and a draft master of its own to attach knowledge to."""

from __future__ import annotations

import pytest

from .helpers import CountingEncoder


@pytest.fixture
def encoder():
    return CountingEncoder()


@pytest.fixture
def khall(hall, encoder):
    hall.knowledge.encoders = [encoder]
    return hall


@pytest.fixture
def master(khall, catalog):
    data = catalog.get("socrates").model_dump()
    data.update(id="shop-helper")
    from masterhall.catalog.models import Master

    return khall.library.save(Master.model_validate(data), "published").master
