"""Engines, migrations and the package boundary."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

import masterhall.store as store_pkg
from masterhall.store import Base, Store, current_revision, default_database_url, head_revision, make_engine, migrate


def test_migrate_creates_tables_indexes_and_constraints(db_url):
    engine = make_engine(db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        assert current_revision(engine) is None

        migrate(engine)

        insp = sa.inspect(engine)
        assert set(insp.get_table_names()) == {
            "alembic_version", "conversations", "messages", "user_masters", "master_files", "users", "sessions", "api_keys",
            "knowledge_entries", "knowledge_chunks", "knowledge_revisions",
        }
        assert {c["name"] for c in insp.get_columns("conversations")} == {
            "id", "owner_id", "master_id", "title", "model", "created_at", "updated_at", "members"
        }
        assert {c["name"] for c in insp.get_columns("messages")} == {
            "id", "conversation_id", "role", "content", "status", "error", "prompt_tokens",
            "completion_tokens", "ttft_s", "tokens_per_s", "finish_reason", "safety", "notes", "recommendations", "citations",
            "created_at", "updated_at", "master_id",
        }
        assert sorted(ix["column_names"] for ix in insp.get_indexes("conversations")) == [["owner_id"], ["updated_at"]]
        assert [ix["column_names"] for ix in insp.get_indexes("messages")] == [["conversation_id"]]
        (fk,) = insp.get_foreign_keys("messages")
        assert fk["referred_table"] == "conversations"
        assert fk["constrained_columns"] == ["conversation_id"]
        assert fk["options"].get("ondelete", "").upper() == "CASCADE"
        assert current_revision(engine) == head_revision() == "0008_round_table"

        migrate(engine)  # idempotent: already at head
        assert current_revision(engine) == head_revision()

        # The migrations produce exactly what the declarative tables describe.
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_check_constraints_reject_bad_role_and_status(store):
    conv = store.conversations.create("socrates")
    for role, status in [("robot", "complete"), ("user", "thinking")]:
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)"
                    " VALUES (:c, :r, 'x', :s, :t, :t)"
                ),
                {"c": conv.id, "r": role, "s": status, "t": conv.created_at},
            )
    assert store.conversations.messages(conv.id) == []


def test_concurrent_migrations_do_not_race(db_url):
    engines = [make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine):
        try:
            barrier.wait()
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert current_revision(engines[0]) == head_revision()
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        for e in engines:
            e.dispose()


def test_sqlite_file_uses_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "nested" / "dir" / "hall.db"  # the folder is created
    with Store(f"sqlite:///{path}") as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        store.conversations.create("socrates")
        # WAL is a property of the file: a plain sqlite3 connection sees it too.
        raw = sqlite3.connect(path)
        try:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            raw.close()
        assert path.with_name("hall.db-wal").exists()


def test_sqlite_lower_is_unicode_aware(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT lower('ÉCOLE Ünd ABC')").scalar() == "école ünd abc"
    finally:
        engine.dispose()


def test_default_database_url_honours_data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "hall"
    monkeypatch.setenv("MASTERHALL_DATA_DIR", str(folder))
    url = default_database_url()
    assert folder.is_dir()
    parsed = make_url(url)
    assert parsed.get_backend_name() == "sqlite"
    assert Path(parsed.database) == folder / "masterhall.db"
    with Store() as store:
        assert store.url == url
        conv = store.conversations.create("socrates")
    assert (folder / "masterhall.db").is_file()
    with Store() as again:
        assert again.conversations.get(conv.id) == conv


def test_default_database_url_uses_platformdirs(tmp_path, monkeypatch):
    monkeypatch.delenv("MASTERHALL_DATA_DIR", raising=False)
    monkeypatch.setattr("platformdirs.user_data_dir", lambda name: str(tmp_path / "pd" / name))
    url = default_database_url()
    assert Path(make_url(url).database) == tmp_path / "pd" / "masterhall" / "masterhall.db"
    assert (tmp_path / "pd" / "masterhall").is_dir()


def test_store_layer_does_not_import_web_or_cli():
    root = Path(store_pkg.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 6
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
                names += [names[0].rstrip(".") + "." + a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.lstrip(".").split(".")
                assert not {"web", "cli", "fastapi", "starlette", "typer"} & set(parts[:2]), f"{file.name}: {name}"


def test_importing_the_store_has_no_side_effects(tmp_path):
    folder = tmp_path / "never-created"
    code = "import masterhall.store, masterhall.store.conversations, masterhall.store.masters, masterhall.store.db, masterhall.store.tables"
    env = {"MASTERHALL_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []
