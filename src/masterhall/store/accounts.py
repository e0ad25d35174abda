"""Local accounts, their sessions and API keys, read and written through a repository.

No hashing happens here: the repository stores and finds the hashes the accounts service
(:mod:`masterhall.accounts.service`) computes. Every method commits before it returns.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, insert, select, update

from ..errors import ConflictError, NotFoundError
from .tables import ApiKeyRow, ConversationRow, SessionRow, UserMasterRow, UserRow, utcnow

_users = UserRow.__table__
_sessions = SessionRow.__table__
_keys = ApiKeyRow.__table__
#: Tables whose rows belong to a person (``owner_id``); NULL rows are claimed by the first admin.
_OWNED = (ConversationRow.__table__, UserMasterRow.__table__)


@dataclass(frozen=True)
class User:
    """A stored account (never its password hash): ``role`` is ``admin`` or ``member``."""

    id: int
    name: str
    role: str
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"id": self.id, "name": self.name, "role": self.role, "disabled": self.disabled,
                "created_at": self.created_at.isoformat(),
                "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None}


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (never the key itself): ``prefix`` tells keys apart in lists; ``revoked_at``
    is set once revoked; ``user_name`` is the owner's login name."""

    id: int
    user_id: int
    user_name: str
    label: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        def iso(value):
            return value.isoformat() if value else None

        return {"id": self.id, "user": self.user_name, "label": self.label, "prefix": self.prefix,
                "created_at": iso(self.created_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at)}


@dataclass(frozen=True)
class SessionInfo:
    """A stored session and the account it signs in."""

    id: str
    user: User
    expires_at: dt.datetime
    last_seen_at: dt.datetime


def _user(row) -> User:
    return User(row.id, row.name, row.role, bool(row.disabled), row.created_at, row.last_login_at)


def _key(row) -> ApiKey:
    return ApiKey(row.id, row.user_id, row.name, row.label, row.prefix, row.created_at, row.last_used_at,
                  row.revoked_at)


_KEY_COLUMNS = (_keys.c.id, _keys.c.user_id, _users.c.name, _keys.c.label, _keys.c.prefix, _keys.c.created_at,
                _keys.c.last_used_at, _keys.c.revoked_at)
_USER_COLUMNS = (_users.c.id, _users.c.name, _users.c.role, _users.c.disabled, _users.c.created_at,
                 _users.c.last_login_at)


