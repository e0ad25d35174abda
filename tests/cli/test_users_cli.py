"""``masterhall users`` and ``masterhall keys`` on SQLite and PostgreSQL, and ``serve``'s refusal
to open a non-loopback address while the hall has no account."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.store import Store

runner = CliRunner()


@pytest.fixture
def db(db_url, monkeypatch):
    monkeypatch.setenv("MASTERHALL_DATABASE_URL", db_url)
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")
    return db_url


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_users_add_list_disable_enable_password_remove(db):
    member_first = run("users", "add", "bob", "--password-stdin", stdin="bob-password\n")
    assert member_first.exit_code == 1 and "first account must be an admin" in member_first.output
    added = run("users", "add", "alice", "--admin", "--password-stdin", stdin="alice-password\n")
    assert added.exit_code == 0 and "Added alice (admin)" in added.output and "keys create alice" in added.output
    assert run("users", "add", "bob", "--password-stdin", stdin="bob-password\n").exit_code == 0
    assert run("users", "add", "BOB", "--password-stdin", stdin="other-password\n").exit_code == 1
    weak = run("users", "add", "carol", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1 and "at least 8" in weak.output
    listed = json.loads(run("users", "list", "--json").output)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("alice", "admin", False), ("bob", "member", False)]
    assert "alice" in run("users", "list").output

    store = Store(db)
    try:
        from masterhall.accounts.service import AccountService

        service = AccountService(store.accounts)
        assert service.authenticate("bob", "bob-password").name == "bob"
        assert run("users", "disable", "bob").exit_code == 0
        assert json.loads(run("users", "list", "--json").output)[1]["disabled"] is True
        assert run("users", "enable", "bob").exit_code == 0
        assert run("users", "password", "bob", "--password-stdin", stdin="bob-new-password\n").exit_code == 0
        assert service.authenticate("bob", "bob-new-password").name == "bob"
        last_admin = run("users", "disable", "alice")
        assert last_admin.exit_code == 1 and "last active admin" in last_admin.output
        unknown = run("users", "disable", "nobody")
        assert unknown.exit_code == 2 and "no account named 'nobody'" in unknown.output
        assert run("users", "remove", "bob", "--yes").exit_code == 0
        assert [u.name for u in service.list_users()] == ["alice"]
    finally:
        store.close()


def test_keys_create_prints_the_key_last_list_and_revoke(db):
    run("users", "add", "alice", "--admin", "--password-stdin", stdin="alice-password\n")
    created = run("keys", "create", "alice", "--label", "open-webui")
    assert created.exit_code == 0
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("mh-") and len(key) == 46
    listed = json.loads(run("keys", "list", "alice", "--json").output)
    assert len(listed) == 1 and listed[0]["label"] == "open-webui" and listed[0]["prefix"] == key[:11]
    assert key not in run("keys", "list").output and key[:11] in run("keys", "list").output
    store = Store(db)
    try:
        from masterhall.accounts.service import AccountService

        service = AccountService(store.accounts)
        assert service.resolve_key(key).name == "alice"
        revoked = run("keys", "revoke", str(listed[0]["id"]))
        assert revoked.exit_code == 0 and "Revoked key" in revoked.output
        assert service.resolve_key(key) is None
    finally:
        store.close()
    assert run("keys", "revoke", "999").exit_code == 2
    assert run("keys", "create", "nobody").exit_code == 2


@pytest.fixture
def no_server(monkeypatch):
    """``uvicorn.Server.run`` that returns at once: what serve does before it is what is tested."""
    import uvicorn

    started = []

    def fake_run(self, *args, **kwargs):
        started.append(self.config.host)
        self.should_exit = True

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    return started


def test_serve_refuses_a_public_bind_without_an_account(db, no_server):
    refused = run("serve", "--host", "0.0.0.0", "--port", "8999")
    assert refused.exit_code == 1 and no_server == []
    assert "masterhall users add NAME --admin --password-stdin" in refused.output and "--insecure" in refused.output
    loud = run("serve", "--host", "0.0.0.0", "--port", "8999", "--insecure")
    assert loud.exit_code == 0 and no_server == ["0.0.0.0"] and "INSECURE" in loud.output
    assert run("serve", "--host", "127.0.0.2", "--port", "8999").exit_code == 0  # loopback needs no account
    run("users", "add", "alice", "--admin", "--password-stdin", stdin="alice-password\n")
    with_account = run("serve", "--host", "0.0.0.0", "--port", "8999")
    assert with_account.exit_code == 0 and "INSECURE" not in with_account.output
    assert no_server == ["0.0.0.0", "127.0.0.2", "0.0.0.0"]


def test_is_loopback():
    from masterhall.cli.serve import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "hall.example", ""))
