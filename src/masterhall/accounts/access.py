"""Who may see and change what: the ownership rules every service applies (README, *Who sees what*).

Each rule takes the :class:`~masterhall.accounts.Caller` and the ``owner_id`` of a row
(``users.id``, or ``None`` for rows of a hall without accounts, which :data:`~masterhall.accounts.LOCAL`
owns). Services call them and raise :class:`~masterhall.errors.NotFoundError` for rows a caller
may not see (so their existence does not leak) and :class:`~masterhall.errors.ForbiddenError`
for rows a caller sees but may not change.

- A conversation is its owner's alone: nobody else sees it, admins included (:func:`owns`).
- A user master, its files and its test runs are its creator's and the admins' (:func:`manages`);
  a published master is seen by everyone, its instructions only when the creator shows them
  (:func:`sees_instructions`).
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from ..store.tables import UserRow
from . import LOCAL, Caller


def owns(caller: Caller, owner_id: int | None) -> bool:
    """Whether ``caller`` is the owner of a row with ``owner_id`` (LOCAL owns the rows without one)."""
    return owner_id == caller.user_id


def manages(caller: Caller, owner_id: int | None) -> bool:
    """Whether ``caller`` may read and change a user master (or its files) of ``owner_id``: its
    creator and every admin."""
    return caller.is_admin or owns(caller, owner_id)


def sees_instructions(caller: Caller, owner_id: int | None, instructions_visible: bool) -> bool:
    """Whether ``caller`` may read the instructions of a published user master: those who manage
    it always, everyone else when its creator made them visible."""
    return instructions_visible or manages(caller, owner_id)


def first_admin(engine: Engine) -> Caller:
    """Who the command line acts for: the enabled admin with the smallest id (the first one
    created), or :data:`~masterhall.accounts.LOCAL` when the hall has no such account."""
    with engine.connect() as conn:
        row = conn.execute(select(UserRow.id, UserRow.name).where(UserRow.role == "admin", UserRow.disabled.is_(False))
                           .order_by(UserRow.id).limit(1)).first()
    return LOCAL if row is None else Caller(user_id=row.id, name=row.name, role="admin")


__all__ = ["first_admin", "manages", "owns", "sees_instructions"]
