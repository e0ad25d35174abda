"""Shared fixtures: an isolated environment, the catalog, and an engine on the fake backend."""

from __future__ import annotations

import os

import pytest

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_catalog, load_settings

#: The in-process test clients' host names (httpx ``base_url="http://hall"``, Starlette's
#: ``TestClient``), allowed by the web hall's Host check (README, *Security*). Set for the whole
#: run, so that module- and session-scoped fixtures building settings see it too.
TEST_HOSTS = "hall,testserver"
os.environ["MASTERHALL_ALLOWED_HOSTS"] = TEST_HOSTS


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No user config file or MASTERHALL_* variable of the machine leaks into a test."""
    import os

    for key in list(os.environ):
        if key.startswith("MASTERHALL_") and key not in ("MASTERHALL_CACHE_DIR",):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MASTERHALL_CONFIG", str(tmp_path_factory.mktemp("cfg") / "absent.toml"))
    monkeypatch.setenv("MASTERHALL_ALLOWED_HOSTS", TEST_HOSTS)


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


# -- databases: every storage-backed test runs on SQLite and on a throwaway PostgreSQL ----------
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def pg_admin():
    """An AUTOCOMMIT engine on the ``postgres`` database, or the reason it is unreachable."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        engine.dispose()
        yield f"PostgreSQL at {PG_SERVER} unreachable: {exc.__class__.__name__}: {exc}"
        return
    yield engine
    engine.dispose()


def _postgres_url(admin):
    """Create a uniquely named database, yield its URL, drop it afterwards.

    With no server: skip, or fail when ``$CI`` is set (CI must test PostgreSQL for real).
    """
    import os
    import uuid

    import sqlalchemy as sa

    if isinstance(admin, str):
        if os.environ.get("CI", ""):
            pytest.fail(admin + " (CI is set, so this is an error)")
        pytest.skip(admin)
    name = f"mh_test_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """URL of an empty database of each kind."""
    from sqlalchemy.engine import URL

    if request.param == "sqlite":
        yield URL.create("sqlite", database=str(tmp_path / "hall" / "masterhall.db")).render_as_string()
    else:
        yield from _postgres_url(request.getfixturevalue("pg_admin"))


# -- accounts: people of a hall, made directly in its database (no password, no session) --------
def add_account(engine, name: str, role: str = "member"):
    """Insert a ``users`` row into the database at ``engine``; return its :class:`~masterhall.accounts.Caller`.

    For tests of who sees what: the services take the caller, and the web tests hand it to the
    app (``tests/web/callers.py``) instead of signing in.
    """
    import sqlalchemy as sa

    from masterhall.accounts import Caller
    from masterhall.store.tables import UserRow

    with engine.begin() as conn:
        user_id = conn.execute(sa.insert(UserRow).values(name=name, password_hash="$argon2id$test", role=role,
                                                         disabled=False).returning(UserRow.id)).scalar_one()
    return Caller(user_id=user_id, name=name, role=role)


@pytest.fixture
def accounts():
    """:func:`add_account`: ``accounts(engine, "alice", "member")`` → the new person's Caller."""
    return add_account


# -- a hall over each test database, and what tests of its turns and command line share ----------
@pytest.fixture
def hall(db_url, fake: FakeBackend):
    """A hall on the fake backend over ``db_url`` (SQLite and PostgreSQL), stored text flushed at
    every delta. ``tests/web`` overrides it (its flush interval is that of a server)."""
    from masterhall.hall import build_hall
    from masterhall.store import Store

    store = Store(db_url)
    h = build_hall(load_settings(backend="fake"), store=store, flush_interval_s=0.0)
    h.registry.register(fake)
    yield h
    store.close()


def start_held_turn(hall, fake: FakeBackend, **send_options):
    """Send "hello" to Socrates with the turn's thread held inside its first delta; return
    ``(generation, release)`` — set ``release`` to let the turn go on. ``send_options`` go to
    ``hall.chat.send`` (e.g. ``caller=``)."""
    import threading

    fake.queue("one two three four five six")
    first, release = threading.Event(), threading.Event()

    def listener(event):
        if event is not None and event.type == "delta" and not first.is_set():
            first.set()
            assert release.wait(10)

    gen = hall.chat.send("hello", master_id="socrates", listener=listener, **send_options)
    assert first.wait(10)
    return gen, release


@pytest.fixture
def held_turn():
    """:func:`start_held_turn`: ``held_turn(hall, fake, caller=…)`` → ``(generation, release)``."""
    return start_held_turn


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder for the command line (``MASTERHALL_DATA_DIR``)."""
    folder = tmp_path / "hall"
    monkeypatch.setenv("MASTERHALL_DATA_DIR", str(folder))
    return folder