class AccountRepo:
    """Users, sessions and API keys on ``engine``."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- users -------------------------------------------------------------------------------
    def count_users(self) -> int:
        """How many accounts exist (disabled ones too)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(_users)).scalar_one()

    def get_user(self, user_id: int) -> User | None:
        """The account with ``user_id``, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(_users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def find_user(self, name: str) -> tuple[User, str] | None:
        """The account named ``name`` (compared case-insensitively) and its password hash, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS, _users.c.password_hash)
                               .where(func.lower(_users.c.name) == name.lower())).first()
        return None if row is None else (_user(row), row.password_hash)

    def list_users(self) -> builtins.list[User]:
        """Every account, oldest first."""
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(*_USER_COLUMNS).order_by(_users.c.id))]

    def create_user(self, name: str, password_hash: str, role: str) -> tuple[User, int]:
        """Insert an account; return it and how many unowned rows it claimed.

        When the new account is an ``admin`` and no other admin exists, every conversation and
        user master without an owner (the data of the hall before it had accounts) is assigned
        to it, in the same transaction. Raises :class:`ConflictError` when the name is taken
        (case-insensitively)."""
        now = utcnow()
        with self.engine.begin() as conn:
            taken = conn.execute(select(_users.c.id).where(func.lower(_users.c.name) == name.lower())).first()
            if taken:
                raise ConflictError(f"the name '{name}' is taken", code="name_taken")
            first_admin = role == "admin" and conn.execute(
                select(_users.c.id).where(_users.c.role == "admin").limit(1)).first() is None
            user_id = conn.execute(insert(_users).values(name=name, password_hash=password_hash, role=role,
                                                         disabled=False, created_at=now)).inserted_primary_key[0]
            claimed = 0
            if first_admin:
                for table in _OWNED:
                    claimed += conn.execute(update(table).where(table.c.owner_id.is_(None))
                                            .values(owner_id=user_id)).rowcount or 0
        return self.get_user(user_id), claimed  # type: ignore[return-value]

    def set_password_hash(self, user_id: int, password_hash: str, *, end_sessions: bool = False,
                          keep_session: str | None = None) -> None:
        """Store a new password hash; ``end_sessions``: sign the account out everywhere but in
        session ``keep_session`` (when given)."""
        with self.engine.begin() as conn:
            if not conn.execute(update(_users).where(_users.c.id == user_id).values(password_hash=password_hash)).rowcount:
                raise NotFoundError(f"no account with id {user_id}")
            if end_sessions:
                conn.execute(delete(_sessions).where(_sessions.c.user_id == user_id, _sessions.c.id != (keep_session or "")))

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Disable (its sessions end) or enable an account."""
        with self.engine.begin() as conn:
            if not conn.execute(update(_users).where(_users.c.id == user_id).values(disabled=disabled)).rowcount:
                raise NotFoundError(f"no account with id {user_id}")
            if disabled:
                conn.execute(delete(_sessions).where(_sessions.c.user_id == user_id))

    def set_last_login(self, user_id: int, when: dt.datetime) -> None:
        """Record a successful sign-in."""
        with self.engine.begin() as conn:
            conn.execute(update(_users).where(_users.c.id == user_id).values(last_login_at=when))

    def delete_user(self, user_id: int) -> None:
        """Delete an account with its sessions, keys, conversations and user masters (cascade)."""
        with self.engine.begin() as conn:
            # SQLite enforces ON DELETE CASCADE only with foreign_keys=ON (make_engine sets it);
            # delete the account's own rows explicitly so any database behaves the same.
            for table in (_sessions, _keys):
                conn.execute(delete(table).where(table.c.user_id == user_id))
            for table in _OWNED:
                conn.execute(delete(table).where(table.c.owner_id == user_id))
            if not conn.execute(delete(_users).where(_users.c.id == user_id)).rowcount:
                raise NotFoundError(f"no account with id {user_id}")

    def count_active_admins(self) -> int:
        """How many admins are not disabled."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(_users)
                                .where(_users.c.role == "admin", _users.c.disabled.is_(False))).scalar_one()

    # -- sessions ----------------------------------------------------------------------------
    def create_session(self, session_id: str, user_id: int, expires_at: dt.datetime) -> None:
        """Store a session (``session_id``: the SHA-256 hex of the cookie's token)."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(insert(_sessions).values(id=session_id, user_id=user_id, created_at=now,
                                                  expires_at=expires_at, last_seen_at=now))

    def get_session(self, session_id: str) -> SessionInfo | None:
        """The session and its account, or ``None`` (expired ones are returned too)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS, _sessions.c.id.label("sid"), _sessions.c.expires_at,
                                      _sessions.c.last_seen_at)
                               .join(_users, _users.c.id == _sessions.c.user_id)
                               .where(_sessions.c.id == session_id)).first()
        return None if row is None else SessionInfo(row.sid, _user(row), row.expires_at, row.last_seen_at)

    def touch_session(self, session_id: str, last_seen_at: dt.datetime, expires_at: dt.datetime) -> None:
        """Slide a session's expiry."""
        with self.engine.begin() as conn:
            conn.execute(update(_sessions).where(_sessions.c.id == session_id)
                         .values(last_seen_at=last_seen_at, expires_at=expires_at))

    def delete_session(self, session_id: str) -> None:
        """End one session (no error when it does not exist)."""
        with self.engine.begin() as conn:
            conn.execute(delete(_sessions).where(_sessions.c.id == session_id))

    def delete_expired_sessions(self, now: dt.datetime) -> int:
        """Remove sessions past their expiry; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(_sessions).where(_sessions.c.expires_at < now)).rowcount or 0

    # -- API keys ----------------------------------------------------------------------------
    def create_key(self, user_id: int, label: str, prefix: str, key_hash: str) -> ApiKey:
        """Store a key (``key_hash``: SHA-256 hex of the whole key)."""
        with self.engine.begin() as conn:
            key_id = conn.execute(insert(_keys).values(user_id=user_id, label=label, prefix=prefix, key_hash=key_hash,
                                                       created_at=utcnow())).inserted_primary_key[0]
        return self.get_key(key_id)  # type: ignore[return-value]

    def get_key(self, key_id: int) -> ApiKey | None:
        """The key with ``key_id``, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_KEY_COLUMNS).join(_users, _users.c.id == _keys.c.user_id)
                               .where(_keys.c.id == key_id)).first()
        return None if row is None else _key(row)

    def list_keys(self, user_id: int | None = None) -> builtins.list[ApiKey]:
        """Keys of ``user_id`` (every key when ``None``), newest first, revoked ones too."""
        query = select(*_KEY_COLUMNS).join(_users, _users.c.id == _keys.c.user_id).order_by(_keys.c.id.desc())
        if user_id is not None:
            query = query.where(_keys.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [_key(r) for r in conn.execute(query)]

    def find_key(self, key_hash: str) -> tuple[ApiKey, User] | None:
        """The key with this hash and its owner, or ``None`` (revoked keys are returned too)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS, _keys.c.id.label("kid"), _keys.c.label, _keys.c.prefix,
                                      _keys.c.created_at.label("key_created_at"), _keys.c.last_used_at,
                                      _keys.c.revoked_at)
                               .join(_users, _users.c.id == _keys.c.user_id)
                               .where(_keys.c.key_hash == key_hash)).first()
        if row is None:
            return None
        key = ApiKey(row.kid, row.id, row.name, row.label, row.prefix, row.key_created_at, row.last_used_at,
                     row.revoked_at)
        return key, _user(row)

    def revoke_key(self, key_id: int, when: dt.datetime) -> None:
        """Mark a key revoked (kept for the record); revoking twice keeps the first time."""
        with self.engine.begin() as conn:
            conn.execute(update(_keys).where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None)).values(revoked_at=when))

    def touch_key(self, key_id: int, when: dt.datetime) -> None:
        """Record a key's use."""
        with self.engine.begin() as conn:
            conn.execute(update(_keys).where(_keys.c.id == key_id).values(last_used_at=when))
