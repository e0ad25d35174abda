"""Engines and schema migrations: where the database lives and how it is brought up to date.

The default database is the SQLite file ``masterhall.db`` in the hall's data folder
(:func:`masterhall.paths.data_dir`). Any SQLAlchemy URL works in its place;
SQLite and PostgreSQL (``postgresql+psycopg://…``) are tested.

The Alembic migrations ship inside the package (``store/migrations/``); no ``alembic.ini`` is
needed. To write a new revision from a source checkout::

    from alembic import command
    from masterhall.store.db import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), "add a column", autogenerate=True)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from ..paths import data_dir
from .accounts import AccountRepo
from .conversations import ConversationRepo
from .knowledge import KnowledgeRepo
from .masters import UserMasterRepo

#: Folder of ``env.py`` and ``versions/``.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock that serialises concurrent :func:`migrate` calls.
_PG_MIGRATE_LOCK = 0x6D68_5F73_746F_7265  # "mh_store"
#: How long a SQLite connection waits for another one's lock before "database is locked".
_SQLITE_BUSY_TIMEOUT_S = 30.0


def default_database_url() -> str:
    """URL of the default database: ``sqlite:///<data dir>/masterhall.db``.

    The data folder is :func:`masterhall.paths.data_dir` (``$MASTERHALL_DATA_DIR`` when set);
    it is created if missing (``OSError`` if it cannot be).
    """
    return URL.create("sqlite", database=str(data_dir() / "masterhall.db")).render_as_string()


def _sqlite_lower(value: Any) -> Any:
    """Unicode-aware ``lower()`` for SQLite (the built-in one folds ASCII only)."""
    return value.lower() if isinstance(value, str) else value


def _enable_wal(cursor: Any, wait_s: float) -> None:
    """Switch the database file to WAL (a no-op when it already is).

    The switch needs an exclusive lock and SQLite reports "database is locked" at once, without
    waiting, while another connection holds one (two processes opening a new file together),
    so it is retried for up to ``wait_s`` seconds.
    """
    deadline = time.monotonic() + wait_s
    delay = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() in ("wal", "memory"):
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _sqlite_connect_listener(wait_s: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "create_function"):
            dbapi_connection.create_function("lower", 1, _sqlite_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            _enable_wal(cursor, wait_s)
        finally:
            cursor.close()

    return on_connect


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """A SQLAlchemy :class:`~sqlalchemy.Engine` for ``url``; ``kwargs`` go to ``create_engine``.

    SQLite: every connection gets ``PRAGMA foreign_keys=ON`` and ``journal_mode=WAL`` (readers
    do not block the writer), a 30 s busy timeout (``connect_args={"timeout": …}`` changes it)
    and a Unicode-aware ``lower()``; the folder of a database file is created if missing. Other databases get ``pool_pre_ping``. Raises
    ``sqlalchemy.exc.ArgumentError`` for a malformed URL and ``ModuleNotFoundError`` when the
    URL's driver is not installed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": _SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_connect_listener(float(connect_args["timeout"])))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def alembic_config(target: Engine | str | URL) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the packaged migrations, built in code.

    ``target`` is an engine (its URL is used when Alembic must connect by itself) or a URL.
    """
    url = target.url if isinstance(target, Engine) else make_url(target)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates "%", which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this version of MasterHall."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is at (``None``: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the database at ``engine`` to the newest schema (Alembic ``upgrade head``).

    Safe to call at every start: a database already at head is left alone. The upgrade runs in
    one transaction that also serialises concurrent callers (SQLite ``BEGIN IMMEDIATE``, a
    PostgreSQL advisory lock), so two processes starting together do not race. Raises
    ``sqlalchemy.exc.OperationalError`` when the database cannot be reached or stays locked,
    and Alembic's ``CommandError`` for a database newer than this code knows.
    """
    config = alembic_config(engine)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite would start the transaction only at the first INSERT; start it now,
            # taking the write lock, so the version check and the DDL are atomic.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATE_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()

class Store:
    """The hall's database: an engine on ``url`` (default :func:`default_database_url`), migrated.

    ``conversations`` is the :class:`ConversationRepo`; ``masters`` the
    :class:`~masterhall.store.masters.UserMasterRepo`; ``accounts`` the
    :class:`~masterhall.store.accounts.AccountRepo`; ``knowledge`` the
    :class:`~masterhall.store.knowledge.KnowledgeRepo`; ``engine`` the SQLAlchemy engine.
    Call :meth:`close` (or use ``with Store() as store:``) to release connections. ``engine_options`` go to
    :func:`make_engine`. Raises what :func:`make_engine` and :func:`migrate` raise.
    """

    def __init__(self, url: str | None = None, **engine_options: Any):
        self.url = url or default_database_url()
        self.engine = make_engine(self.url, **engine_options)
        try:
            migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.conversations = ConversationRepo(self.engine)
        self.masters = UserMasterRepo(self.engine)
        self.accounts = AccountRepo(self.engine)
        self.knowledge = KnowledgeRepo(self.engine)

    @classmethod
    def in_memory(cls) -> Store:
        """An empty store in memory (one SQLite connection shared by every thread), for when
        the hall's database cannot be opened and the built-in masters must do."""
        return cls("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})

    def close(self) -> None:
        """Close every pooled connection (the store can still reconnect if used again)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
