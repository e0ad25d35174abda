"""Fixtures for the accounts core: a store on each database and a service with a cheap hasher."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from masterhall.accounts.service import AccountService
from masterhall.store import Store

#: argon2id with tiny costs: the tests check behaviour, not the hash's strength.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def accounts(store) -> AccountService:
    return AccountService(store.accounts, hasher=FAST_HASHER)
