"""``masterhall keys``: API keys for ``Authorization: Bearer …`` on ``/api`` and ``/v1``.

``create NAME [--label L]`` prints the new key as its last line (``| tail -n 1`` in scripts; the
key is shown only this once, the hall keeps its hash), ``list [NAME]``, ``revoke ID``.
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from .common import out
from .users import accounts

keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


@keys_app.command("create")
def create(name: str = typer.Argument(..., help="The account the key acts for."),
           label: str = typer.Option("", "--label", "-l", help="What the key is for (shown in lists).")) -> None:
    """Create an API key for an account; the key is the last line printed (shown once)."""
    with accounts() as service:
        key, secret = service.create_key(name, label)
    out.print(f"API key {key.id} for {key.user_name}{f' ({key.label})' if key.label else ''}. "
              "Store it now; it is not shown again:", highlight=False)
    print(secret)


@keys_app.command("list")
def list_keys(name: Optional[str] = typer.Argument(None, help="Only this account's keys."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List API keys (newest first): id, account, prefix, label, created, last used, revoked."""
    with accounts() as service:
        keys = service.list_keys(name)
    if as_json:
        print(json.dumps([k.to_dict() for k in keys], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(keys)} API key(s)")
    for col in ("id", "account", "prefix", "label", "created", "last used", "status"):
        table.add_column(col, overflow="fold")
    for k in keys:
        table.add_row(str(k.id), k.user_name, k.prefix + "…", k.label, _when(k.created_at), _when(k.last_used_at),
                      f"revoked {_when(k.revoked_at)}" if k.revoked else "active")
    out.print(table)


@keys_app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="The key's id (see 'masterhall keys list').")) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    with accounts() as service:
        key = service.revoke_key(key_id)
    out.print(f"Revoked key {key.id} ({key.prefix}…) of {key.user_name}.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` group to the ``masterhall`` app."""
    app.add_typer(keys_app, name="keys")
