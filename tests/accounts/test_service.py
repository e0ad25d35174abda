"""The accounts service on SQLite and PostgreSQL: people, passwords, sessions, keys, first admin."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from masterhall.accounts.service import SESSION_TTL, AccountService, token_hash
from masterhall.errors import AuthenticationError, ConflictError, InvalidRequestError, NotFoundError
from masterhall.store.tables import ConversationRow, SessionRow, UserMasterRow, utcnow

from .conftest import FAST_HASHER


def test_first_account_must_be_admin_then_members(accounts):
    assert not accounts.has_accounts()
    with pytest.raises(InvalidRequestError) as exc:
        accounts.create_user("bob", "password-1")
    assert exc.value.code == "first_must_be_admin"
    admin = accounts.create_user("alice", "password-1", admin=True)
    assert admin.role == "admin" and accounts.has_accounts()
    bob = accounts.create_user("bob", "password-2")
    assert bob.role == "member" and [u.name for u in accounts.list_users()] == ["alice", "bob"]


def test_password_is_stored_as_argon2id_never_in_clear(accounts, store):
    accounts.create_user("alice", "correct horse", admin=True)
    _, stored = store.accounts.find_user("alice")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


@pytest.mark.parametrize("name", ["", " ", "a" * 65, "-lead", "has space", "semi;colon", "_x", "a/b"])
def test_bad_names_are_refused(accounts, name):
    with pytest.raises(InvalidRequestError):
        accounts.create_user(name, "password-1", admin=True)


def test_names_allow_other_scripts_and_are_unique_case_insensitively(accounts):
    accounts.create_user("李白", "password-1", admin=True)
    accounts.create_user("Alice.B-2", "password-1")
    with pytest.raises(ConflictError):
        accounts.create_user("alice.b-2", "password-9")
    assert accounts.authenticate("ALICE.b-2", "password-1").name == "Alice.B-2"


def test_short_password_refused(accounts):
    with pytest.raises(InvalidRequestError) as exc:
        accounts.create_user("alice", "short", admin=True)
    assert exc.value.code == "weak_password"


def test_authenticate_wrong_password_unknown_name_and_disabled(accounts):
    accounts.create_user("alice", "password-1", admin=True)
    accounts.create_user("bob", "password-2")
    assert accounts.authenticate("bob", "password-2").name == "bob"
    for name, password in (("bob", "password-1"), ("nobody", "password-2"), ("bob", "")):
        with pytest.raises(AuthenticationError) as exc:
            accounts.authenticate(name, password)
        assert exc.value.code == "invalid_credentials"
    accounts.set_disabled("bob", True)
    with pytest.raises(AuthenticationError) as exc:
        accounts.authenticate("bob", "password-2")
    assert exc.value.code == "account_disabled"
    accounts.set_disabled("bob", False)
    assert accounts.authenticate("bob", "password-2").name == "bob"


def test_the_last_active_admin_cannot_be_disabled_or_removed(accounts):
    accounts.create_user("alice", "password-1", admin=True)
    for act in (lambda: accounts.set_disabled("alice", True), lambda: accounts.remove_user("alice")):
        with pytest.raises(ConflictError):
            act()
    accounts.create_user("carol", "password-3", admin=True)
    accounts.remove_user("alice")
    assert [u.name for u in accounts.list_users()] == ["carol"]
    with pytest.raises(NotFoundError):
        accounts.remove_user("alice")


def test_sessions_resolve_slide_and_end(accounts, store):
    accounts.create_user("alice", "password-1", admin=True)
    sign_in = accounts.login("alice", "password-1", "127.0.0.1")
    assert sign_in.caller.name == "alice" and sign_in.caller.is_admin and not sign_in.caller.is_local
    assert accounts.resolve_session(sign_in.token) == sign_in.caller
    assert accounts.resolve_session("nope") is None and accounts.resolve_session(None) is None
    with store.engine.connect() as conn:  # only the token's hash is stored
        ids = conn.execute(select(SessionRow.id)).scalars().all()
    assert ids == [token_hash(sign_in.token)] and sign_in.token not in ids
    # the expiry slides when the session is used after a while
    old = utcnow() - dt.timedelta(days=13)
    store.accounts.touch_session(token_hash(sign_in.token), old, old + SESSION_TTL)
    assert accounts.resolve_session(sign_in.token) is not None
    info = store.accounts.get_session(token_hash(sign_in.token))
    assert info.expires_at > utcnow() + SESSION_TTL - dt.timedelta(minutes=5)
    # an expired session is refused and removed
    store.accounts.touch_session(token_hash(sign_in.token), old, utcnow() - dt.timedelta(seconds=1))
    assert accounts.resolve_session(sign_in.token) is None
    assert store.accounts.get_session(token_hash(sign_in.token)) is None
    stale = accounts.start_session(accounts.user("alice").id)
    store.accounts.touch_session(token_hash(stale), old, utcnow() - dt.timedelta(seconds=1))
    second = accounts.login("alice", "password-1")
    assert store.accounts.get_session(token_hash(stale)) is None  # a sign-in clears out expired sessions
    accounts.logout(second.token)
    assert accounts.resolve_session(second.token) is None


def test_disabling_ends_sessions_and_stops_keys(accounts):
    accounts.create_user("alice", "password-1", admin=True)
    accounts.create_user("bob", "password-2")
    session = accounts.login("bob", "password-2").token
    _, key = accounts.create_key("bob")
    assert accounts.resolve_key(key).name == "bob"
    accounts.set_disabled("bob", True)
    assert accounts.resolve_session(session) is None and accounts.resolve_key(key) is None
    accounts.set_disabled("bob", False)
    assert accounts.resolve_key(key).name == "bob"
    assert accounts.resolve_session(session) is None  # a disabled account's sessions are gone for good


def test_password_change_and_reset(accounts):
    accounts.create_user("alice", "password-1", admin=True)
    sign_in = accounts.login("alice", "password-1")
    with pytest.raises(AuthenticationError):
        accounts.change_password(sign_in.caller, "wrong-password", "password-new")
    elsewhere = accounts.login("alice", "password-1")
    accounts.change_password(sign_in.caller, "password-1", "password-new", keep_token=sign_in.token)
    assert accounts.resolve_session(elsewhere.token) is None  # signed out elsewhere
    assert accounts.resolve_session(sign_in.token) == sign_in.caller  # not here
    assert accounts.authenticate("alice", "password-new")
    with pytest.raises(AuthenticationError):
        accounts.authenticate("alice", "password-1")
    accounts.set_password("alice", "password-reset")  # the operator's reset ends every session
    assert accounts.resolve_session(sign_in.token) is None
    assert accounts.authenticate("alice", "password-reset")


def test_api_keys_are_hashed_shown_once_listed_and_revoked(accounts, store):
    accounts.create_user("alice", "password-1", admin=True)
    accounts.create_user("bob", "password-2")
    stored, key = accounts.create_key("bob", label="laptop")
    assert key.startswith("mh-") and len(key) > 40 and stored.prefix == key[:11] and stored.label == "laptop"
    assert stored.last_used_at is None and not stored.revoked
    assert accounts.resolve_key(key).name == "bob"
    listed = accounts.list_keys("bob")
    assert [k.id for k in listed] == [stored.id] and listed[0].last_used_at is not None
    assert key not in str(listed[0].to_dict())
    assert accounts.resolve_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert accounts.resolve_key("sk-whatever") is None
    with pytest.raises(NotFoundError):  # alice's id cannot revoke bob's key through the owner check
        accounts.revoke_key(stored.id, owner_id=accounts.user("alice").id)
    accounts.revoke_key(stored.id, owner_id=accounts.user("bob").id)
    assert accounts.resolve_key(key) is None and accounts.list_keys("bob")[0].revoked
    assert [k.user_name for k in accounts.list_keys()] == ["bob"]


def test_the_first_admin_claims_the_rows_without_owner(store, accounts, catalog):
    from masterhall.catalog.models import Master

    convo = store.conversations.create("socrates")
    store.masters.save(Master.model_validate({**catalog.get("socrates").model_dump(), "id": "mine"}))
    admin = accounts.create_user("alice", "password-1", admin=True)
    with store.engine.connect() as conn:
        assert conn.execute(select(ConversationRow.owner_id).where(ConversationRow.id == convo.id)).scalar_one() == admin.id
        assert conn.execute(select(UserMasterRow.owner_id)).scalars().all() == [admin.id]
    accounts.create_user("carol", "password-3", admin=True)  # a second admin claims nothing
    with store.engine.connect() as conn:
        assert set(conn.execute(select(ConversationRow.owner_id)).scalars().all()) == {admin.id}


def test_removing_a_member_removes_their_keys_and_sessions(accounts, store):
    accounts.create_user("alice", "password-1", admin=True)
    accounts.create_user("bob", "password-2")
    session = accounts.login("bob", "password-2").token
    _, key = accounts.create_key("bob")
    accounts.remove_user("bob")
    assert accounts.resolve_session(session) is None and accounts.resolve_key(key) is None
    assert accounts.list_keys() == []


def test_has_accounts_sees_an_account_added_by_another_process(store, monkeypatch):
    import masterhall.accounts.service as service

    monkeypatch.setattr(service, "NO_ACCOUNTS_RECHECK_S", 0.0)
    server = AccountService(store.accounts, hasher=FAST_HASHER)
    assert not server.has_accounts()
    AccountService(store.accounts, hasher=FAST_HASHER).create_user("alice", "password-1", admin=True)  # e.g. the CLI
    assert server.has_accounts()
