"""Accounts: who is asking (:class:`Caller`), local users, sessions and API keys.

Every service method that reads or changes something a person owns takes a :class:`Caller`.
While the hall has no accounts, every request is :data:`LOCAL` — the one person of a loopback
hall, who owns everything (rows with ``owner_id`` NULL). Once an account exists, the web app
resolves each request to a signed-in person or the owner of an API key, and refuses the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "member"]


@dataclass(frozen=True)
class Caller:
    """The person a request or command acts for.

    ``user_id``: the ``users.id`` of the account, or ``None`` for :data:`LOCAL` (a hall without
    accounts). ``name``: the login name (``"local"`` for :data:`LOCAL`). ``role``: ``admin`` or
    ``member``; :data:`LOCAL` is an admin of its own hall.
    """

    user_id: int | None
    name: str
    role: Role = "member"

    @property
    def is_admin(self) -> bool:
        """Whether this caller may manage members and see every draft and file."""
        return self.role == "admin"

    @property
    def is_local(self) -> bool:
        """Whether this is the single person of a hall that has no accounts."""
        return self.user_id is None


#: The single person of a hall without accounts: owns every row whose ``owner_id`` is NULL.
LOCAL = Caller(user_id=None, name="local", role="admin")

__all__ = ["LOCAL", "Caller", "Role"]
