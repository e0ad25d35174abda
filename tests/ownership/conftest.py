"""Three people in the database of the hall (``tests/conftest.py``): members A and B, and an admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from masterhall.accounts import Caller
from masterhall.hall import Hall


@dataclass
class People:
    a: Caller
    b: Caller
    admin: Caller


@pytest.fixture
def people(hall: Hall, accounts) -> People:
    engine = hall.store.engine
    return People(accounts(engine, "alice"), accounts(engine, "bob"), accounts(engine, "root", "admin"))
