"""Fixtures: every store test runs on a SQLite file and on a throwaway PostgreSQL database.

PostgreSQL is expected at 127.0.0.1:5432 (user ``postgres``, trust auth). Each test run creates
its own uniquely named database (faster than one per test, as the web tests do) (from the ``postgres`` database, with AUTOCOMMIT) and drops it
``WITH (FORCE)`` at the end; every test starts on an empty ``public`` schema in it. When the
server cannot be reached, the PostgreSQL cases are skipped, or fail when ``$CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from masterhall.store import ConversationRepo, Store

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"  # pg_admin comes from tests/conftest.py


@pytest.fixture(scope="session")
def pg_database(pg_admin: sa.Engine | str) -> Iterator[sa.Engine]:
    """This run's own PostgreSQL database (AUTOCOMMIT engine on it), dropped at the end."""
    if isinstance(pg_admin, str):
        if os.environ.get("CI", ""):
            pytest.fail(pg_admin + " (CI is set, so this is an error)")
        pytest.skip(pg_admin)
    name = f"mh_test_{uuid.uuid4().hex[:16]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(f"{PG_SERVER}/{name}", isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _empty_postgres(database: sa.Engine) -> str:
    """Empty the run's database (a fresh ``public`` schema) and return its URL."""
    with database.connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '10s'"))  # fail, not hang, on a leaked connection
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    return database.url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """URL of an empty database of each kind."""
    if request.param == "sqlite":
        return URL.create("sqlite", database=str(tmp_path / "hall" / "masterhall.db")).render_as_string()
    return _empty_postgres(request.getfixturevalue("pg_database"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated :class:`Store` on ``db_url``."""
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def repo(store: Store) -> ConversationRepo:
    return store.conversations


@pytest.fixture
def other_engine(db_url: str, store: Store) -> Iterator[sa.Engine]:
    """A second, independent engine on the same database (another process's view)."""
    engine = sa.create_engine(db_url)
    yield engine
    engine.dispose()
