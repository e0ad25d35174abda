"""The accounts service: people, their passwords, sessions and API keys (no HTTP here).

- **Passwords** are hashed with argon2id (``argon2-cffi``'s :class:`~argon2.PasswordHasher`,
  RFC 9106 low-memory parameters by default); a hash made with older parameters is replaced at
  the next sign-in.
- **Sessions**: a sign-in yields a random token (``secrets``, 256 bits) for the cookie; the
  database keeps its SHA-256 only. A session lasts :data:`SESSION_TTL` after it was last used
  (its expiry slides, written at most every :data:`TOUCH_EVERY`).
- **API keys**: ``mh-`` + 43 random URL-safe characters, shown once; the database keeps the
  SHA-256 and the first :data:`PREFIX_LENGTH` characters (to tell keys apart in lists).
- **The first account must be an admin**; when it is created, every conversation and user master
  the hall had before (no owner) becomes that admin's, in the same transaction.
- A disabled account cannot sign in, and its sessions and keys stop working at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import AuthenticationError, ConflictError, InvalidRequestError, NotFoundError
from ..store.accounts import AccountRepo, ApiKey, User
from ..store.tables import utcnow
from . import Caller
from .limits import LoginLimiter

#: How long a session lasts after its last use.
SESSION_TTL = dt.timedelta(days=14)
#: A session's expiry (and a key's last-used time) is written at most this often.
TOUCH_EVERY = dt.timedelta(minutes=1)
#: Login names: a letter or digit (any script), then letters, digits, ``.``, ``_`` or ``-``; 1–64 characters.
NAME_RE = re.compile(r"[^\W_][\w.-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
KEY_PREFIX = "mh-"
PREFIX_LENGTH = 11
MAX_LABEL = 100
#: While the hall has no account, :meth:`AccountService.has_accounts` asks the database again
#: after this many seconds (an account added by ``masterhall users add`` beside a running server
#: takes effect within it).
NO_ACCOUNTS_RECHECK_S = 1.0


def token_hash(token: str) -> str:
    """SHA-256 hex (64 digits) of a session token or API key: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: who (``caller``) and the session ``token`` for the cookie."""

    caller: Caller
    token: str


def caller_of(user: User) -> Caller:
    """The :class:`Caller` an account acts as."""
    return Caller(user_id=user.id, name=user.name, role=user.role)  # type: ignore[arg-type]


class AccountService:
    """Accounts on ``repo``; ``hasher`` (default argon2id with the library's defaults) and
    ``limiter`` (sign-in attempts) may be replaced, e.g. by cheaper ones in tests."""

    def __init__(self, repo: AccountRepo, *, hasher: PasswordHasher | None = None, limiter: LoginLimiter | None = None):
        self.repo = repo
        self.hasher = hasher or PasswordHasher()
        self.limiter = limiter or LoginLimiter()
        self._has_accounts: bool | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._dummy_hash: str | None = None

    # -- whether the hall has accounts ---------------------------------------------------------
    def has_accounts(self) -> bool:
        """Whether any account exists. Once true it stays cached (until this service removes the
        last account); while false the database is asked again every :data:`NO_ACCOUNTS_RECHECK_S`."""
        now = time.monotonic()
        cached = self._has_accounts
        if cached or (cached is False and now - self._checked_at < NO_ACCOUNTS_RECHECK_S):
            return bool(cached)
        found = self.repo.count_users() > 0
        with self._lock:
            self._has_accounts, self._checked_at = found, now
        return found

    def _invalidate(self) -> None:
        with self._lock:
            self._has_accounts = None

    # -- people --------------------------------------------------------------------------------
    def check_name(self, name: str) -> str:
        """``name`` stripped, or :class:`InvalidRequestError` when it breaks :data:`NAME_RE`."""
        name = (name or "").strip()
        if not NAME_RE.fullmatch(name):
            raise InvalidRequestError("A name is 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
                                      code="invalid_name")
        return name

    def check_password(self, password: str) -> str:
        """``password`` unchanged, or :class:`InvalidRequestError` when shorter than :data:`MIN_PASSWORD`
        characters or longer than :data:`MAX_PASSWORD`."""
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidRequestError(f"A password has at least {MIN_PASSWORD} characters.", code="weak_password")
        if len(password) > MAX_PASSWORD:
            raise InvalidRequestError(f"A password has at most {MAX_PASSWORD} characters.", code="invalid_password")
        return password

    def create_user(self, name: str, password: str, *, admin: bool = False) -> User:
        """Add an account. The first account must be an admin (:class:`InvalidRequestError`
        ``first_must_be_admin`` otherwise); creating the first admin assigns the hall's unowned
        conversations and user masters to it. :class:`ConflictError` when the name is taken."""
        name = self.check_name(name)
        self.check_password(password)
        if not admin and self.repo.count_users() == 0:
            raise InvalidRequestError("The first account must be an admin (add it with --admin).",
                                      code="first_must_be_admin")
        user, _claimed = self.repo.create_user(name, self.hasher.hash(password), "admin" if admin else "member")
        self._invalidate()
        return user

    def list_users(self) -> list[User]:
        """Every account, oldest first."""
        return self.repo.list_users()

    def user(self, name_or_id: str | int) -> User:
        """The account with this name (case-insensitive) or id; :class:`NotFoundError` otherwise."""
        if isinstance(name_or_id, int):
            found = self.repo.get_user(name_or_id)
        else:
            pair = self.repo.find_user(name_or_id.strip())
            found = pair[0] if pair else None
        if found is None:
            raise NotFoundError(f"no account named '{name_or_id}'", code="unknown_user")
        return found

    def _keep_an_admin(self, user: User) -> None:
        if user.role == "admin" and not user.disabled and self.repo.count_active_admins() <= 1:
            raise ConflictError("This is the hall's last active admin; add another admin first.", code="last_admin")

    def set_disabled(self, name_or_id: str | int, disabled: bool) -> User:
        """Disable (sessions end, keys stop working) or enable an account; the last active admin
        cannot be disabled (:class:`ConflictError`)."""
        user = self.user(name_or_id)
        if disabled:
            self._keep_an_admin(user)
        self.repo.set_disabled(user.id, disabled)
        return self.user(user.id)

    def remove_user(self, name_or_id: str | int) -> User:
        """Delete an account with its sessions, keys, conversations and user masters; the last
        active admin cannot be removed (:class:`ConflictError`)."""
        user = self.user(name_or_id)
        self._keep_an_admin(user)
        self.repo.delete_user(user.id)
        self._invalidate()
        return user

    def set_password(self, name_or_id: str | int, password: str) -> None:
        """Set an account's password (an operator's reset); every session of it ends."""
        user = self.user(name_or_id)
        self.repo.set_password_hash(user.id, self.hasher.hash(self.check_password(password)), end_sessions=True)

    def change_password(self, caller: Caller, current: str, new: str, *, keep_token: str | None = None) -> None:
        """A person changes their own password: ``current`` must be right
        (:class:`AuthenticationError` ``invalid_credentials``). Every session of the account ends
        but the one of ``keep_token`` (the browser that changed it); API keys keep working."""
        if caller.user_id is None:
            raise InvalidRequestError("This hall has no accounts.", code="no_accounts")
        pair = self.repo.find_user(self.user(caller.user_id).name)
        if pair is None or not self._verify(pair[1], current):
            raise AuthenticationError("The current password is wrong.", code="invalid_credentials")
        self.repo.set_password_hash(caller.user_id, self.hasher.hash(self.check_password(new)), end_sessions=True,
                                    keep_session=token_hash(keep_token) if keep_token else None)

    # -- signing in ------------------------------------------------------------------------------
    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def authenticate(self, name: str, password: str) -> User:
        """The account for ``name`` and ``password``; :class:`AuthenticationError`
        (``invalid_credentials``; ``account_disabled`` for a disabled account with the right password).
        An unknown name costs one hash check too, so timing does not tell which names exist."""
        pair = self.repo.find_user((name or "").strip()) if name and len(name) <= 200 else None
        if pair is None:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
            self._verify(self._dummy_hash, password or "")
            raise AuthenticationError("Wrong name or password.", code="invalid_credentials")
        user, stored = pair
        if not self._verify(stored, password or ""):
            raise AuthenticationError("Wrong name or password.", code="invalid_credentials")
        if user.disabled:
            raise AuthenticationError("This account is disabled.", code="account_disabled")
        if self.hasher.check_needs_rehash(stored):
            self.repo.set_password_hash(user.id, self.hasher.hash(password))
        return user

    def login(self, name: str, password: str, address: str = "") -> SignIn:
        """Sign in from client ``address``: :meth:`authenticate` behind the sign-in limiter
        (:class:`~masterhall.errors.RateLimitedError` when it says wait), then a new session."""
        self.limiter.check(name or "", address)
        try:
            user = self.authenticate(name, password)
        except AuthenticationError:
            self.limiter.failed(name or "", address)
            raise
        self.limiter.succeeded(name, address)
        now = utcnow()
        self.repo.set_last_login(user.id, now)
        self.repo.delete_expired_sessions(now)  # housekeeping: expired sessions go at the next sign-in
        return SignIn(caller_of(user), self.start_session(user.id))

    def start_session(self, user_id: int) -> str:
        """A new session for ``user_id``; returns the cookie's token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        self.repo.create_session(token_hash(token), user_id, utcnow() + SESSION_TTL)
        return token

    def resolve_session(self, token: str | None) -> Caller | None:
        """The caller of a session cookie's ``token``, or ``None`` (unknown, expired, or the
        account disabled). Slides the expiry."""
        if not token or len(token) > 200:
            return None
        session = self.repo.get_session(token_hash(token))
        now = utcnow()
        if session is None or session.user.disabled:
            return None
        if session.expires_at <= now:
            self.repo.delete_session(session.id)
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            self.repo.touch_session(session.id, now, now + SESSION_TTL)
        return caller_of(session.user)

    def logout(self, token: str | None) -> None:
        """End the session of ``token`` (nothing happens for an unknown one)."""
        if token and len(token) <= 200:
            self.repo.delete_session(token_hash(token))

    # -- API keys --------------------------------------------------------------------------------
    def create_key(self, name_or_id: str | int, label: str = "") -> tuple[ApiKey, str]:
        """A new API key for an account: ``(stored key, the key itself)`` — the key is shown once."""
        user = self.user(name_or_id)
        label = (label or "").strip()
        if len(label) > MAX_LABEL or any(ord(ch) < 32 for ch in label):
            raise InvalidRequestError(f"A label is at most {MAX_LABEL} printable characters.", code="invalid_label")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        return self.repo.create_key(user.id, label, secret[:PREFIX_LENGTH], token_hash(secret)), secret

    def list_keys(self, name_or_id: str | int | None = None) -> list[ApiKey]:
        """Keys of one account (every key when ``None``), newest first, revoked ones too."""
        return self.repo.list_keys(None if name_or_id is None else self.user(name_or_id).id)

    def revoke_key(self, key_id: int, *, owner_id: int | None = None) -> ApiKey:
        """Revoke key ``key_id``; with ``owner_id``, only that account's key (else
        :class:`NotFoundError`, as for an unknown id)."""
        key = self.repo.get_key(key_id)
        if key is None or (owner_id is not None and key.user_id != owner_id):
            raise NotFoundError(f"no API key with id {key_id}", code="unknown_key")
        self.repo.revoke_key(key_id, utcnow())
        return self.repo.get_key(key_id)  # type: ignore[return-value]

    def resolve_key(self, secret: str | None) -> Caller | None:
        """The caller of an API key, or ``None`` (unknown, revoked, or the account disabled).
        Records the use (at most every :data:`TOUCH_EVERY`)."""
        if not secret or len(secret) > 200 or not secret.startswith(KEY_PREFIX):
            return None
        found = self.repo.find_key(token_hash(secret))
        if found is None:
            return None
        key, user = found
        if key.revoked or user.disabled:
            return None
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
            self.repo.touch_key(key.id, now)
        return caller_of(user)
