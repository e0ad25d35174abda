"""The hall's typed errors, shared by every layer; none of them knows about HTTP.

Services raise these (or subclasses defined next to the code that raises them, such as
:class:`~masterhall.catalog.UnknownMasterError`); the web layer maps each type to an HTTP status
in one place (``web/errors.py``) and the command line to an exit code. ``code`` is a stable
machine-readable name (``not_found``, ``invalid_message`` …) that clients may switch on;
``details`` holds extra JSON-ready fields for the client (e.g. ``fields`` of a form).
"""

from __future__ import annotations

from typing import Any


class HallError(Exception):
    """Base of the hall's expected errors: ``code`` (class default or given) and ``details``."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None, **details: Any):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.code


class NotFoundError(HallError, KeyError):
    """A conversation, message, user master or file that does not exist (or no longer does)."""

    code = "not_found"


class ForbiddenError(HallError):
    """The caller may see this row but not do this to it (e.g. delete another person's published
    master, export a master whose creator hides its instructions). Rows a caller may not see at
    all raise :class:`NotFoundError` instead, so that their existence does not leak."""

    code = "forbidden"


class InvalidRequestError(HallError, ValueError):
    """The request cannot be done as asked (bad input); nothing was stored."""

    code = "invalid"


class ConflictError(HallError, ValueError):
    """The request clashes with the hall's state (e.g. replacing a built-in master)."""

    code = "conflict"


class TooLargeError(InvalidRequestError):
    """An upload or a value over the hall's size limit."""

    code = "too_large"


class BuiltinReadOnlyError(ConflictError):
    """Built-in masters cannot be edited, replaced or deleted (fork them instead).

    ``field`` names the form field at fault when there is one (``id`` when saving).
    """

    code = "read_only"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class AuthenticationError(HallError):
    """No valid credential: a wrong name or password, an unknown, expired or revoked session or
    API key, or a disabled account (``code`` says which: ``invalid_credentials``,
    ``invalid_api_key``, ``account_disabled``, ``unauthenticated``)."""

    code = "unauthenticated"


class RateLimitedError(HallError):
    """Too many attempts (sign-ins): ``retry_after_s`` is how many whole seconds to wait."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int):
        super().__init__(message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s
