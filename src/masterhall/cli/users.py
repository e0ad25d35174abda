"""``masterhall users``: the hall's accounts, for operators and scripts.

``add NAME [--admin] [--password-stdin]``, ``list``, ``disable NAME``, ``enable NAME``,
``remove NAME``, ``password NAME [--password-stdin]``. Without ``--password-stdin`` the password
is asked twice on the terminal (never an option: it would show in the process list and the
shell's history). The first account must be an admin; creating it assigns the hall's existing
conversations and user masters to it. Exit codes: 1 refused (taken name, weak password, last
admin …), 2 unknown account.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Iterator

import typer
from rich.table import Table

from ..accounts.service import AccountService
from ..config import load_settings
from ..errors import HallError, NotFoundError
from ..store.db import Store
from .common import fail, out

users_app = typer.Typer(no_args_is_help=True, help="The hall's accounts: add, list, disable, enable, remove, password.")


@contextmanager
def accounts() -> Iterator[AccountService]:
    """The accounts service on the configured database (never an in-memory stand-in); typed
    errors become ``Error: …`` with exit code 2 (unknown account) or 1."""
    store = Store(load_settings().database_url)
    try:
        yield AccountService(store.accounts)
    except NotFoundError as exc:
        fail(str(exc), 2)
    except HallError as exc:
        fail(str(exc), 1)
    finally:
        store.close()


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


PasswordStdin = typer.Option(False, "--password-stdin", help="Read the password from the first line of standard input.")


@users_app.command("add")
def add(name: str = typer.Argument(..., help="Login name."),
        admin: bool = typer.Option(False, "--admin", help="Make the account an admin (the first account must be)."),
        password_stdin: bool = PasswordStdin) -> None:
    """Add an account (the first one must be --admin; it then owns the hall's existing data)."""
    password = read_password(password_stdin)
    with accounts() as service:
        first = not service.has_accounts()
        user = service.create_user(name, password, admin=admin)
    out.print(f"Added {user.name} ({user.role}).", highlight=False)
    if first:
        out.print("The hall now has accounts: everyone signs in, and API clients need a key "
                  f"(masterhall keys create {user.name}). Existing conversations and masters belong to {user.name}.",
                  highlight=False)


@users_app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the accounts, oldest first."""
    with accounts() as service:
        users = service.list_users()
    if as_json:
        print(json.dumps([u.to_dict() for u in users], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(users)} account(s)")
    for col in ("id", "name", "role", "status", "created", "last sign-in"):
        table.add_column(col, overflow="fold")
    for u in users:
        table.add_row(str(u.id), u.name, u.role, "disabled" if u.disabled else "active",
                      u.created_at.strftime("%Y-%m-%d %H:%M"),
                      u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never")
    out.print(table)


@users_app.command("disable")
def disable(name: str = typer.Argument(..., help="Login name.")) -> None:
    """Disable an account: it cannot sign in, and its sessions and API keys stop working."""
    with accounts() as service:
        user = service.set_disabled(name, True)
    out.print(f"Disabled {user.name}.", highlight=False)


@users_app.command("enable")
def enable(name: str = typer.Argument(..., help="Login name.")) -> None:
    """Enable a disabled account (its keys work again; it signs in anew)."""
    with accounts() as service:
        user = service.set_disabled(name, False)
    out.print(f"Enabled {user.name}.", highlight=False)


@users_app.command("remove")
def remove(name: str = typer.Argument(..., help="Login name."),
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Remove an account with its sessions, API keys, conversations and user masters."""
    if not yes and not typer.confirm(f"Remove {name} and everything that is theirs?"):
        raise typer.Exit(1)
    with accounts() as service:
        user = service.remove_user(name)
    out.print(f"Removed {user.name}.", highlight=False)


@users_app.command("password")
def password(name: str = typer.Argument(..., help="Login name."), password_stdin: bool = PasswordStdin) -> None:
    """Set an account's password (its sessions end; its API keys keep working)."""
    new = read_password(password_stdin)
    with accounts() as service:
        service.set_password(name, new)
    out.print(f"Password of {name} changed.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``users`` group to the ``masterhall`` app."""
    app.add_typer(users_app, name="users")
